package jp.kiroku.exchange;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import org.hl7.fhir.r4.model.Address;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Dosage;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Specimen;
import org.hl7.fhir.r4.model.StringType;

import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.AbstractMessage;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.model.Varies;
import ca.uhn.hl7v2.model.v25.datatype.CWE;
import ca.uhn.hl7v2.model.v25.datatype.NM;
import ca.uhn.hl7v2.model.v25.datatype.ST;
import ca.uhn.hl7v2.model.v25.group.OUL_R22_ORDER;
import ca.uhn.hl7v2.model.v25.group.OUL_R22_SPECIMEN;
import ca.uhn.hl7v2.model.v25.group.RDE_O11_ORDER;
import ca.uhn.hl7v2.model.v25.message.ADT_A01;
import ca.uhn.hl7v2.model.v25.message.OUL_R22;
import ca.uhn.hl7v2.model.v25.message.PPR_PC1;
import ca.uhn.hl7v2.model.v25.message.RDE_O11;
import ca.uhn.hl7v2.model.v25.segment.MSH;
import ca.uhn.hl7v2.model.v25.segment.OBX;
import ca.uhn.hl7v2.model.v25.segment.PID;
import ca.uhn.hl7v2.parser.PipeParser;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;

/**
 * JP Core resources to SS-MIX2 (JAHIS HL7 v2.5) messages, the inverse of {@link Ssmix2Mapper}: built with HAPI's v2.5
 * message classes (ADT_A01 for ADT^A08, PPR_PC1 for PPR^ZD1, RDE_O11, OUL_R22) and encoded by HAPI's pipe parser, so
 * delimiters in values are escaped; segments are separated by CR.
 */
final class Ssmix2Writer {

    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("yyyyMMddHHmmss");
    private static final DateTimeFormatter MINUTES = DateTimeFormatter.ofPattern("yyyyMMddHHmm");
    /** FHIR system to the HL7 coding system name SS-MIX2 uses (the first name where the mapper accepts several). */
    private static final Map<String, String> NAMES = Map.of(
            CodeSystems.JLAC10, "JC10",
            "urn:oid:1.2.392.200119.4.403.1", "HOT",
            "urn:oid:1.2.392.200119.4.403.2", "HOT7",
            "urn:oid:1.2.392.200119.4.402.1", "HOT13",
            "http://medis.or.jp/CodeSystem/master-disease-exCode", "MDCDX2",
            "http://hl7.org/fhir/sid/icd-10", "I10",
            "http://jpfhir.jp/fhir/core/CodeSystem/route-codes", "HL70162",
            "urn:oid:1.2.392.200250.2.2.20", "JAMISDP01",
            "urn:oid:1.2.392.100495.20.2.101", "MR9P",
            Ssmix2Mapper.JLAC10_MATERIAL, "JC10");

    private final String institution;
    private final ZoneId zone;
    private final String charsetName;
    private final PipeParser parser;
    private int control;

    /** {@code charsetName}: MSH-18 ("~ISO IR87" for ISO-2022-JP, "UNICODE UTF-8"). */
    Ssmix2Writer(String institution, ZoneId zone, String charsetName) {
        this.institution = institution;
        this.zone = zone;
        this.charsetName = charsetName;
        HapiContext hapi = new DefaultHapiContext(ValidationContextFactory.noValidation());
        this.parser = hapi.getPipeParser();
    }

    /** A value that cannot be written (the message is left out and reported). */
    static final class Unwritable extends Exception {
        Unwritable(String message) {
            super(message, null, false, false);
        }
    }

    // --- messages ------------------------------------------------------------------------------------------------

    /** ADT-00: ADT^A08 with EVN, PID and PV1 (not a visit: PV1-2 N). */
    String adt(Patient p, String ssmixId, Instant at) throws Unwritable {
        try {
            ADT_A01 m = new ADT_A01();
            msh(m.getMSH(), "ADT", "A08", "ADT_A01", at);
            set(m.getEVN(), 2, 0, 1, ts(at));
            pid(m.getPID(), p, ssmixId);
            set(m.getPV1(), 1, 0, 1, "0001");
            set(m.getPV1(), 2, 0, 1, "N");
            return encode(m);
        } catch (HL7Exception e) {
            throw new Unwritable("HL7 v2.5: " + e.getMessage());
        }
    }

