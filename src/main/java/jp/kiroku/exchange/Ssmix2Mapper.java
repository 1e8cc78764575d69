package jp.kiroku.exchange;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TimeZone;

import org.hl7.fhir.r4.model.Address;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Dosage;
import org.hl7.fhir.r4.model.Duration;
import org.hl7.fhir.r4.model.Enumerations.AdministrativeGender;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.SimpleQuantity;
import org.hl7.fhir.r4.model.Specimen;
import org.hl7.fhir.r4.model.StringType;

import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.util.Terser;

/**
 * SS-MIX2 (JAHIS HL7 v2.5) segments to JP Core resources. Ids are stable, derived from the institution, the patient id
 * and the order number (and a problem's instance id, a drug's place in its order, a result's test code), so an
 * import run again updates the same resources; they are SHA-256 based so that hospital patient numbers do not appear
 * in URLs, logs and audit entity lists. What is mapped and what is left out: docs/operations.md, "SS-MIX2 import and export".
 */
final class Ssmix2Mapper {

    static final String JP_PATIENT = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient";
    static final String JP_CONDITION = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Condition";
    static final String JP_MEDICATION_REQUEST = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_MedicationRequest";
    static final String JP_LAB_RESULT = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Observation_LabResult";
    static final String JP_SPECIMEN = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Specimen";
    /** The 3-digit material codes of JLAC10 (SPM-4, coding system JC10): no FHIR system is published for them. */
    static final String JLAC10_MATERIAL = "http://kiroku.jp/fhir/CodeSystem/jlac10-material";

    /** HL7 v2 coding system names used by SS-MIX2 / JAHIS, and the FHIR system of each (JP Core / JP-CLINS). */
    static final Map<String, String> SYSTEMS = Map.ofEntries(
            Map.entry("JC10", CodeSystems.JLAC10),
            Map.entry("HOT", "urn:oid:1.2.392.200119.4.403.1"),
            Map.entry("HOT9", "urn:oid:1.2.392.200119.4.403.1"),
            Map.entry("HOT7", "urn:oid:1.2.392.200119.4.403.2"),
            Map.entry("HOT13", "urn:oid:1.2.392.200119.4.402.1"),
            Map.entry("MDCDX2", "http://medis.or.jp/CodeSystem/master-disease-exCode"),
            Map.entry("I10", "http://hl7.org/fhir/sid/icd-10"),
            Map.entry("HL70162", "http://jpfhir.jp/fhir/core/CodeSystem/route-codes"),
            Map.entry("JAMISDP01", "urn:oid:1.2.392.200250.2.2.20"),
            Map.entry("MR9P", "urn:oid:1.2.392.100495.20.2.101"));
    /** A hospital's own code systems (JAHIS "99xxx" names and any other name not above): this + institution/name. */
    static final String LOCAL_SYSTEM = "http://kiroku.jp/fhir/CodeSystem/ssmix2/";
    static final String MERIT9_CATEGORY = "http://jpfhir.jp/fhir/core/CodeSystem/JP_MedicationCategoryMERIT9_CS";

    private final String institution;
    private final ZoneId zone;

    Ssmix2Mapper(String institution, ZoneId zone) {
        this.institution = institution;
        this.zone = zone;
    }

    /** A value that makes the message unusable (the file is rejected with this reason). */
    static final class Refused extends Exception {
        Refused(String message) {
            super(message, null, false, false);
        }
    }

    String patientSystem() {
        return CodeSystems.PATIENT_ID_PREFIX + institution;
    }

    String patientId(String ssmixId) {
        return id("Patient", ssmixId);
    }

    /** "s2-" and 40 hex digits of SHA-256 over the institution, the kind of record and its keys. */
    String id(String kind, String... keys) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(("ssmix2|" + institution + "|" + kind + "|" + String.join("|", keys)).getBytes(StandardCharsets.UTF_8));
            return "s2-" + HexFormat.of().formatHex(sha.digest()).substring(0, 40);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // --- ADT (PID) -> Patient ---------------------------------------------------------------------------------------

