package jp.kiroku.incidents;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Location;
import org.hl7.fhir.r4.model.Medication;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.MedicationStatement;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.Type;
import org.springframework.stereotype.Component;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import jp.kiroku.render.ChartPrint;
import jp.kiroku.render.FhirText;
import jp.kiroku.search.Query;
import jp.kiroku.search.SearchIndex;
import jp.kiroku.store.Placement;
import jp.kiroku.store.RecordStore;
import jp.kiroku.store.ResourceKey;
import jp.kiroku.store.StoredVersion;

/**
 * Reads what an emergency summary shows from the record store (bodies opened by the store, never read as SQL) through
 * the search index: a patient's current allergies, active medications, active problems and newest results, and a
 * ward's current inpatients.
 */
@Component
class SummaryReader {

    /** How many results a summary lists, newest first (the date is printed; older ones are in the full chart). */
    static final int RESULTS = 20;
    /** More than any patient's allergies, medications or problems, or a hospital's inpatient encounters. */
    private static final int MANY = 2_000;
    private static final String UNINFORMED_CATEGORY = "undisclosed";
    private static final Set<String> INPATIENT_CLASSES = Set.of("IMP", "ACUTE", "NONAC");

    private final SearchIndex search;
    private final RecordStore store;
    private final FhirContext ctx;
    private final Clock clock;
    private final ZoneId zone;

    SummaryReader(SearchIndex search, RecordStore store, FhirContext ctx, Clock clock,
                  jp.kiroku.platform.KirokuProperties props) {
        this.search = search;
        this.store = store;
        this.ctx = ctx;
        this.clock = clock;
        this.zone = props.getTimeZone();
    }

    /** A current resource, parsed, with where it belongs. */
    record Current<T extends Resource>(T resource, StoredVersion version, Placement placement) {
    }

    /** One current inpatient: the patient, and the bed (or room or ward) the encounter names. */
    record Inpatient(String patientId, String bed) {
    }

    /** The summary of one patient, or empty when there is no such (current) patient. */
    Optional<Summary> summary(String patientId, String bed) {
        Optional<Current<Patient>> patient = current(new ResourceKey("Patient", patientId), Patient.class);
        if (patient.isEmpty()) {
            return Optional.empty();
        }
        List<Summary.Item> allergies = new ArrayList<>();
        for (Current<AllergyIntolerance> a : compartment(patientId, "AllergyIntolerance", AllergyIntolerance.class, Map.of(), MANY)) {
            AllergyIntolerance r = a.resource();
            if (statusIs(r.getClinicalStatus(), true, "active") && !statusIs(r.getVerificationStatus(), false,
                    "entered-in-error", "refuted")) {
                List<String> detail = new ArrayList<>();
                if (r.hasCriticality()) {
                    detail.add("重篤度 " + switch (r.getCriticality()) {
                        case HIGH -> "高";
                        case LOW -> "低";
                        default -> "評価不能";
                    });
                }
                r.getReaction().forEach(x -> x.getManifestation().forEach(m -> detail.add(text(m))));
                allergies.add(item(a, text(r.getCode()), String.join(", ", detail),
                        date(r.hasRecordedDate() ? r.getRecordedDateElement() : null), FhirText.who(r.getRecorder(), r.getAsserter())));
            }
        }
        List<Summary.Item> medications = new ArrayList<>();
        for (Current<MedicationRequest> m : compartment(patientId, "MedicationRequest", MedicationRequest.class, Map.of(), MANY)) {
            MedicationRequest r = m.resource();
            if (r.getStatus() == MedicationRequest.MedicationRequestStatus.ACTIVE) {
                medications.add(item(m, medication(r.getMedication()), String.join(", ", r.getDosageInstruction().stream()
                        .map(d -> d.getText()).filter(t -> t != null && !t.isBlank()).toList()),
                        date(r.getAuthoredOnElement()), FhirText.who(r.getRequester())));
            }
        }
        for (Current<MedicationStatement> m : compartment(patientId, "MedicationStatement", MedicationStatement.class, Map.of(), MANY)) {
            MedicationStatement r = m.resource();
            if (r.getStatus() == MedicationStatement.MedicationStatementStatus.ACTIVE) {
                medications.add(item(m, medication(r.getMedication()), String.join(", ", r.getDosage().stream()
                        .map(d -> d.getText()).filter(t -> t != null && !t.isBlank()).toList()),
                        date(r.hasDateAsserted() ? r.getDateAssertedElement() : null), FhirText.who(r.getInformationSource())));
            }
        }
        List<Summary.Item> problems = new ArrayList<>();
        for (Current<Condition> c : compartment(patientId, "Condition", Condition.class, Map.of(), MANY)) {
            Condition r = c.resource();
            if (statusIs(r.getClinicalStatus(), true, "active", "recurrence", "relapse")
                    && !statusIs(r.getVerificationStatus(), false, "entered-in-error", "refuted")) {
                problems.add(item(c, text(r.getCode()), r.hasSeverity() ? text(r.getSeverity()) : "",
                        date(r.hasOnsetDateTimeType() ? r.getOnsetDateTimeType() : r.hasRecordedDate() ? r.getRecordedDateElement() : null),
                        FhirText.who(r.getRecorder(), r.getAsserter())));
            }
        }
        List<Summary.Item> results = new ArrayList<>();
        for (Current<Observation> o : compartment(patientId, "Observation", Observation.class, Map.of("_sort", List.of("-date")), RESULTS * 5)) {
            Observation r = o.resource();
            Observation.ObservationStatus s = r.getStatus();
            if (s == Observation.ObservationStatus.ENTEREDINERROR || s == Observation.ObservationStatus.CANCELLED) {
                continue;
            }
            results.add(item(o, text(r.getCode()), FhirText.observationValue(r),
                    date(r.hasEffectiveDateTimeType() ? r.getEffectiveDateTimeType() : r.hasIssued() ? r.getIssuedElement() : null),
                    FhirText.who(r.getPerformer().toArray(Reference[]::new))));
            if (results.size() == RESULTS) {
                break;
            }
        }
        if (bed == null) { // a single patient's summary: where they lie now, if they are an inpatient
            bed = compartment(patientId, "Encounter", Encounter.class, Map.of("status", List.of("in-progress")), MANY).stream()
                    .map(e -> bed(e.resource(), null)).flatMap(Optional::stream).findFirst().orElse("");
        }
        Patient p = patient.get().resource();
        return Optional.of(new Summary(identity(patientId, patient.get().version().versionId(), p), bed,
                allergies, medications, problems, results));
    }