    /** PPR-01: PPR^ZD1 (HAPI's PPR_PC1 structure), one PRB per problem. */
    String problems(Patient p, String ssmixId, List<Condition> conditions, Instant at) throws Unwritable {
        try {
            PPR_PC1 m = new PPR_PC1();
            msh(m.getMSH(), "PPR", "ZD1", "PPR_ZD1", at);
            pid(m.getPID(), p, ssmixId);
            int i = 0;
            for (Condition c : conditions) {
                Segment prb = m.getPROBLEM(i++).getPRB();
                set(prb, 1, 0, 1, "AD");
                set(prb, 2, 0, 1, c.hasRecordedDate() ? ts(c.getRecordedDateElement()) : ts(lastUpdated(c, at)));
                Coding icd = coding(c.getCode(), "http://hl7.org/fhir/sid/icd-10");
                CodeableConcept code = c.getCode().copy();
                code.getCoding().removeIf(x -> "http://hl7.org/fhir/sid/icd-10".equals(x.getSystem()));
                if (code.getCoding().isEmpty() && !code.hasText() && icd != null) {
                    code.addCoding(icd.copy()); // only an ICD-10 code: it is the problem's code too
                }
                concept(prb, 3, 0, code);
                set(prb, 4, 0, 1, Ssmix2Export.shortId(c.getIdElement().getIdPart()));
                String onset = c.hasOnsetDateTimeType() ? ts(c.getOnsetDateTimeType()) : null;
                set(prb, 7, 0, 1, onset);
                if (c.hasAbatementDateTimeType()) {
                    set(prb, 9, 0, 1, ts(c.getAbatementDateTimeType()));
                }
                if (icd != null) {
                    set(prb, 10, 0, 1, icd.getCode());
                    set(prb, 10, 0, 3, "I10");
                }
                String clinical = c.getClinicalStatus().getCodingFirstRep().getCode();
                if (!c.hasAbatementDateTimeType() && ("resolved".equals(clinical) || "inactive".equals(clinical)
                        || "remission".equals(clinical))) {
                    set(prb, 14, 0, 1, "F");
                }
                set(prb, 16, 0, 1, onset);
            }
            return encode(m);
        } catch (HL7Exception e) {
            throw new Unwritable("HL7 v2.5: " + e.getMessage());
        }
    }