    /** The patient of the message's PID, whose id (PID-3) must be the storage folder's. */
    Patient patient(Ssmix2Messages.Parsed message, String ssmixId) throws Refused {
        List<Segment> pids = message.all("PID");
        if (pids.isEmpty()) {
            throw new Refused("no PID segment");
        }
        Segment pid = pids.get(0);
        String id = v(pid, 3, 0, 1);
        if (id == null) {
            throw new Refused("PID-3 (patient id) is empty");
        }
        if (!id.equals(ssmixId)) {
            throw new Refused("PID-3 patient id " + id + " is not the storage folder's (" + ssmixId + ")");
        }
        Patient p = new Patient();
        p.setId(patientId(ssmixId));
        p.getMeta().addProfile(JP_PATIENT);
        p.addIdentifier().setSystem(patientSystem()).setValue(ssmixId);
        for (int rep = 0; rep < reps(pid, 5); rep++) {
            String family = v(pid, 5, rep, 1);
            String given = v(pid, 5, rep, 2);
            if (family == null && given == null) {
                continue;
            }
            HumanName name = p.addName().setUse(HumanName.NameUse.OFFICIAL);
            if (family != null) {
                name.setFamily(family);
            }
            if (given != null) {
                name.addGiven(given);
            }
            name.setText(family == null ? given : given == null ? family : family + " " + given);
            String representation = switch (String.valueOf(v(pid, 5, rep, 8))) {
                case "I" -> "IDE";
                case "P" -> "SYL";
                case "A" -> "ABC";
                default -> null;
            };
            if (representation != null) {
                name.addExtension(CodeSystems.NAME_REPRESENTATION, new CodeType(representation));
            }
        }
        String birth = v(pid, 7, 0, 1);
        if (birth != null) {
            p.setBirthDateElement(date(birth, "PID-7 birth date"));
        }
        String sex = v(pid, 8, 0, 1);
        p.setGender(sex == null ? null : switch (sex) {
            case "M" -> AdministrativeGender.MALE;
            case "F" -> AdministrativeGender.FEMALE;
            case "O" -> AdministrativeGender.OTHER;
            default -> AdministrativeGender.UNKNOWN;
        });
        for (int rep = 0; rep < reps(pid, 11); rep++) {
            Address a = new Address();
            String text = v(pid, 11, rep, 8);
            a.setText(text);
            a.setCity(v(pid, 11, rep, 3));
            a.setState(v(pid, 11, rep, 4));
            a.setPostalCode(v(pid, 11, rep, 5));
            a.setCountry(v(pid, 11, rep, 6));
            if ("H".equals(v(pid, 11, rep, 7))) {
                a.setUse(Address.AddressUse.HOME);
            }
            if (!a.isEmpty()) {
                p.addAddress(a);
            }
        }
        for (int field : new int[] {13, 14}) {
            for (int rep = 0; rep < reps(pid, field); rep++) {
                String number = first(v(pid, field, rep, 12), v(pid, field, rep, 1));
                if (number != null) {
                    p.addTelecom().setSystem(ContactPoint.ContactPointSystem.PHONE).setValue(number)
                            .setUse(field == 13 ? ContactPoint.ContactPointUse.HOME : ContactPoint.ContactPointUse.WORK);
                }
            }
        }
        String died = v(pid, 29, 0, 1);
        if (died != null) {
            p.setDeceased(dateTime(died, "PID-29 death date"));
        } else if ("Y".equals(v(pid, 30, 0, 1))) {
            p.setDeceased(new BooleanType(true));
        }
        return p;
    }

    // --- PPR-01 (PRB) -> Condition ----------------------------------------------------------------------------------

