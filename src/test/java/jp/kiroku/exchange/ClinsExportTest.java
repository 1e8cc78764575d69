package jp.kiroku.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import jp.kiroku.fhir.UnavailableCodeSystems;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.ServerTest;

/**
 * JP-CLINS export (SHARE-01, SHARE-02) of a realistic patient: a JP Core patient with MEDIS-coded conditions,
 * JFAGY-coded allergies and JLAC10-coded laboratory results with local codes, stored the ordinary way (a transaction).
 * Each JP_Bundle_CLINS validates against the package with no errors, and every "unknown code system" warning is about
 * a listed unavailable code system; missing mandatory data refuses the export naming it.
 */
@Tag("SHARE-01")
@Tag("SHARE-02")
class ClinsExportTest extends ServerTest {

    static final String PATIENT = "clins-export-patient";

    static Resource example(String file) throws Exception {
        return ClinsExchangeTest.parse(Files.readString(ClinsExchangeTest.EXAMPLES.resolve(file)));
    }

    /** The examples' content, attached to one stored patient by reference (as Kiroku's own records are). */
    private Map<String, List<Resource>> storeRealisticPatient(String patientId, String... labs) throws Exception {
        Patient p = (Patient) example("Patient-Example-JP-Patient-eCS-MAKINO.json");
        p.setId(patientId);
        Encounter enc = (Encounter) example("Encounter-Example-JP-Encounter-eCS-AMB-01.json");
        List<Resource> conditions = new java.util.ArrayList<>();
        for (String f : List.of("Condition-Example-JP-Condition-eCS-01.json", "Condition-Example-JP-Condition-eCS-02.json",
                "Condition-Example-JP-Condition-eCS-03.json")) {
            Condition c = (Condition) example(f);
            c.setId(patientId + "-" + c.getIdElement().getIdPart());
            c.setSubject(new Reference("Patient/" + patientId));
            conditions.add(c);
        }
        List<Resource> allergies = new java.util.ArrayList<>();
        for (String f : List.of("AllergyIntolerance-Example-JP-AllergyIntolerance-eCS-01.json",
                "AllergyIntolerance-Example-JP-AllergyIntolerance-eCS-02.json", "AllergyIntolerance-Example-JP-AllergyIntolerance-eCS-03.json")) {
            AllergyIntolerance a = (AllergyIntolerance) example(f);
            a.setId(patientId + "-" + a.getIdElement().getIdPart());
            a.setPatient(new Reference("Patient/" + patientId));
            allergies.add(a);
        }
        List<Resource> results = new java.util.ArrayList<>();
        for (String f : labs) {
            Observation o = (Observation) example(f);
            o.setId(patientId + "-" + o.getIdElement().getIdPart());
            o.setSubject(new Reference("Patient/" + patientId));
            results.add(o);
        }
        Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        List<Resource> all = new java.util.ArrayList<>(List.of(p, enc));
        all.addAll(conditions);
        all.addAll(allergies);
        all.addAll(results);
        for (Resource r : all) {
            String ref = r.fhirType() + "/" + r.getIdElement().getIdPart();
            tx.addEntry().setFullUrl(ref).setResource(r).getRequest().setMethod(Bundle.HTTPVerb.PUT).setUrl(ref);
        }
        Response r = admin.post("", FhirHttp.json(tx));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return Map.of("Condition", conditions, "AllergyIntolerance", allergies, "Observation", results);
    }

    private Bundle export(String patient, String type) {
        Response r = admin.get("Patient/" + patient + "/$clins-export?type=" + type);
        assertThat(r.status()).as(() -> type + ": " + (r.status() == 422 ? String.join("\n", ClinsExchangeTest.errors(r)) : r.body()))
                .isEqualTo(200);
        return r.as(Bundle.class);
    }

    /** The package's verdict on a Bundle, asked of the server's own validator ($validate). */
    private OperationOutcome validate(Bundle b) {
        Response r = admin.post("Bundle/$validate", FhirHttp.json(b));
        assertThat(r.status()).as(r.body()).isIn(200, 422);
        return r.as(OperationOutcome.class);
    }

    private static void assertOnlyListedUnavailableCodeSystems(OperationOutcome oo) {
        assertThat(ClinsOutcomes.errors(oo)).isEmpty();
        List<String> unknown = oo.getIssue().stream().map(OperationOutcome.OperationOutcomeIssueComponent::getDiagnostics)
                .filter(d -> d.contains("CodeSystem is unknown")).toList();
        assertThat(unknown).isNotEmpty().allSatisfy(d -> assertThat(d).contains("listed unavailable code system"));
        assertThat(unknown).allSatisfy(d -> assertThat(UnavailableCodeSystems.SYSTEMS.keySet()).anySatisfy(s -> assertThat(d).contains(s)));
    }

