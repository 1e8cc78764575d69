package jp.kiroku.render;

import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Property;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Range;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * One resource as XHTML, for any type: a summary line with Japanese labels for the common clinical types, then the
 * resource's own narrative (sanitised) when it has one, else every element it carries as an indented tree (coded values
 * with display and code, references as references, dates as written or to the minute).
 */
final class ResourceView {

    /** Japanese names of the common types; other types print under their FHIR name. */
    static final Map<String, String> TYPE_NAMES = Map.ofEntries(Map.entry("Patient", "患者"),
            Map.entry("Encounter", "受診・入院"), Map.entry("Condition", "病名・問題"),
            Map.entry("AllergyIntolerance", "アレルギー・副作用"), Map.entry("MedicationRequest", "処方・注射"),
            Map.entry("MedicationStatement", "服薬情報"), Map.entry("Observation", "検査・観察"),
            Map.entry("DiagnosticReport", "検査報告"), Map.entry("Procedure", "処置・手術"),
            Map.entry("Immunization", "予防接種"), Map.entry("ServiceRequest", "オーダー"),
            Map.entry("DocumentReference", "文書"), Map.entry("Composition", "文書 (構造化)"),
            Map.entry("CarePlan", "計画"), Map.entry("Consent", "同意"), Map.entry("Practitioner", "医療者"),
            Map.entry("Organization", "医療機関"), Map.entry("Location", "場所"));
    /** Elements a printout shows elsewhere (version, time) or not at all. */
    private static final Set<String> SKIPPED = Set.of("id", "meta", "text", "implicitRules");
    private static final int DEPTH = 12;
    /** Longer values (base64 data, say) are cut: a printout is for reading. */
    private static final int LONGEST = 2_000;

    private ResourceView() {
    }

    /** The type's name for people: "病名・問題 (Condition)". */
    static String typeName(String type) {
        String ja = TYPE_NAMES.get(type);
        return ja == null ? type : ja + " (" + type + ")";
    }

    /** A one-line summary of what the resource says, for the types that have an obvious one; "" otherwise. */
    static String summary(Resource r, ZoneId zone) {
        List<String> parts = new ArrayList<>();
        if (r instanceof org.hl7.fhir.r4.model.Patient p) {
            ChartPrint.Person who = FhirText.person(p.getIdElement().getIdPart(), p);
            parts.add(who.kanji() + (who.kana().isEmpty() ? "" : " (" + who.kana() + ")"));
            parts.add("生年月日 " + who.birthDate());
            parts.add("性別 " + who.sex());
        } else if (r instanceof Condition c) {
            parts.add(FhirText.concept(c.getCode()));
            parts.add(label("臨床状態", FhirText.concept(c.getClinicalStatus())));
            parts.add(label("発症", c.hasOnsetDateTimeType() ? FhirText.date(c.getOnsetDateTimeType(), zone) : ""));
        } else if (r instanceof AllergyIntolerance a) {
            parts.add(FhirText.concept(a.getCode()));
            parts.add(label("重篤度", a.hasCriticality() ? switch (a.getCriticality()) {
                case HIGH -> "高";
                case LOW -> "低";
                default -> "評価不能";
            } : ""));
            a.getReaction().forEach(x -> x.getManifestation().forEach(m -> parts.add(FhirText.concept(m))));
        } else if (r instanceof MedicationRequest m) {
            parts.add(m.getMedication() instanceof CodeableConcept cc ? FhirText.concept(cc)
                    : m.getMedication() instanceof Reference ref ? FhirText.who(ref) : "");
            m.getDosageInstruction().forEach(d -> parts.add(d.getText()));
            parts.add(label("状態", m.hasStatus() ? m.getStatus().toCode() : ""));
        } else if (r instanceof Observation o) {
            parts.add(FhirText.concept(o.getCode()));
            parts.add(FhirText.observationValue(o));
            o.getReferenceRange().forEach(rr -> parts.add(label("基準値", rr.hasText() ? rr.getText()
                    : FhirText.quantity(rr.getLow()) + " 〜 " + FhirText.quantity(rr.getHigh()))));
            parts.add(label("日時", o.hasEffectiveDateTimeType() ? FhirText.date(o.getEffectiveDateTimeType(), zone) : ""));
        } else if (r instanceof Encounter e) {
            parts.add(e.getClass_().hasDisplay() ? e.getClass_().getDisplay() : e.getClass_().getCode());
            parts.add(label("状態", e.hasStatus() ? e.getStatus().toCode() : ""));
            parts.add(label("期間", period(e.getPeriod(), zone)));
        } else if (r instanceof DocumentReference d) {
            parts.add(FhirText.concept(d.getType()));
            parts.add(d.getDescription());
            d.getContent().forEach(c -> parts.add(attachment(c.getAttachment())));
        } else if (r instanceof Composition c) {
            parts.add(c.getTitle());
            parts.add(FhirText.concept(c.getType()));
            parts.add(label("日付", FhirText.date(c.getDateElement(), zone)));
        }
        return String.join(" ／ ", parts.stream().filter(s -> s != null && !s.isBlank()).toList());
    }