    List<Resource> conditions(Ssmix2Messages.Parsed message, String ssmixId, boolean cancelled) throws Refused {
        List<Resource> out = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (Segment prb : message.all("PRB")) {
            CodeableConcept code = concept(prb, 3, 0, "PRB-3 problem");
            String classification = v(prb, 10, 0, 3);
            if ("I10".equals(classification) && v(prb, 10, 0, 1) != null) {
                code.addCoding().setSystem(SYSTEMS.get("I10")).setCode(v(prb, 10, 0, 1));
            }
            String instance = v(prb, 4, 0, 1);
            String key = instance != null ? instance : code.getCodingFirstRep().getCode() + "|" + v(prb, 7, 0, 1);
            key = unique(seen, key);
            Condition c = new Condition();
            c.setId(id("Condition", ssmixId, key));
            c.getMeta().addProfile(JP_CONDITION);
            c.setSubject(new Reference("Patient/" + patientId(ssmixId)));
            c.setCode(code);
            c.addCategory().addCoding().setSystem("http://terminology.hl7.org/CodeSystem/condition-category")
                    .setCode("problem-list-item");
            String resolved = v(prb, 9, 0, 1);
            boolean deleted = cancelled || "DE".equals(v(prb, 1, 0, 1));
            if (!deleted) {
                c.setClinicalStatus(new CodeableConcept().addCoding(new Coding(
                        "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        resolved != null || "F".equals(v(prb, 14, 0, 1)) ? "resolved" : "active", null)));
            }
            c.setVerificationStatus(new CodeableConcept().addCoding(new Coding(
                    "http://terminology.hl7.org/CodeSystem/condition-ver-status", deleted ? "entered-in-error" : "confirmed",
                    null)));
            String onset = first(v(prb, 16, 0, 1), v(prb, 7, 0, 1));
            if (onset != null) {
                c.setOnset(dateTime(onset, "PRB-16/PRB-7 onset"));
            }
            if (resolved != null) {
                c.setAbatement(dateTime(resolved, "PRB-9 resolution date"));
            }
            String recorded = v(prb, 2, 0, 1);
            if (recorded != null) {
                c.setRecordedDateElement(dateTime(recorded, "PRB-2 action date"));
            }
            out.add(c);
        }
        if (out.isEmpty()) {
            throw new Refused("no PRB segment (a PPR-01 message lists the patient's problems)");
        }
        return out;
    }

    // --- OMP-01 (ORC, RXE, TQ1, RXR) -> MedicationRequest --------------------------------------------------------

    List<Resource> medicationRequests(Ssmix2Messages.Parsed message, String ssmixId, String orderNumber, boolean cancelled)
            throws Refused {
        List<Resource> out = new ArrayList<>();
        Segment orc = null;
        MedicationRequest current = null;
        int line = 0;
        for (Segment s : message.segments()) {
            switch (s.getName()) {
                case "ORC" -> orc = s;
                case "RXE" -> {
                    line++;
                    current = medicationRequest(s, orc, ssmixId, orderNumber, line, cancelled);
                    out.add(current);
                }
                case "TQ1" -> {
                    if (current != null) {
                        timing(current.getDosageInstructionFirstRep(), current, s);
                    }
                }
                case "RXR" -> {
                    if (current != null) {
                        current.getDosageInstructionFirstRep().setRoute(concept(s, 1, 0, "RXR-1 route"));
                    }
                }
                default -> {
                }
            }
        }
        if (out.isEmpty()) {
            throw new Refused("no RXE segment (a prescription order names its drugs in RXE)");
        }
        return out;
    }

    private MedicationRequest medicationRequest(Segment rxe, Segment orc, String ssmixId, String orderNumber, int line,
                                                boolean cancelled) throws Refused {
        MedicationRequest r = new MedicationRequest();
        r.setId(id("MedicationRequest", ssmixId, orderNumber, Integer.toString(line)));
        r.getMeta().addProfile(JP_MEDICATION_REQUEST);
        r.setSubject(new Reference("Patient/" + patientId(ssmixId)));
        r.setIntent(MedicationRequest.MedicationRequestIntent.ORDER);
        String control = orc == null ? null : v(orc, 1, 0, 1);
        r.setStatus(cancelled || "CA".equals(control) ? MedicationRequest.MedicationRequestStatus.CANCELLED
                : "DC".equals(control) ? MedicationRequest.MedicationRequestStatus.STOPPED
                : MedicationRequest.MedicationRequestStatus.ACTIVE);
        r.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.81").setValue(Integer.toString(line));
        r.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.82").setValue("1");
        r.addIdentifier().setSystem("http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier")
                .setValue(orderNumber + "." + line);
        r.setMedication(concept(rxe, 2, 0, "RXE-2 drug"));
        if (orc != null) {
            String authored = v(orc, 9, 0, 1);
            if (authored != null) {
                r.setAuthoredOnElement(dateTime(authored, "ORC-9 order date"));
            }
            String doctor = name(orc, 12);
            if (doctor != null) {
                r.setRequester(new Reference().setDisplay(doctor));
            }
        }
        for (int rep = 0; rep < reps(rxe, 21); rep++) {
            String code = v(rxe, 21, rep, 1);
            if (code != null) {
                r.addCategory().addCoding().setSystem("MR9P".equals(v(rxe, 21, rep, 3)) ? MERIT9_CATEGORY
                        : local(v(rxe, 21, rep, 3))).setCode(code).setDisplay(v(rxe, 21, rep, 2));
            }
        }
        Dosage dosage = r.addDosageInstruction();
        BigDecimal amount = number(v(rxe, 3, 0, 1), "RXE-3 give amount");
        if (amount != null) {
            dosage.addDoseAndRate().setDose(quantity(new SimpleQuantity(), amount, rxe, 5));
        }
        String instructions = v(rxe, 7, 0, 2);
        if (instructions != null) {
            dosage.addAdditionalInstruction().setText(instructions);
        }
        BigDecimal dispense = number(v(rxe, 10, 0, 1), "RXE-10 dispense amount");
        if (dispense != null) {
            r.getDispenseRequest().setQuantity(quantity(new SimpleQuantity(), dispense, rxe, 11));
        }
        return r;
    }

    /** TQ1-3 the usage (JAMI 用法 code), TQ1-6 how many days, TQ1-7 the first day. */
    private void timing(Dosage dosage, MedicationRequest r, Segment tq1) throws Refused {
        String code = v(tq1, 3, 0, 1, 1);
        String text = v(tq1, 3, 0, 1, 2);
        if (code != null || text != null) {
            Coding c = dosage.getTiming().getCode().addCoding().setCode(code).setDisplay(text);
            String system = v(tq1, 3, 0, 1, 3);
            c.setSystem(system == null ? null : SYSTEMS.getOrDefault(system, local(system)));
            dosage.setText(text);
        }
        BigDecimal days = number(v(tq1, 6, 0, 1), "TQ1-6 service duration");
        if (days != null) {
            String unit = v(tq1, 6, 0, 2, 1);
            Duration d = new Duration();
            d.setValue(days).setUnit(first(v(tq1, 6, 0, 2, 2), unit));
            if ("D".equals(unit) || "d".equals(unit)) {
                d.setSystem("http://unitsofmeasure.org").setCode("d");
            }
            r.getDispenseRequest().setExpectedSupplyDuration(d);
        }
        String start = v(tq1, 7, 0, 1);
        if (start != null) {
            dosage.getTiming().getRepeat().getBoundsPeriod().setStartElement(dateTime(start, "TQ1-7 start"));
        }
    }

    // --- OML-11 (OUL^R22: SPM, OBR, ORC, OBX) -> Observation ---------------------------------------------------------

    List<Resource> observations(Ssmix2Messages.Parsed message, String ssmixId, String orderNumber, boolean cancelled)
            throws Refused {
        List<Resource> out = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        Segment obr = null;
        Specimen specimen = null;
        int specimens = 0;
        for (Segment s : message.segments()) {
            if (s.getName().equals("SPM")) {
                specimen = specimen(s, ssmixId, orderNumber, ++specimens, cancelled);
                out.add(specimen);
            } else if (s.getName().equals("OBR")) {
                obr = s;
            } else if (s.getName().equals("OBX")) {
                if (specimen == null) {
                    throw new Refused("OBX before any SPM segment (a lab result names its specimen in SPM)");
                }
                Observation o = observation(s, obr, ssmixId, cancelled);
                String code = o.getCode().getCodingFirstRep().getCode();
                o.setId(id("Observation", ssmixId, orderNumber, unique(seen, code)));
                o.setSpecimen(new Reference("Specimen/" + specimen.getIdElement().getIdPart()));
                out.add(o);
            }
        }
        if (out.stream().noneMatch(Observation.class::isInstance)) {
            throw new Refused("no OBX segment (a lab result message carries its results in OBX)");
        }
        return out;
    }

    /** SPM-4 the specimen type (JLAC10 material code, e.g. 023 serum), SPM-17 when it was collected. */
    private Specimen specimen(Segment spm, String ssmixId, String orderNumber, int n, boolean cancelled) throws Refused {
        Specimen s = new Specimen();
        s.setId(id("Specimen", ssmixId, orderNumber, Integer.toString(n)));
        s.getMeta().addProfile(JP_SPECIMEN);
        s.setSubject(new Reference("Patient/" + patientId(ssmixId)));
        s.setStatus(cancelled ? Specimen.SpecimenStatus.ENTEREDINERROR : Specimen.SpecimenStatus.AVAILABLE);
        String code = v(spm, 4, 0, 1);
        if (code != null) {
            String system = v(spm, 4, 0, 3);
            s.getType().addCoding().setSystem("JC10".equals(system) ? JLAC10_MATERIAL : local(system)).setCode(code)
                    .setDisplay(v(spm, 4, 0, 2));
        }
        s.getType().setText(v(spm, 4, 0, 2));
        String collected = v(spm, 17, 0, 1);
        if (collected != null) {
            s.getCollection().setCollected(dateTime(collected, "SPM-17 collection time"));
        }
        return s;
    }

    private Observation observation(Segment obx, Segment obr, String ssmixId, boolean cancelled) throws Refused {
        Observation o = new Observation();
        o.getMeta().addProfile(JP_LAB_RESULT);
        o.setSubject(new Reference("Patient/" + patientId(ssmixId)));
        o.addCategory().addCoding().setSystem("http://jpfhir.jp/fhir/core/CodeSystem/JP_SimpleObservationCategory_CS")
                .setCode("laboratory");
        o.setCode(concept(obx, 3, 0, "OBX-3 test"));
        String status = v(obx, 11, 0, 1);
        o.setStatus(cancelled ? Observation.ObservationStatus.ENTEREDINERROR : status == null ? Observation.ObservationStatus.FINAL
                : switch (status) {
                    case "C" -> Observation.ObservationStatus.CORRECTED;
                    case "P", "R", "S", "I" -> Observation.ObservationStatus.PRELIMINARY;
                    case "X", "D", "W" -> Observation.ObservationStatus.CANCELLED;
                    default -> Observation.ObservationStatus.FINAL;
                });
        String type = String.valueOf(v(obx, 2, 0, 1));
        String value = v(obx, 5, 0, 1);
        if (value != null) {
            switch (type) {
                case "NM" -> {
                    BigDecimal n = parseNumber(value);
                    if (n != null) {
                        o.setValue(quantity(new Quantity(), n, obx, 6));
                    } else {
                        o.setValue(new StringType(value)); // "<0.1", "検出せず": kept as written
                    }
                }
                case "CWE", "CE" -> o.setValue(concept(obx, 5, 0, "OBX-5 coded value"));
                default -> o.setValue(new StringType(join(obx, 5)));
            }
        }
        String range = v(obx, 7, 0, 1);
        if (range != null) {
            Observation.ObservationReferenceRangeComponent rr = o.addReferenceRange();
            String[] bounds = range.split("-", 2);
            BigDecimal low = bounds.length == 2 ? parseNumber(bounds[0].strip()) : null;
            BigDecimal high = bounds.length == 2 ? parseNumber(bounds[1].strip()) : null;
            if (low != null || high != null) {
                String unit = first(v(obx, 6, 0, 2), v(obx, 6, 0, 1));
                if (low != null) {
                    rr.setLow((SimpleQuantity) new SimpleQuantity().setValue(low).setUnit(unit));
                }
                if (high != null) {
                    rr.setHigh((SimpleQuantity) new SimpleQuantity().setValue(high).setUnit(unit));
                }
            } else {
                rr.setText(range);
            }
        }
        for (int rep = 0; rep < reps(obx, 8); rep++) {
            String flag = v(obx, 8, rep, 1);
            if (flag != null) {
                o.addInterpretation().addCoding().setSystem("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation")
                        .setCode(flag);
            }
        }
        String when = first(v(obx, 14, 0, 1), obr == null ? null : v(obr, 7, 0, 1));
        if (when != null) {
            o.setEffective(dateTime(when, "OBX-14/OBR-7 observation time"));
        }
        String reported = obr == null ? null : v(obr, 22, 0, 1);
        if (reported != null) {
            DateTimeType t = dateTime(reported, "OBR-22 report time");
            if (t.getPrecision().ordinal() >= TemporalPrecisionEnum.SECOND.ordinal()) {
                o.setIssued(t.getValue());
            }
        }
        return o;
    }

    // --- values ------------------------------------------------------------------------------------------------------

    /** A CWE/CE field: the code and its alternate (components 1-3 and 4-6) with the FHIR systems; text component 2. */
    private CodeableConcept concept(Segment s, int field, int rep, String what) throws Refused {
        CodeableConcept cc = new CodeableConcept();
        for (int base : new int[] {1, 4}) {
            String code = v(s, field, rep, base);
            if (code != null) {
                String system = v(s, field, rep, base + 2);
                cc.addCoding().setSystem(system == null ? null : SYSTEMS.getOrDefault(system, local(system))).setCode(code)
                        .setDisplay(v(s, field, rep, base + 1));
            }
        }
        String text = first(v(s, field, rep, 2), v(s, field, rep, 5));
        cc.setText(text);
        if (cc.getCoding().isEmpty() && text == null) {
            throw new Refused(what + " is empty");
        }
        return cc;
    }

    /** A code system the mapping does not know (a hospital's own, "99xxx" in JAHIS): kept under this institution. */
    private String local(String name) {
        return name == null ? null : LOCAL_SYSTEM + institution + "/" + name.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    private <Q extends Quantity> Q quantity(Q q, BigDecimal value, Segment s, int unitField) {
        q.setValue(value);
        String code = v(s, unitField, 0, 1);
        String text = v(s, unitField, 0, 2);
        String system = v(s, unitField, 0, 3);
        q.setUnit(first(text, code));
        if (code != null && "MR9P".equals(system)) {
            q.setSystem(SYSTEMS.get("MR9P")).setCode(code);
        }
        return q;
    }

    private static BigDecimal number(String value, String what) throws Refused {
        if (value == null) {
            return null;
        }
        BigDecimal n = parseNumber(value);
        if (n == null) {
            throw new Refused(what + " is not a number: " + value);
        }
        return n;
    }

    private static BigDecimal parseNumber(String value) {
        try {
            return new BigDecimal(value.strip());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** An HL7 TS/DT value (yyyy[MM[dd[HH[mm[ss[.S…]]]]]][±zzzz]) at its precision; no offset: the institution's zone. */
    DateTimeType dateTime(String value, String what) throws Refused {
        String v = value.strip();
        String offset = null;
        int sign = Math.max(v.indexOf('+'), v.indexOf('-'));
        if (sign > 0) {
            offset = v.substring(sign);
            v = v.substring(0, sign);
        }
        String digits = v.replace(".", "");
        if (!v.matches("[0-9]{4}([0-9]{2}){0,5}(\\.[0-9]{1,4})?") || offset != null && !offset.matches("[+-][0-9]{4}")) {
            throw new Refused(what + " is not an HL7 date/time: " + value);
        }
        try {
            int len = v.indexOf('.') < 0 ? v.length() : v.indexOf('.');
            TemporalPrecisionEnum precision = switch (len) {
                case 4 -> TemporalPrecisionEnum.YEAR;
                case 6 -> TemporalPrecisionEnum.MONTH;
                case 8 -> TemporalPrecisionEnum.DAY;
                case 10, 12 -> TemporalPrecisionEnum.MINUTE;
                default -> v.indexOf('.') < 0 ? TemporalPrecisionEnum.SECOND : TemporalPrecisionEnum.MILLI;
            };
            String padded = (digits + "0101000000000").substring(0, 17);
            padded = padded.substring(0, 4) + (len < 6 ? "01" : padded.substring(4, 6)) + (len < 8 ? "01" : padded.substring(6, 8))
                    + padded.substring(8);
            LocalDateTime local = LocalDateTime.parse(padded, DateTimeFormatter.ofPattern("yyyyMMddHHmmssSSS"));
            ZoneId z = offset == null ? zone : ZoneId.of(offset.substring(0, 3) + ":" + offset.substring(3));
            Date instant = Date.from(local.atZone(z).toInstant());
            DateTimeType t = new DateTimeType(instant, precision, TimeZone.getTimeZone(z));
            if (precision.ordinal() <= TemporalPrecisionEnum.DAY.ordinal()) {
                t = new DateTimeType(t.getValueAsString()); // a day has no zone in FHIR
            }
            return t;
        } catch (java.time.DateTimeException e) {
            throw new Refused(what + " is not a valid date/time: " + value);
        }
    }

    private DateType date(String value, String what) throws Refused {
        DateTimeType t = dateTime(value, what);
        String day = t.getValueAsString();
        return new DateType(day.length() > 10 ? day.substring(0, 10) : day);
    }

    // --- HL7 access --------------------------------------------------------------------------------------------------

    /** Field {@code field}, repetition {@code rep} (from 0), component {@code comp}: trimmed, or null when empty. */
    static String v(Segment s, int field, int rep, int comp) {
        return v(s, field, rep, comp, 1);
    }

    static String v(Segment s, int field, int rep, int comp, int sub) {
        try {
            if (field > s.numFields() || rep >= reps(s, field)) {
                return null;
            }
            String value = Terser.get(s, field, rep, comp, sub);
            return value == null || value.isBlank() || value.equals("\"\"") ? null : value.strip();
        } catch (HL7Exception | RuntimeException e) {
            return null;
        }
    }

    static int reps(Segment s, int field) {
        try {
            return field > s.numFields() ? 0 : s.getField(field).length;
        } catch (HL7Exception e) {
            return 0;
        }
    }

    /** A person as an XCN field: family and given name (components 2 and 3), from the first repetition with one. */
    private static String name(Segment s, int field) {
        for (int rep = 0; rep < reps(s, field); rep++) {
            String family = v(s, field, rep, 2);
            String given = v(s, field, rep, 3);
            if (family != null || given != null) {
                return family == null ? given : given == null ? family : family + " " + given;
            }
        }
        return null;
    }

    private static String join(Segment s, int field) {
        List<String> parts = new ArrayList<>();
        for (int rep = 0; rep < reps(s, field); rep++) {
            String p = v(s, field, rep, 1);
            if (p != null) {
                parts.add(p);
            }
        }
        return String.join("\n", parts);
    }

    private static String first(String a, String b) {
        return a != null ? a : b;
    }

    private static String unique(Map<String, Integer> seen, String key) {
        int n = seen.merge(key, 1, Integer::sum);
        return n == 1 ? key : key + "#" + n;
    }
}