    /** OMP-01: RDE^O11, one ORC+RXE+TQ1+RXR group per MedicationRequest of the order. */
    String prescription(Patient p, String ssmixId, String order, List<MedicationRequest> requests, Instant at)
            throws Unwritable {
        try {
            RDE_O11 m = new RDE_O11();
            msh(m.getMSH(), "RDE", "O11", "RDE_O11", at);
            pid(m.getPATIENT().getPID(), p, ssmixId);
            int i = 0;
            for (MedicationRequest r : requests) {
                RDE_O11_ORDER g = m.getORDER(i);
                Segment orc = g.getORC();
                set(orc, 1, 0, 1, r.getStatus() == MedicationRequest.MedicationRequestStatus.STOPPED ? "DC" : "NW");
                set(orc, 2, 0, 1, order);
                set(orc, 4, 0, 1, order + "_" + String.format("%02d", ++i));
                if (r.hasAuthoredOn()) {
                    set(orc, 9, 0, 1, ts(r.getAuthoredOnElement()));
                }
                if (r.getRequester().hasDisplay()) {
                    String[] name = r.getRequester().getDisplay().split(" ", 2);
                    set(orc, 12, 0, 2, name[0]);
                    set(orc, 12, 0, 3, name.length > 1 ? name[1] : null);
                }
                Segment rxe = g.getRXE();
                if (!r.hasMedicationCodeableConcept()) {
                    throw new Unwritable("MedicationRequest/" + r.getIdElement().getIdPart() + " names no drug code");
                }
                concept(rxe, 2, 0, r.getMedicationCodeableConcept());
                Dosage dosage = r.getDosageInstructionFirstRep();
                if (dosage.hasDoseAndRate() && dosage.getDoseAndRateFirstRep().hasDoseQuantity()) {
                    Quantity dose = dosage.getDoseAndRateFirstRep().getDoseQuantity();
                    set(rxe, 3, 0, 1, number(dose.getValue()));
                    unit(rxe, 5, dose);
                }
                if (dosage.hasAdditionalInstruction()) {
                    set(rxe, 7, 0, 2, dosage.getAdditionalInstructionFirstRep().getText());
                }
                if (r.getDispenseRequest().hasQuantity()) {
                    set(rxe, 10, 0, 1, number(r.getDispenseRequest().getQuantity().getValue()));
                    unit(rxe, 11, r.getDispenseRequest().getQuantity());
                }
                int rep = 0;
                for (CodeableConcept category : r.getCategory()) {
                    for (Coding c : category.getCoding()) {
                        if (c.hasCode()) {
                            set(rxe, 21, rep, 1, c.getCode());
                            set(rxe, 21, rep, 2, c.getDisplay());
                            set(rxe, 21, rep++, 3, Ssmix2Mapper.MERIT9_CATEGORY.equals(c.getSystem()) ? "MR9P" : name(c.getSystem()));
                        }
                    }
                }
                Segment tq1 = g.getTIMING_ENCODED().getTQ1();
                set(tq1, 1, 0, 1, "1");
                Coding usage = dosage.getTiming().getCode().getCodingFirstRep();
                if (usage.hasCode() || dosage.hasText()) {
                    Terser.set(tq1, 3, 0, 1, 1, usage.getCode());
                    Terser.set(tq1, 3, 0, 1, 2, usage.hasDisplay() ? usage.getDisplay() : dosage.getText());
                    Terser.set(tq1, 3, 0, 1, 3, name(usage.getSystem()));
                }
                if (r.getDispenseRequest().hasExpectedSupplyDuration()) {
                    Quantity days = r.getDispenseRequest().getExpectedSupplyDuration();
                    set(tq1, 6, 0, 1, number(days.getValue()));
                    Terser.set(tq1, 6, 0, 2, 1, "d".equals(days.getCode()) ? "D" : days.getUnit());
                    Terser.set(tq1, 6, 0, 2, 2, days.getUnit());
                    Terser.set(tq1, 6, 0, 2, 3, "d".equals(days.getCode()) ? "ISO+" : null);
                }
                if (dosage.getTiming().getRepeat().hasBoundsPeriod()
                        && dosage.getTiming().getRepeat().getBoundsPeriod().hasStart()) {
                    set(tq1, 7, 0, 1, ts(dosage.getTiming().getRepeat().getBoundsPeriod().getStartElement()));
                }
                if (dosage.hasRoute()) {
                    concept(g.getRXR(), 1, 0, dosage.getRoute());
                }
            }
            return encode(m);
        } catch (HL7Exception e) {
            throw new Unwritable("HL7 v2.5: " + e.getMessage());
        }
    }

