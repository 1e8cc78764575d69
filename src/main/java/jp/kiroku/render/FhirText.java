package jp.kiroku.render;

import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;

import ca.uhn.fhir.model.api.TemporalPrecisionEnum;

/**
 * FHIR values as people read them on paper, Japanese first: concepts by their text, dates as written or to the minute
 * in the hospital's time zone, a Japanese patient's names (kanji and kana, JP Core's name representation extension).
 * Shared by every printout (charts, emergency summaries).
 */
public final class FhirText {

    private static final String REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
    private static final DateTimeFormatter MINUTE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm");

    private FhirText() {
    }

    /** What a concept says for people: its text, else its first display, else its first code. */
    public static String concept(CodeableConcept cc) {
        if (cc == null) {
            return "";
        }
        if (cc.hasText()) {
            return cc.getText();
        }
        for (Coding c : cc.getCoding()) {
            if (c.hasDisplay()) {
                return c.getDisplay();
            }
        }
        return cc.getCoding().stream().map(Coding::getCode).filter(Objects::nonNull).findFirst().orElse("");
    }

    /** A date as written (year, month or day precision), a time in {@code zone} to the minute; "" for none. */
    public static String date(BaseDateTimeType t, ZoneId zone) {
        if (t == null || t.isEmpty() || t.getValue() == null) {
            return "";
        }
        if (t.getPrecision().ordinal() <= TemporalPrecisionEnum.DAY.ordinal()) {
            return t.getValueAsString();
        }
        return MINUTE.format(t.getValue().toInstant().atZone(zone));
    }

    /** A quantity as "5.8 mmol/L" (the unit, else its code). */
    public static String quantity(Quantity q) {
        if (q == null || !q.hasValue()) {
            return "";
        }
        return (q.hasComparator() ? q.getComparator().toCode() : "") + q.getValue().toPlainString()
                + (q.hasUnit() ? " " + q.getUnit() : q.hasCode() ? " " + q.getCode() : "");
    }

    /** An observation's value (or its components' values), with its interpretation in brackets. */
    public static String observationValue(Observation o) {
        String v;
        if (o.hasValueQuantity()) {
            v = quantity(o.getValueQuantity());
        } else if (o.hasValueCodeableConcept()) {
            v = concept(o.getValueCodeableConcept());
        } else if (o.hasValue() && o.getValue().isPrimitive()) {
            v = o.getValue().primitiveValue();
        } else {
            v = String.join(", ", o.getComponent().stream().map(c -> concept(c.getCode()) + " " + (c.hasValueQuantity()
                    ? quantity(c.getValueQuantity()) : c.hasValue() && c.getValue().isPrimitive() ? c.getValue().primitiveValue()
                    : "")).toList());
        }
        if (o.hasInterpretation()) {
            v += " [" + String.join(", ", o.getInterpretation().stream().map(FhirText::concept).toList()) + "]";
        }
        return v;
    }

    /** The first reference given, as a name (its display) or as the reference itself. */
    public static String who(Reference... refs) {
        for (Reference r : refs) {
            if (r != null && (r.hasDisplay() || r.hasReference())) {
                return r.hasDisplay() ? r.getDisplay() : r.getReference();
            }
        }
        return "";
    }

    /**
     * Who a patient is, as printed at the top of every page of theirs: names in kanji and kana (JP Core marks the kana
     * name with the representation code SYL), birth date, sex in Japanese, identifiers ("type: value").
     */
    public static ChartPrint.Person person(String id, Patient p) {
        String kanji = "";
        String kana = "";
        for (HumanName n : p.getName()) {
            Extension rep = n.getExtensionByUrl(REPRESENTATION);
            String code = rep == null || rep.getValue() == null ? "" : rep.getValue().primitiveValue();
            String full = n.hasText() ? n.getText() : (n.getFamily() == null ? "" : n.getFamily()) + " " + n.getGivenAsSingleString();
            if ("SYL".equals(code)) {
                kana = kana.isEmpty() ? full.strip() : kana;
            } else if (kanji.isEmpty()) {
                kanji = full.strip();
            }
        }
        String sex = switch (p.hasGender() ? p.getGender().toCode() : "") {
            case "male" -> "男";
            case "female" -> "女";
            case "other" -> "その他";
            default -> "不明";
        };
        List<String> identifiers = new ArrayList<>();
        p.getIdentifier().stream().filter(i -> i.hasValue())
                .forEach(i -> identifiers.add((i.getType().hasText() ? i.getType().getText() + ": " : "") + i.getValue()));
        return new ChartPrint.Person(id, kanji.isEmpty() ? "(氏名なし)" : kanji, kana,
                p.hasBirthDate() ? p.getBirthDateElement().getValueAsString() : "不明", sex, identifiers);
    }
}