    @Test
    void aRealisticPatientsInformationBundlesValidateWithNoErrors() throws Exception {
        Map<String, List<Resource>> stored = storeRealisticPatient(PATIENT, "Observation-Example-JP-Obs-LabResult-eCS-Alb.json",
                "Observation-Example-JP-Obs-LabResult-eCS-K.json");
        for (var kind : List.of(List.of("conditions", "Condition"), List.of("allergies", "AllergyIntolerance"), List.of("labs", "Observation"))) {
            Bundle b = export(PATIENT, kind.get(0));
            assertThat(b.getType()).isEqualTo(Bundle.BundleType.COLLECTION);
            assertThat(b.getMeta().getProfile().get(0).getValue()).isEqualTo("http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS");
            assertThat(b.getMeta().getTagFirstRep().getCode()).isEqualTo(kind.get(1));
            assertThat(b.getIdentifier().getValue()).startsWith("1318814790^"); // from the patient's local id system
            assertThat(b.getEntry().get(0).getResource()).isInstanceOf(Patient.class);
            List<Resource> sent = b.getEntry().subList(1, b.getEntry().size()).stream().map(Bundle.BundleEntryComponent::getResource).toList();
            List<Resource> expected = stored.get(kind.get(1));
            assertThat(sent).hasSize(expected.size());
            for (Resource e : expected) {
                Resource s = sent.stream().filter(x -> x.getIdElement().getIdPart().equals(e.getIdElement().getIdPart())).findFirst().orElseThrow();
                assertThat(code(s).equalsDeep(code(e))).as("codes kept as stored: " + FhirHttp.json(s)).isTrue();
            }
            assertOnlyListedUnavailableCodeSystems(validate(b));
        }
        // the MEDIS disease code of the data is in the Bundle
        Bundle conditions = export(PATIENT, "conditions");
        assertThat(FhirHttp.json(conditions)).contains("http://medis.or.jp/CodeSystem/master-disease-keyNumber");
        assertThat(FhirHttp.json(export(PATIENT, "labs"))).contains("JP_CLINS_ObsLabResult_LocalCode_CS");
        // information: the three of them
        Bundle information = export(PATIENT, "information");
        assertThat(information.getEntry()).extracting(e -> ((Bundle) e.getResource()).getMeta().getTagFirstRep().getCode())
                .containsExactly("Condition", "AllergyIntolerance", "Observation");
    }

    private static CodeableConcept code(Resource r) {
        if (r instanceof Condition c) {
            return c.getCode();
        }
        if (r instanceof AllergyIntolerance a) {
            return a.getCode();
        }
        return ((Observation) r).getCode();
    }