    /** The current inpatients of a ward (its rooms and beds included), or of the whole facility for {@code ward} null. */
    List<Inpatient> inpatients(String ward) {
        Set<String> locations = ward == null ? null : wardLocations(ward);
        Map<String, List<String>> params = new LinkedHashMap<>();
        params.put("status", List.of("in-progress"));
        params.put("class", List.of(String.join(",", INPATIENT_CLASSES)));
        if (locations != null) {
            params.put("location", List.of(String.join(",", locations.stream().map(l -> "Location/" + l).toList())));
        }
        Map<String, Inpatient> out = new LinkedHashMap<>();
        for (Current<Encounter> c : search("Encounter", Encounter.class, params, null, MANY)) {
            Encounter e = c.resource();
            bed(e, locations).ifPresent(bed -> out.putIfAbsent(e.getSubject().getReferenceElement().getIdPart(),
                    new Inpatient(e.getSubject().getReferenceElement().getIdPart(), bed)));
        }
        return out.values().stream().sorted(Comparator.comparing(Inpatient::bed).thenComparing(Inpatient::patientId)).toList();
    }

    /**
     * Where an inpatient encounter in progress has its patient now — the name of its active location among
     * {@code locations} (any, for null) — or empty when it is not such an encounter.
     */
    private Optional<String> bed(Encounter e, Set<String> locations) {
        if (e.getStatus() != Encounter.EncounterStatus.INPROGRESS || !INPATIENT_CLASSES.contains(e.getClass_().getCode())
                || !"Patient".equals(e.getSubject().getReferenceElement().getResourceType())) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        Optional<String> bed = Optional.empty();
        for (Encounter.EncounterLocationComponent l : e.getLocation()) {
            boolean here = l.getStatus() == null || l.getStatus() == Encounter.EncounterLocationStatus.ACTIVE;
            boolean current = !l.hasPeriod() || !l.getPeriod().hasEnd() || l.getPeriod().getEnd().toInstant().isAfter(now);
            var ref = l.getLocation().getReferenceElement();
            if (here && current && "Location".equals(ref.getResourceType()) && (locations == null || locations.contains(ref.getIdPart()))) {
                bed = Optional.of(l.getLocation().hasDisplay() ? l.getLocation().getDisplay() : locationName(ref.getIdPart())
                        .orElse("Location/" + ref.getIdPart()));
            }
        }
        return bed;
    }

    /** A location's name (a ward's, a room's), or empty when there is no such (current) Location. */
    Optional<String> locationName(String ward) {
        return current(new ResourceKey("Location", ward), Location.class)
                .map(l -> l.resource().hasName() ? l.resource().getName() : "Location/" + ward);
    }