    /** OML-11: OUL^R22 with SPM, then OBR, ORC and an OBX per result. */
    String labResults(Patient p, String ssmixId, String order, Specimen specimen, List<Observation> results, Instant at)
            throws Unwritable {
        try {
            OUL_R22 m = new OUL_R22();
            msh(m.getMSH(), "OUL", "R22", "OUL_R22", at);
            pid(m.getPATIENT().getPID(), p, ssmixId);
            OUL_R22_SPECIMEN sg = m.getSPECIMEN(0);
            Segment spm = sg.getSPM();
            set(spm, 1, 0, 1, "1");
            set(spm, 2, 0, 1, order);
            if (specimen != null) {
                concept(spm, 4, 0, specimen.getType());
                if (specimen.getCollection().hasCollectedDateTimeType()) {
                    set(spm, 17, 0, 1, ts(specimen.getCollection().getCollectedDateTimeType()));
                }
            }
            OUL_R22_ORDER og = sg.getORDER(0);
            Segment obr = og.getOBR();
            set(obr, 1, 0, 1, "1");
            set(obr, 2, 0, 1, order);
            set(obr, 3, 0, 1, order);
            set(obr, 4, 0, 2, "検体検査");
            results.stream().filter(Observation::hasEffectiveDateTimeType).map(Observation::getEffectiveDateTimeType)
                    .min(Comparator.comparing(DateTimeType::getValue)).ifPresent(t -> setQuietly(obr, 7, ts(t)));
            results.stream().filter(Observation::hasIssued).map(Observation::getIssued).max(Comparator.naturalOrder())
                    .ifPresent(t -> setQuietly(obr, 22, ts(t.toInstant())));
            set(obr, 25, 0, 1, "F");
            Segment orc = og.getORC();
            set(orc, 1, 0, 1, "SC");
            set(orc, 2, 0, 1, order);
            set(orc, 3, 0, 1, order);
            set(orc, 5, 0, 1, "CM");
            int i = 0;
            for (Observation o : results) {
                OBX obx = og.getRESULT(i).getOBX();
                set(obx, 1, 0, 1, Integer.toString(++i));
                concept(obx, 3, 0, o.getCode());
                value(m, obx, o);
                if (o.hasReferenceRange()) {
                    Observation.ObservationReferenceRangeComponent rr = o.getReferenceRangeFirstRep();
                    if (rr.hasLow() || rr.hasHigh()) {
                        set(obx, 7, 0, 1, (rr.hasLow() ? number(rr.getLow().getValue()) : "") + "-"
                                + (rr.hasHigh() ? number(rr.getHigh().getValue()) : ""));
                    } else {
                        set(obx, 7, 0, 1, rr.getText());
                    }
                }
                int rep = 0;
                for (CodeableConcept flag : o.getInterpretation()) {
                    if (flag.getCodingFirstRep().hasCode()) {
                        set(obx, 8, rep++, 1, flag.getCodingFirstRep().getCode());
                    }
                }
                set(obx, 11, 0, 1, switch (o.getStatus()) {
                    case CORRECTED, AMENDED -> "C";
                    case PRELIMINARY, REGISTERED -> "P";
                    default -> "F";
                });
                if (o.hasEffectiveDateTimeType()) {
                    set(obx, 14, 0, 1, ts(o.getEffectiveDateTimeType()));
                }
            }
            return encode(m);
        } catch (HL7Exception e) {
            throw new Unwritable("HL7 v2.5: " + e.getMessage());
        }
    }

    // --- segments ------------------------------------------------------------------------------------------------

    private void msh(MSH msh, String type, String event, String structure, Instant at) throws HL7Exception {
        msh.getFieldSeparator().setValue("|");
        msh.getEncodingCharacters().setValue("^~\\&");
        set(msh, 3, 0, 1, "KIROKU");
        set(msh, 4, 0, 1, institution);
        set(msh, 5, 0, 1, "SSMIX2");
        set(msh, 6, 0, 1, institution);
        set(msh, 7, 0, 1, ts(at));
        set(msh, 9, 0, 1, type);
        set(msh, 9, 0, 2, event);
        set(msh, 9, 0, 3, structure);
        set(msh, 10, 0, 1, "K" + SECONDS.format(at.atZone(zone)) + String.format("%05d", ++control % 100000));
        set(msh, 11, 0, 1, "P");
        set(msh, 12, 0, 1, "2.5");
        if (charsetName.startsWith("~")) { // ISO-2022-JP: "~ISO IR87", an empty first repetition (ASCII) and JIS X 0208
            msh.getCharacterSet(0);
            set(msh, 18, 1, 1, charsetName.substring(1));
        } else {
            set(msh, 18, 0, 1, charsetName);
        }
        set(msh, 21, 0, 1, "SS-MIX2_1.20");
        set(msh, 21, 0, 2, "SS-MIX2");
        set(msh, 21, 0, 3, "1.2.392.200250.2.1.100.1.2.120");
        set(msh, 21, 0, 4, "ISO");
    }

