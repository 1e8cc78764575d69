package jp.kiroku.web;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.ClinicalImpression;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.MedicationStatement;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Resource;

import jp.kiroku.store.RecordStore;

/**
 * A patient's chart as the page shows it (issue 11, item 1): the encounters as a timeline, problems, allergies,
 * medications, laboratory results as a table and plotted over time, notes and documents; every item with its record
 * status (draft, confirmed, unapproved proxy entry), its author, its confirmer and their times. Made from what the
 * person may see (the caller's chart read) and the authorship of those versions.
 */
record Chart(Header patient, List<Item> encounters, List<Item> problems, List<Item> allergies, List<Item> medications,
             Labs labs, List<Item> documents, Map<String, Integer> others) {

    /** Who the chart is about, as on a wristband. */
    record Header(String id, String name, String kana, String birthDate, String gender, List<String> identifiers) {
    }

    /** One entry: what it says, when, and whose it is. */
    record Item(String ref, int version, String title, String detail, String when, String status, boolean undisclosed,
                String author, String onBehalfOf, String confirmer, String confirmedAt, String updated) {
        public String type() {
            return ref.substring(0, ref.indexOf('/'));
        }

        public String id() {
            return ref.substring(ref.indexOf('/') + 1);
        }
    }

    /** Laboratory results: one row per test, one column per time (newest first), and a plot per numeric test. */
    record Labs(List<String> times, List<LabRow> rows) {
        public boolean isEmpty() {
            return rows.isEmpty();
        }
    }

    record LabRow(String test, String unit, String range, List<String> values, String plot) {
    }

    /** Record status tag Kiroku sets (confirmed / unapproved); without one an entry is a draft. */
    static final String STATUS_SYSTEM = "http://kiroku.jp/fhir/CodeSystem/record-status";
    /** JP-CLINS: not yet told to the patient. */
    private static final String INDICATION = "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication";
    /** Columns of the results table: the newest times. */
    static final int LAB_TIMES = 8;

    /** Builds the chart of {@code resources} (the patient's, current versions) with the versions' authorship. */
    static Chart of(List<Resource> resources, Map<RecordStore.VersionKey, RecordStore.Authored> authored,
                    Function<String, String> personName, Display show) {
        Header header = null;
        Map<String, List<Item>> sections = new LinkedHashMap<>();
        List<Observation> results = new ArrayList<>();
        Map<String, Integer> others = new TreeMap<>();
        Items items = new Items(authored, personName, show);
        for (Resource r : resources) {
            if (r instanceof Patient p) {
                header = header != null ? header : new Header(p.getIdElement().getIdPart(), Display.name(p),
                        Display.kana(p), p.hasBirthDate() ? p.getBirthDateElement().getValueAsString() : "",
                        p.hasGender() ? p.getGender().toCode() : "", p.getIdentifier().stream()
                        .map(i -> i.getValue()).filter(v -> v != null).toList());
            } else if (r instanceof Observation o && o.hasValueQuantity()) {
                results.add(o);
            } else if (section(r) != null) {
                sections.computeIfAbsent(section(r), k -> new ArrayList<>()).add(items.describe(r));
            } else {
                others.merge(r.fhirType(), 1, Integer::sum);
            }
        }
        Comparator<Item> newestFirst = Comparator.comparing(Item::when).reversed();
        sections.values().forEach(l -> l.sort(newestFirst));
        return new Chart(header, sections.getOrDefault("encounters", List.of()), sections.getOrDefault("problems", List.of()),
                sections.getOrDefault("allergies", List.of()), sections.getOrDefault("medications", List.of()),
                labs(results, show), sections.getOrDefault("documents", List.of()), others);
    }

    /** The section an entry of this type belongs to, or null for the others. */
    private static String section(Resource r) {
        return switch (r.fhirType()) {
            case "Encounter" -> "encounters";
            case "Condition" -> "problems";
            case "AllergyIntolerance" -> "allergies";
            case "MedicationRequest", "MedicationStatement" -> "medications";
            case "Observation", "DocumentReference", "Composition", "DiagnosticReport", "ClinicalImpression" -> "documents";
            default -> null;
        };
    }

    /**
     * Which version a resource read is: its meta.versionId, or (a deleted version in a history, which has no body)
     * the version in its id.
     */
    static RecordStore.VersionKey versionKey(Resource r) {
        String version = r.getMeta().hasVersionId() ? r.getMeta().getVersionId() : r.getIdElement().getVersionIdPart();
        return new RecordStore.VersionKey(r.fhirType(), r.getIdElement().getIdPart(), Integer.parseInt(version));
    }

    /** The versions of resources read, to ask who entered and confirmed them. */
    static List<RecordStore.VersionKey> versionKeys(List<Resource> resources) {
        return resources.stream().map(Chart::versionKey).toList();
    }

    /** One entry described for a list of entries from several patients and types (a worklist). */
    static Item entry(Resource r, Map<RecordStore.VersionKey, RecordStore.Authored> authored,
                      Function<String, String> personName, Display show) {
        return new Items(authored, personName, show).describe(r);
    }

    private static String dosage(List<org.hl7.fhir.r4.model.Dosage> dosages) {
        String text = String.join(" ", dosages.stream().map(d -> d.getText()).filter(t -> t != null).toList());
        return text.isEmpty() ? "" : " / " + text;
    }

    /** One row per test (code + unit), its values by time, newest first; a plot when it has two values or more. */
    private static Labs labs(List<Observation> results, Display show) {
        Map<String, List<Observation>> byTest = new LinkedHashMap<>();
        List<String> allTimes = new ArrayList<>();
        for (Observation o : results) {
            String when = show.when(o.getEffective());
            byTest.computeIfAbsent(Display.concept(o.getCode()) + "\u0000" + unit(o.getValueQuantity()), k -> new ArrayList<>())
                    .add(o);
            if (!allTimes.contains(when)) {
                allTimes.add(when);
            }
        }
        allTimes.sort(Comparator.reverseOrder());
        List<String> times = allTimes.subList(0, Math.min(LAB_TIMES, allTimes.size()));
        List<LabRow> rows = new ArrayList<>();
        for (var e : byTest.entrySet()) {
            String[] test = e.getKey().split("\u0000", -1);
            Map<String, String> valueAt = new LinkedHashMap<>();
            List<Plots.Point> points = new ArrayList<>();
            for (Observation o : e.getValue()) {
                String when = show.when(o.getEffective());
                valueAt.put(when, Display.quantity(o.getValueQuantity()) + flag(o));
                BigDecimal v = o.getValueQuantity().getValue();
                if (v != null) {
                    points.add(new Plots.Point(when, v.doubleValue()));
                }
            }
            Observation any = e.getValue().get(0);
            String range = any.getReferenceRange().isEmpty() ? "" : range(any.getReferenceRangeFirstRep());
            rows.add(new LabRow(test[0], test[1], range, times.stream().map(t -> valueAt.getOrDefault(t, "")).toList(),
                    points.size() >= 2 ? Plots.line(points, any.getReferenceRange().isEmpty() ? null
                            : any.getReferenceRangeFirstRep()) : null));
        }
        rows.sort(Comparator.comparing(LabRow::test));
        return new Labs(times, rows);
    }

    private static String unit(Quantity q) {
        return q.hasUnit() ? q.getUnit() : q.hasCode() ? q.getCode() : "";
    }

    private static String flag(Observation o) {
        return o.getInterpretation().stream().flatMap(c -> c.getCoding().stream()).map(Coding::getCode)
                .filter(c -> c != null && (c.startsWith("H") || c.startsWith("L") || c.equals("A"))).findFirst()
                .map(c -> " " + c).orElse("");
    }

    private static String range(Observation.ObservationReferenceRangeComponent r) {
        if (r.hasText()) {
            return r.getText();
        }
        String low = r.hasLow() ? r.getLow().getValue().stripTrailingZeros().toPlainString() : "";
        String high = r.hasHigh() ? r.getHigh().getValue().stripTrailingZeros().toPlainString() : "";
        return low + "–" + high;
    }

    /** Makes items: the resource's words plus its version's status and people. */
    private record Items(Map<RecordStore.VersionKey, RecordStore.Authored> authored, Function<String, String> personName,
                         Display show) {

        /** What an entry says, in words, by its type; other types by their type and id. */
        Item describe(Resource r) {
            if (r instanceof Encounter e) {
                String type = Display.concepts(e.getType());
                return of(e, type.isEmpty() ? Display.coding(e.getClass_()) : type,
                        Display.coding(e.getClass_()) + " / " + e.getStatus().toCode(), show.when(e.getPeriod()));
            } else if (r instanceof Condition c) {
                return of(c, Display.concept(c.getCode()), Display.concept(c.getClinicalStatus())
                                + (c.hasVerificationStatus() ? " / " + Display.concept(c.getVerificationStatus()) : ""),
                        c.hasOnset() ? show.when(c.getOnset()) : show.when(c.getRecordedDateElement()));
            } else if (r instanceof AllergyIntolerance a) {
                return of(a, Display.concept(a.getCode()), String.join(", ", a.getReaction().stream()
                                .map(x -> Display.concepts(x.getManifestation())).toList())
                                + (a.hasCriticality() ? " (" + a.getCriticality().toCode() + ")" : ""),
                        show.when(a.getRecordedDateElement()));
            } else if (r instanceof MedicationRequest m) {
                return of(m, m.hasMedicationCodeableConcept()
                                ? Display.concept(m.getMedicationCodeableConcept()) : m.getMedication().primitiveValue(),
                        m.getStatus().toCode() + dosage(m.getDosageInstruction()), show.when(m.getAuthoredOnElement()));
            } else if (r instanceof MedicationStatement m) {
                return of(m, m.hasMedicationCodeableConcept() ? Display.concept(m.getMedicationCodeableConcept()) : "",
                        m.getStatus().toCode() + dosage(m.getDosage()), show.when(m.getEffective()));
            } else if (r instanceof Observation o) {
                return of(o, Display.concept(o.getCode()), o.hasValueQuantity() ? Display.quantity(o.getValueQuantity())
                        : o.getValue() == null ? "" : String.valueOf(o.getValue().primitiveValue()), show.when(o.getEffective()));
            } else if (r instanceof DocumentReference d) {
                return of(d, Display.concept(d.getType()), d.getDescription(), show.when(d.getDateElement()));
            } else if (r instanceof Composition c) {
                return of(c, c.getTitle(), Display.concept(c.getType()), show.when(c.getDateElement()));
            } else if (r instanceof DiagnosticReport d) {
                return of(d, Display.concept(d.getCode()), d.getConclusion(), show.when(d.getEffective()));
            } else if (r instanceof ClinicalImpression c) {
                return of(c, c.getDescription() == null ? "診療記録" : c.getDescription(), c.getSummary(),
                        show.when(c.getEffective()));
            }
            return of(r, r.fhirType() + "/" + r.getIdElement().getIdPart(), "", show.when(r.getMeta().getLastUpdated()));
        }

        Item of(Resource r, String title, String detail, String when) {
            RecordStore.VersionKey key = versionKey(r);
            String id = key.id();
            int version = key.versionId();
            RecordStore.Authored a = authored.get(key);
            String status = r.getMeta().getTag().stream().filter(t -> STATUS_SYSTEM.equals(t.getSystem()))
                    .map(Coding::getCode).findFirst().orElse("draft");
            boolean undisclosed = java.util.stream.Stream.concat(r.getMeta().getSecurity().stream(),
                    r.getMeta().getTag().stream()).anyMatch(c -> INDICATION.equals(c.getSystem())
                    && "UNINFORMED".equals(c.getCode()));
            return new Item(r.fhirType() + "/" + id, version, title == null ? "" : title, detail == null ? "" : detail,
                    when, status, undisclosed, a == null ? "" : who(a.authorKind(), a.authorId()),
                    a == null || a.onBehalfOf() == null ? "" : personName.apply(a.onBehalfOf()),
                    a == null || a.confirmedBy() == null ? "" : personName.apply(a.confirmedBy()),
                    a == null ? "" : show.when(a.confirmedAt()), show.when(r.getMeta().getLastUpdated()));
        }

        private String who(String kind, String id) {
            return "user".equals(kind) ? personName.apply(id) : id;
        }
    }
}
