package jp.kiroku.web;

import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Date;
import java.util.List;

import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Type;

/** How FHIR values read on a page: names in kanji and kana (JP Core), codes by their words, times in the local zone. */
final class Display {

    /** JP Core marks a name's writing: IDE = ideographic (kanji), SYL = syllabic (kana). */
    private static final String REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
    private static final DateTimeFormatter MINUTE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm");

    private final ZoneId zone;

    Display(ZoneId zone) {
        this.zone = zone;
    }

    /** The name as written in kanji (or the only name there is). */
    static String name(Patient p) {
        return p.getName().stream().filter(n -> !"SYL".equals(representation(n))).findFirst()
                .or(() -> p.getName().stream().findFirst()).map(Display::text).orElse("");
    }

    /** The name in kana, when JP Core's syllabic representation is given. */
    static String kana(Patient p) {
        return p.getName().stream().filter(n -> "SYL".equals(representation(n))).findFirst().map(Display::text).orElse("");
    }

    private static String representation(HumanName n) {
        var e = n.getExtensionByUrl(REPRESENTATION);
        return e == null ? null : e.getValue().primitiveValue();
    }

    private static String text(HumanName n) {
        if (n.hasText()) {
            return n.getText();
        }
        String given = String.join(" ", n.getGiven().stream().map(g -> g.getValue()).toList());
        return (n.getFamily() == null ? "" : n.getFamily()) + (given.isEmpty() ? "" : " " + given);
    }

    /** The patient an entry is about (its subject or patient reference), or null. */
    static String patientOf(org.hl7.fhir.r4.model.Resource r, ca.uhn.fhir.context.FhirContext ctx) {
        var definition = ctx.getResourceDefinition(r);
        for (String element : List.of("subject", "patient")) {
            var child = definition.getChildByName(element);
            if (child == null) {
                continue;
            }
            for (var value : child.getAccessor().getValues(r)) {
                if (value instanceof org.hl7.fhir.r4.model.Reference ref && ref.getReference() != null
                        && ref.getReference().startsWith("Patient/")) {
                    return ref.getReferenceElement().getIdPart();
                }
            }
        }
        return null;
    }

    /** A concept's words: its text, else the first coding's display, else its code. */
    static String concept(CodeableConcept c) {
        if (c == null || c.isEmpty()) {
            return "";
        }
        if (c.hasText()) {
            return c.getText();
        }
        return c.getCoding().stream().map(Display::coding).filter(s -> !s.isEmpty()).findFirst().orElse("");
    }

    static String concepts(List<CodeableConcept> cs) {
        return String.join(", ", cs.stream().map(Display::concept).filter(s -> !s.isEmpty()).toList());
    }

    static String coding(Coding c) {
        return c.hasDisplay() ? c.getDisplay() : c.hasCode() ? c.getCode() : "";
    }

    static String quantity(Quantity q) {
        return q.getValue() == null ? "" : q.getValue().stripTrailingZeros().toPlainString()
                + (q.hasUnit() ? " " + q.getUnit() : q.hasCode() ? " " + q.getCode() : "");
    }

    /** A date or time as precise as it was recorded; times in the institution's zone, to the minute. */
    String when(Type t) {
        if (t instanceof BaseDateTimeType d && d.getValue() != null) {
            return switch (d.getPrecision()) {
                case YEAR, MONTH, DAY -> d.getValueAsString();
                default -> MINUTE.format(d.getValue().toInstant().atZone(zone));
            };
        }
        if (t instanceof Period p) {
            String start = when(p.getStartElement());
            String end = when(p.getEndElement());
            return end.isEmpty() ? start : start + " – " + end;
        }
        return t == null ? "" : String.valueOf(t.primitiveValue() == null ? "" : t.primitiveValue());
    }

    String when(Date d) {
        return d == null ? "" : MINUTE.format(d.toInstant().atZone(zone));
    }

    String when(java.time.Instant i) {
        return i == null ? "" : MINUTE.format(i.atZone(zone));
    }
}