    /** PID-3 the storage's patient id, PID-5 the names (XPN.8 I/P/A from the representation), 7, 8, 11, 13/14, 29/30. */
    private void pid(PID pid, Patient p, String ssmixId) throws HL7Exception {
        set(pid, 1, 0, 1, "0001");
        set(pid, 3, 0, 1, ssmixId);
        set(pid, 3, 0, 5, "PI");
        int rep = 0;
        for (HumanName n : p.getName()) {
            String given = n.getGiven().isEmpty() ? null : String.join(" ", n.getGiven().stream().map(StringType::getValue).toList());
            if (!n.hasFamily() && given == null) {
                continue;
            }
            set(pid, 5, rep, 1, n.getFamily());
            set(pid, 5, rep, 2, given);
            set(pid, 5, rep, 7, "L");
            Extension ext = n.getExtensionByUrl(CodeSystems.NAME_REPRESENTATION);
            String representation = ext == null ? null : ext.getValue().primitiveValue();
            set(pid, 5, rep, 8, representation == null ? null : switch (representation) {
                case "IDE" -> "I";
                case "SYL" -> "P";
                case "ABC" -> "A";
                default -> null;
            });
            rep++;
        }
        if (p.hasBirthDate()) {
            set(pid, 7, 0, 1, p.getBirthDateElement().getValueAsString().replace("-", ""));
        }
        if (p.hasGender()) {
            set(pid, 8, 0, 1, switch (p.getGender()) {
                case MALE -> "M";
                case FEMALE -> "F";
                case OTHER -> "O";
                default -> "U";
            });
        }
        rep = 0;
        for (Address a : p.getAddress()) {
            set(pid, 11, rep, 3, a.getCity());
            set(pid, 11, rep, 4, a.getState());
            set(pid, 11, rep, 5, a.getPostalCode());
            set(pid, 11, rep, 6, a.getCountry());
            set(pid, 11, rep, 7, a.getUse() == Address.AddressUse.HOME ? "H" : null);
            set(pid, 11, rep++, 8, a.getText());
        }
        int home = 0;
        int work = 0;
        for (ContactPoint t : p.getTelecom()) {
            if (t.getSystem() != ContactPoint.ContactPointSystem.PHONE || !t.hasValue()) {
                continue;
            }
            boolean isWork = t.getUse() == ContactPoint.ContactPointUse.WORK;
            int field = isWork ? 14 : 13;
            int r = isWork ? work++ : home++;
            set(pid, field, r, 2, isWork ? "WPN" : "PRN");
            set(pid, field, r, 3, "PH");
            set(pid, field, r, 12, t.getValue());
        }
        if (p.getDeceased() instanceof DateTimeType died) {
            set(pid, 29, 0, 1, ts(died));
            set(pid, 30, 0, 1, "Y");
        } else if (p.getDeceased() instanceof BooleanType dead && dead.booleanValue()) {
            set(pid, 30, 0, 1, "Y");
        }
    }

    /** OBX-2 and OBX-5 (NM, ST or CWE) and OBX-6 (the unit). */
    private void value(Message m, OBX obx, Observation o) throws HL7Exception {
        Varies v = obx.getObservationValue(0);
        if (o.getValue() instanceof Quantity q && q.hasValue()) {
            set(obx, 2, 0, 1, "NM");
            NM nm = new NM(m);
            nm.setValue(number(q.getValue()));
            v.setData(nm);
            unit(obx, 6, q);
        } else if (o.getValue() instanceof CodeableConcept cc) {
            set(obx, 2, 0, 1, "CWE");
            CWE cwe = new CWE(m);
            v.setData(cwe);
            Coding c = cc.getCodingFirstRep();
            cwe.getIdentifier().setValue(c.getCode());
            cwe.getText().setValue(c.hasDisplay() ? c.getDisplay() : cc.getText());
            cwe.getNameOfCodingSystem().setValue(name(c.getSystem()));
        } else if (o.hasValue()) {
            set(obx, 2, 0, 1, "ST");
            ST st = new ST(m);
            st.setValue(o.getValue() instanceof Quantity q ? q.getUnit() : o.getValue().primitiveValue());
            v.setData(st);
        }
    }