    /** The ward and every location inside it (rooms, beds: Location.partOf), a few levels down. */
    private Set<String> wardLocations(String ward) {
        Set<String> all = new LinkedHashSet<>(List.of(ward));
        Set<String> level = Set.of(ward);
        for (int depth = 0; depth < 4 && !level.isEmpty(); depth++) {
            Query q = search.query("Location", Map.of("partof", List.of(String.join(",",
                    level.stream().map(l -> "Location/" + l).toList()))), true, null);
            level = new LinkedHashSet<>(search.keys(q, 0, MANY).stream().map(ResourceKey::id).filter(all::add).toList());
        }
        return all;
    }

    /** The patient's current resources of one type (its compartment), in the search's order, at most {@code limit}. */
    private <T extends Resource> List<Current<T>> compartment(String patientId, String type, Class<T> cls,
                                                             Map<String, List<String>> params, int limit) {
        return search(type, cls, params, new SearchIndex.Compartment("Patient", patientId), limit);
    }

    private <T extends Resource> List<Current<T>> search(String type, Class<T> cls, Map<String, List<String>> params,
                                                         SearchIndex.Compartment compartment, int limit) {
        List<ResourceKey> keys = search.keys(search.query(type, params, true, compartment), 0, limit);
        Map<ResourceKey, Placement> placements = store.placements(keys);
        IParser parser = ctx.newJsonParser();
        List<Current<T>> out = new ArrayList<>();
        for (StoredVersion v : store.currentAll(keys)) {
            if (!v.deleted() && v.body() != null) {
                out.add(new Current<>(parser.parseResource(cls, new String(v.body(), StandardCharsets.UTF_8)), v,
                        placements.get(new ResourceKey(v.type(), v.id()))));
            }
        }
        return out;
    }

    private <T extends Resource> Optional<Current<T>> current(ResourceKey key, Class<T> cls) {
        return store.currentPlaced(key).filter(p -> !p.version().deleted() && p.version().body() != null)
                .map(p -> new Current<>(ctx.newJsonParser().parseResource(cls,
                        new String(p.version().body(), StandardCharsets.UTF_8)), p.version(), p.placement()));
    }

    /** An item, flagged and attributed: the resource's own author and date, else who stored the version and when. */
    private Summary.Item item(Current<?> c, String what, String detail, String when, String by) {
        List<String> flags = new ArrayList<>();
        if (c.placement() != null && UNINFORMED_CATEGORY.equals(c.placement().category())) {
            flags.add("未告知: 患者本人へ説明しないこと");
        }
        if (c.placement() != null && c.placement().unapproved()) {
            flags.add("未承認の代行入力");
        }
        StoredVersion v = c.version();
        if (by.isEmpty()) {
            by = store.authored(new ResourceKey(v.type(), v.id()), v.versionId())
                    .map(a -> a.authorId() + (a.onBehalfOf() == null ? "" : " (" + a.onBehalfOf() + " の代行)")).orElse("");
        }
        return new Summary.Item(what.isEmpty() ? "(コードなし)" : what, detail, when.isEmpty() ? day(v.lastUpdated()) : when,
                by, flags, v.type(), v.id(), v.versionId());
    }

    private String day(Instant t) {
        return t.atZone(zone).toLocalDate().toString();
    }

    private static Summary.Identity identity(String id, int version, Patient p) {
        ChartPrint.Person who = FhirText.person(id, p);
        return new Summary.Identity(id, version, who.kanji(), who.kana(), who.birthDate(), who.sex(), who.identifiers());
    }

    /** Whether a status concept has one of these codes; {@code ifAbsent} when it has none. */
    private static boolean statusIs(CodeableConcept status, boolean ifAbsent, String... codes) {
        if (status == null || status.getCoding().isEmpty()) {
            return ifAbsent;
        }
        return status.getCoding().stream().map(Coding::getCode).anyMatch(List.of(codes)::contains);
    }

    private String medication(Type medication) {
        if (medication instanceof CodeableConcept cc) {
            return text(cc);
        }
        if (medication instanceof Reference ref) {
            if (ref.hasDisplay()) {
                return ref.getDisplay();
            }
            var id = ref.getReferenceElement();
            if ("Medication".equals(id.getResourceType()) && id.hasIdPart() && !id.isAbsolute()) {
                return current(new ResourceKey("Medication", id.getIdPart()), Medication.class)
                        .map(m -> text(m.resource().getCode())).orElse(ref.getReference());
            }
            return ref.getReference() == null ? "" : ref.getReference();
        }
        return "";
    }

    private static String text(CodeableConcept cc) {
        return FhirText.concept(cc);
    }

    private String date(BaseDateTimeType t) {
        return FhirText.date(t, zone);
    }
}