    /** The body of one resource: its narrative when it has one, else its elements. */
    static void body(StringBuilder html, Resource r, ZoneId zone) {
        if (r instanceof DomainResource d && d.hasText() && d.getText().hasDiv()) {
            String narrative = Narratives.safe(d.getText().getDiv());
            if (!narrative.isBlank()) {
                html.append("<div class=\"narrative\">").append(narrative).append("</div>");
                return;
            }
        }
        elements(html, r, zone, 0);
    }

    /**
     * Every element with a value, one line each ("name: value"), a complex one as an indented block below its name: a
     * tree rather than nested tables, which reads as well on paper and lays out several times faster.
     */
    private static void elements(StringBuilder html, Base b, ZoneId zone, int depth) {
        html.append("<div class=\"el\">");
        boolean any = false;
        for (Property p : b.children()) {
            if (!p.hasValues() || (depth == 0 && SKIPPED.contains(p.getName())) || p.getName().equals("id")) {
                continue;
            }
            for (Base v : p.getValues()) {
                if (v == null || v.isEmpty()) {
                    continue;
                }
                any = true;
                html.append("<div><span class=\"k\">").append(Pdf.escape(p.getName().replace("[x]", ""))).append(":</span> ");
                String line = line(v, zone);
                if (line != null) {
                    html.append(Pdf.escape(line));
                } else if (depth >= DEPTH) {
                    html.append("…");
                } else {
                    elements(html, v, zone, depth + 1);
                }
                html.append("</div>");
            }
        }
        if (!any) {
            html.append("—");
        }
        html.append("</div>");
    }

    /** A data type as one line, or null when it is better shown as a block of its own elements. */
    private static String line(Base v, ZoneId zone) {
        if (v instanceof BaseDateTimeType t) {
            return FhirText.date(t, zone);
        }
        if (v.isPrimitive()) {
            String text = v.primitiveValue();
            return text != null && text.length() > LONGEST ? text.substring(0, LONGEST) + "…(" + text.length() + " 文字)" : text;
        }
        if (v instanceof Coding c) {
            return coding(c);
        }
        if (v instanceof CodeableConcept cc) {
            List<String> codes = cc.getCoding().stream().map(ResourceView::coding).toList();
            return (cc.hasText() ? cc.getText() + (codes.isEmpty() ? "" : " ") : "")
                    + (codes.isEmpty() ? "" : (cc.hasText() ? "(" : "") + String.join("; ", codes) + (cc.hasText() ? ")" : ""));
        }
        if (v instanceof Reference r) {
            String ref = r.hasReference() ? r.getReference() : r.hasIdentifier() ? identifier(r.getIdentifier()) : "";
            return r.hasDisplay() ? r.getDisplay() + (ref.isEmpty() ? "" : " (" + ref + ")") : ref;
        }
        if (v instanceof Quantity q) {
            return FhirText.quantity(q);
        }
        if (v instanceof Range r) {
            return FhirText.quantity(r.getLow()) + " 〜 " + FhirText.quantity(r.getHigh());
        }
        if (v instanceof Period p) {
            return period(p, zone);
        }
        if (v instanceof Identifier i) {
            return identifier(i);
        }
        if (v instanceof HumanName n) {
            return n.hasText() ? n.getText() : ((n.hasFamily() ? n.getFamily() : "") + " " + n.getGivenAsSingleString()).strip();
        }
        if (v instanceof Attachment a) {
            return attachment(a);
        }
        if (v instanceof Extension e && e.hasValue() && line(e.getValue(), zone) != null) {
            return e.getUrl() + ": " + line(e.getValue(), zone);
        }
        return null;
    }

    private static String coding(Coding c) {
        String code = (c.hasSystem() ? c.getSystem() + "|" : "") + (c.hasCode() ? c.getCode() : "");
        return c.hasDisplay() ? c.getDisplay() + (code.isEmpty() ? "" : " [" + code + "]") : code;
    }

    private static String identifier(Identifier i) {
        return (i.getType().hasText() ? i.getType().getText() + ": " : "") + (i.hasValue() ? i.getValue() : "")
                + (i.hasSystem() ? " (" + i.getSystem() + ")" : "");
    }

    private static String period(Period p, ZoneId zone) {
        if (p == null || p.isEmpty()) {
            return "";
        }
        return FhirText.date(p.getStartElement(), zone) + " 〜 " + FhirText.date(p.getEndElement(), zone);
    }

    /** An attachment by what it is, never its data (a printout names a file; it does not dump it). */
    private static String attachment(Attachment a) {
        return String.join(" ", List.of(a.hasTitle() ? a.getTitle() : "添付", a.hasContentType() ? a.getContentType() : "",
                a.hasUrl() ? a.getUrl() : "", a.hasData() ? "(" + a.getData().length + " バイト)" : "").stream()
                .filter(s -> !s.isEmpty()).toList());
    }

    private static String label(String name, String value) {
        return value == null || value.isBlank() ? "" : name + " " + value;
    }
}