    /** A quantity's unit: MERIT-9 code^text^MR9P, else unit^unit^ISO+ (what the mapper reads back as the unit). */
    private static void unit(Segment s, int field, Quantity q) throws HL7Exception {
        if ("urn:oid:1.2.392.100495.20.2.101".equals(q.getSystem()) && q.hasCode()) {
            set(s, field, 0, 1, q.getCode());
            set(s, field, 0, 2, q.hasUnit() ? q.getUnit() : q.getCode());
            set(s, field, 0, 3, "MR9P");
        } else if (q.hasUnit() || q.hasCode()) {
            String unit = q.hasUnit() ? q.getUnit() : q.getCode();
            set(s, field, 0, 1, unit);
            set(s, field, 0, 2, unit);
            set(s, field, 0, 3, "ISO+");
        }
    }

    /** A CWE/CE field: the first two codings (components 1-3 and 4-6) with their HL7 system names; the text. */
    private void concept(Segment s, int field, int rep, CodeableConcept cc) throws HL7Exception {
        List<Coding> codings = cc.getCoding().stream().filter(Coding::hasCode).limit(2).toList();
        int base = 1;
        for (Coding c : codings) {
            set(s, field, rep, base, c.getCode());
            set(s, field, rep, base + 1, c.hasDisplay() ? c.getDisplay() : base == 1 ? cc.getText() : null);
            set(s, field, rep, base + 2, name(c.getSystem()));
            base += 3;
        }
        if (codings.isEmpty()) {
            set(s, field, rep, 2, cc.getText());
        }
    }

    private static Coding coding(CodeableConcept cc, String system) {
        return cc.getCoding().stream().filter(c -> system.equals(c.getSystem()) && c.hasCode()).findFirst().orElse(null);
    }

    /** The HL7 name of a FHIR code system: SS-MIX2's names, a kept local name, else none. */
    static String name(String system) {
        if (system == null) {
            return null;
        }
        String known = NAMES.get(system);
        if (known != null) {
            return known;
        }
        if (system.startsWith(Ssmix2Mapper.LOCAL_SYSTEM)) {
            return system.substring(system.lastIndexOf('/') + 1);
        }
        return null;
    }

    // --- values --------------------------------------------------------------------------------------------------

    /** An HL7 TS at the value's precision, in the server's time zone (what the importer assumes without an offset). */
    String ts(BaseDateTimeType t) {
        if (t.getPrecision().ordinal() <= TemporalPrecisionEnum.DAY.ordinal()) {
            String day = t.getValueAsString();
            return day.substring(0, Math.min(10, day.length())).replace("-", "");
        }
        var local = t.getValue().toInstant().atZone(zone);
        return t.getPrecision() == TemporalPrecisionEnum.MINUTE ? MINUTES.format(local) : SECONDS.format(local);
    }

    String ts(Instant at) {
        return SECONDS.format(at.atZone(zone));
    }

    private static Instant lastUpdated(org.hl7.fhir.r4.model.Resource r, Instant fallback) {
        return r.getMeta().hasLastUpdated() ? r.getMeta().getLastUpdated().toInstant() : fallback;
    }

    private static String number(BigDecimal value) {
        return value == null ? null : value.toPlainString();
    }

    private static void set(Segment s, int field, int rep, int comp, String value) throws HL7Exception {
        if (value != null && !value.isBlank()) {
            Terser.set(s, field, rep, comp, 1, value);
        }
    }

    private static void setQuietly(Segment s, int field, String value) {
        try {
            set(s, field, 0, 1, value);
        } catch (HL7Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private String encode(AbstractMessage m) throws HL7Exception {
        return parser.encode(m);
    }
}