    @Test
    void aReferralLetterIsADocumentWithTheCompositionFirstAndValidates() throws Exception {
        String patient = "clins-referral-patient";
        Map<String, List<Resource>> stored = storeRealisticPatient(patient, "Observation-Example-JP-Obs-LabResult-eCS-Alb.json");
        // the author, both institutions and two prescriptions, as the examples give them
        Resource author = example("Practitioner-Example-JP-Practitioner-eCS-ReferralFrom01.json");
        Resource from = example("Organization-Example-JP-Org-eCS-Inst-Referral01.json");
        Resource to = example("Organization-Example-JP-Org-eCS-ReferralTo01.json");
        Resource toDoctor = example("Practitioner-Example-JP-Practitioner-eCS-ReferralTo01.json");
        List<Resource> prescriptions = new java.util.ArrayList<>();
        for (String f : List.of("MedicationRequest-Example-JP-MedReq-PO-TID-2days.json", "MedicationRequest-Example-JP-MedReq-PO-SID-28days.json")) {
            org.hl7.fhir.r4.model.MedicationRequest m = (org.hl7.fhir.r4.model.MedicationRequest) example(f);
            m.setId(patient + "-" + m.getIdElement().getIdPart());
            m.setSubject(new Reference("Patient/" + patient));
            prescriptions.add(m);
        }
        Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        List<Resource> all = new java.util.ArrayList<>(List.of(author, from, to, toDoctor));
        all.addAll(prescriptions);
        for (Resource r : all) {
            String ref = r.fhirType() + "/" + r.getIdElement().getIdPart();
            tx.addEntry().setFullUrl(ref).setResource(r).getRequest().setMethod(Bundle.HTTPVerb.PUT).setUrl(ref);
        }
        assertThat(admin.post("", FhirHttp.json(tx)).status()).isEqualTo(200);
        Patient p = admin.get("Patient/" + patient).as(Patient.class);
        p.addGeneralPractitioner(new Reference("Practitioner/" + author.getIdElement().getIdPart()));
        p.setManagingOrganization(new Reference("Organization/" + from.getIdElement().getIdPart()));
        assertThat(admin.put("Patient/" + patient, FhirHttp.json(p)).status()).isEqualTo(200);

        String query = "Patient/" + patient + "/$clins-export?type=referral&to-organization=" + to.getIdElement().getIdPart()
                + "&to-practitioner=" + toDoctor.getIdElement().getIdPart() + "&purpose=" + java.net.URLEncoder.encode("腹痛精査のお願い", java.nio.charset.StandardCharsets.UTF_8);
        Response r = admin.get(query);
        assertThat(r.status()).as(() -> r.status() == 422 ? String.join("\n", ClinsExchangeTest.errors(r)) : r.body()).isEqualTo(200);
        Bundle doc = r.as(Bundle.class);
        assertThat(doc.getType()).isEqualTo(Bundle.BundleType.DOCUMENT);
        org.hl7.fhir.r4.model.Composition c = (org.hl7.fhir.r4.model.Composition) doc.getEntry().get(0).getResource();
        assertThat(c.getTitle()).isEqualTo("診療情報提供書");
        assertThat(c.getSection()).extracting(sec -> sec.getCode().getCodingFirstRep().getCode()).containsExactly("920", "910", "300");
        assertThat(c.getSection().get(2).getSection()).extracting(sec -> sec.getCode().getCodingFirstRep().getCode())
                .contains("950", "340", "360", "510", "430", "620");
        assertThat(c.getSection().get(2).getSection().get(0).getText().getDivAsString()).contains("腹痛精査のお願い");
        // prescriptions are inside the document, as stored
        List<Resource> sentPrescriptions = doc.getEntry().stream().map(Bundle.BundleEntryComponent::getResource)
                .filter(x -> x.fhirType().equals("MedicationRequest")).toList();
        assertThat(sentPrescriptions).hasSize(prescriptions.size());
        assertThat(doc.getEntry().stream().filter(e -> e.getResource().fhirType().equals("Condition")).count())
                .isEqualTo(stored.get("Condition").size());
        assertOnlyListedUnavailableCodeSystems(validate(doc));

        // the information Bundles of a patient with a general practitioner and managing organization still validate
        assertOnlyListedUnavailableCodeSystems(validate(export(patient, "conditions")));

        // missing: the receiving institution and the purpose
        Response missing = admin.get("Patient/" + patient + "/$clins-export?type=referral");
        assertThat(missing.status()).isEqualTo(422);
        assertThat(missing.body()).contains("receiving institution").contains("purpose");
        // no inpatient stay: no discharge summary, said in words
        Response discharge = admin.get("Patient/" + patient + "/$clins-export?type=discharge");
        assertThat(discharge.status()).isEqualTo(422);
        assertThat(discharge.body()).contains("finished inpatient stay");
    }

    @Test
    void aDischargeSummaryIsADocumentWithTheCompositionFirstAndValidates() throws Exception {
        String patient = "clins-discharge-patient";
        Map<String, List<Resource>> stored = storeRealisticPatient(patient, "Observation-Example-JP-Obs-LabResult-eCS-K.json");
        Resource author = example("Practitioner-Example-JP-Practitioner-eCS-ReferralFrom01.json");
        Resource hospital = example("Organization-Example-JP-Org-eCS-Inst-Referral01.json");
        List<Resource> conditions = stored.get("Condition");
        Encounter stay = new Encounter();
        stay.setId(patient + "-stay");
        stay.setStatus(Encounter.EncounterStatus.FINISHED);
        stay.getClass_().setSystem("http://terminology.hl7.org/CodeSystem/v3-ActCode").setCode("IMP").setDisplay("入院");
        stay.setSubject(new Reference("Patient/" + patient));
        stay.getPeriod().setStartElement(new org.hl7.fhir.r4.model.DateTimeType("2024-01-10T10:00:00+09:00"))
                .setEndElement(new org.hl7.fhir.r4.model.DateTimeType("2024-01-20T11:00:00+09:00"));
        stay.addParticipant().setIndividual(new Reference("Practitioner/" + author.getIdElement().getIdPart()));
        stay.setServiceProvider(new Reference("Organization/" + hospital.getIdElement().getIdPart()));
        stay.addReasonCode().setText("腹痛精査");
        stay.addDiagnosis().setCondition(new Reference("Condition/" + conditions.get(0).getIdElement().getIdPart()))
                .setUse(new CodeableConcept().addCoding(new org.hl7.fhir.r4.model.Coding("http://terminology.hl7.org/CodeSystem/diagnosis-role", "AD", "Admission diagnosis")));
        stay.addDiagnosis().setCondition(new Reference("Condition/" + conditions.get(1).getIdElement().getIdPart()))
                .setUse(new CodeableConcept().addCoding(new org.hl7.fhir.r4.model.Coding("http://terminology.hl7.org/CodeSystem/diagnosis-role", "DD", "Discharge diagnosis")));
        stay.getHospitalization().getDischargeDisposition().setText("軽快退院")
                .addCoding().setSystem("http://jpfhir.jp/fhir/Common/CodeSystem/discharge-disposition").setCode("1").setDisplay("傷病が治癒・軽快");
        org.hl7.fhir.r4.model.DocumentReference course = (org.hl7.fhir.r4.model.DocumentReference)
                example("DocumentReference-Example-JP-DocRef-eCS-clinical-ccourse-Referral01.json");
        course.setId(patient + "-course");
        course.setSubject(new Reference("Patient/" + patient));
        course.getContext().addEncounter(new Reference("Encounter/" + stay.getIdElement().getIdPart()));
        org.hl7.fhir.r4.model.MedicationRequest med = (org.hl7.fhir.r4.model.MedicationRequest)
                example("MedicationRequest-Example-JP-MedReq-PO-SID-28days.json");
        med.setId(patient + "-discharge-med");
        med.setSubject(new Reference("Patient/" + patient));
        med.setEncounter(new Reference("Encounter/" + stay.getIdElement().getIdPart()));
        Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        for (Resource r : List.of(author, hospital, stay, course, med)) {
            String ref = r.fhirType() + "/" + r.getIdElement().getIdPart();
            tx.addEntry().setFullUrl(ref).setResource(r).getRequest().setMethod(Bundle.HTTPVerb.PUT).setUrl(ref);
        }
        Response w = admin.post("", FhirHttp.json(tx));
        assertThat(w.status()).as(w.body()).isEqualTo(200);

        Response r = admin.get("Patient/" + patient + "/$clins-export?type=discharge");
        assertThat(r.status()).as(() -> r.status() == 422 ? String.join("\n", ClinsExchangeTest.errors(r)) : r.body()).isEqualTo(200);
        Bundle doc = r.as(Bundle.class);
        assertThat(doc.getType()).isEqualTo(Bundle.BundleType.DOCUMENT);
        org.hl7.fhir.r4.model.Composition c = (org.hl7.fhir.r4.model.Composition) doc.getEntry().get(0).getResource();
        assertThat(c.getTitle()).isEqualTo("退院時サマリー");
        assertThat(c.getSection().get(0).getSection()).extracting(sec -> sec.getCode().getCodingFirstRep().getCode())
                .contains("322", "342", "352", "312", "362", "333", "324", "344", "444", "424");
        // the discharge diagnosis and the discharge prescription are the stored ones
        org.hl7.fhir.r4.model.Composition.SectionComponent dd = c.getSection().get(0).getSection().stream()
                .filter(sec -> sec.getCode().getCodingFirstRep().getCode().equals("344")).findFirst().orElseThrow();
        assertThat(dd.getEntry()).hasSize(1);
        assertThat(doc.getEntry().stream().filter(e -> e.getResource().fhirType().equals("MedicationRequest")).count()).isEqualTo(1);
        assertOnlyListedUnavailableCodeSystems(validate(doc));
    }

    @Test
    void missingMandatoryDataRefusesTheExportNamingIt() throws Exception {
        String patient = "clins-export-missing";
        storeRealisticPatient(patient, "Observation-Example-JP-Obs-LabResult-eCS-eGFR.json");
        // the eGFR result has no department (JP_eCS_Department), which a CLINS Bundle requires of every Observation
        Response r = admin.get("Patient/" + patient + "/$clins-export?type=labs");
        assertThat(r.status()).isEqualTo(422);
        assertThat(ClinsExchangeTest.errors(r)).anySatisfy(e -> assertThat(e).contains("R9014O"));

        // a patient with no institution number anywhere
        Patient bare = new Patient();
        bare.setId("clins-export-bare");
        bare.addName().setFamily("無番号");
        assertThat(admin.put("Patient/clins-export-bare", FhirHttp.json(bare)).status()).isIn(200, 201);
        Response none = admin.get("Patient/clins-export-bare/$clins-export?type=conditions");
        assertThat(none.status()).isEqualTo(422);
        assertThat(none.body()).contains("institution number").contains("urn:oid:1.2.392.100495.20.3.51.1");
    }

    @Test
    void theExportIsAReadOfThePatientsRecords() throws Exception {
        storeRealisticPatient("clins-export-auth", "Observation-Example-JP-Obs-LabResult-eCS-K.json");
        Response refused = clientWith("system/Observation.r").get("Patient/clins-export-auth/$clins-export?type=labs");
        assertThat(refused.status()).isEqualTo(403);
        Response unknown = admin.get("Patient/no-such-patient/$clins-export?type=labs");
        assertThat(unknown.status()).isEqualTo(404);
    }
}
