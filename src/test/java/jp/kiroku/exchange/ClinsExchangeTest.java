package jp.kiroku.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.ServerTest;

/**
 * JP-CLINS import (SHARE-02): the IG's examples, read unchanged from ../shared, are stored and read back equal
 * (ignoring the server's meta.versionId/lastUpdated), the Bundles' entries become searchable, and the error examples are
 * refused with the fault each one demonstrates; the insurance-id (R1013) and institution-number (R1021) rules decide.
 */
@Tag("SHARE-02")
class ClinsExchangeTest extends ServerTest {

    static final Path EXAMPLES = Path.of("../shared/data/jpcore/clins-examples");

    static final List<String> REFERENCED_FIRST = List.of("Patient", "Organization", "Practitioner", "Encounter");

    static List<Path> files(boolean errorExamples) throws IOException {
        try (Stream<Path> s = Files.list(EXAMPLES)) {
            return s.filter(f -> f.toString().endsWith(".json"))
                    .filter(f -> f.getFileName().toString().contains("ErrorExample") == errorExamples)
                    // what others reference literally (Patient/<id>, Encounter/<id>, ...) first
                    .sorted(Comparator.comparing((Path f) -> REFERENCED_FIRST.stream()
                            .filter(t -> f.getFileName().toString().startsWith(t + "-")).findFirst()
                            .map(REFERENCED_FIRST::indexOf).orElse(REFERENCED_FIRST.size()))
                            .thenComparing(Path::toString))
                    .toList();
        }
    }

    static Resource parse(String json) {
        return (Resource) FhirHttp.CTX.newJsonParser().parseResource(json);
    }

    /** What the comparison ignores: the server's version and time, its own tags, the id's base and version. */
    static Resource normalised(Resource r) {
        Resource c = r.copy();
        c.getMeta().setVersionId(null);
        c.getMeta().setLastUpdated(null);
        c.getMeta().getTag().removeIf(t -> t.getSystem() != null && t.getSystem().startsWith("http://kiroku.jp/"));
        c.setId(c.getIdElement().getIdPart());
        return c;
    }

    private Response clinsImport(String body) {
        return admin.post("$clins-import", body);
    }

    @Test
    void everyExampleImportsAndExportsEqualToTheInput() throws Exception {
        List<String> checked = new ArrayList<>();
        for (Path f : files(false)) {
            String text = Files.readString(f);
            if (f.getFileName().toString().equals(FRAGMENT)) {
                continue; // see aBundleFragmentIsRefusedAloneButRoundTripsInItsBundle
            }
            Response r = clinsImport(text);
            assertThat(r.status()).as(f.getFileName() + ": " + r.body()).isEqualTo(200);
            Resource input = parse(text);
            String type = input.fhirType();
            String id = input.getIdElement().getIdPart();
            Response back = type.equals("Bundle") ? admin.get("Bundle/" + id)
                    : admin.get(type + "/" + id);
            assertThat(back.status()).as(f.getFileName() + ": " + back.body()).isEqualTo(200);
            Resource output = parse(back.body());
            assertThat(normalised(output).equalsDeep(normalised(input)))
                    .as(f.getFileName() + " read back differs:\n" + FhirHttp.json(normalised(output)) + "\nvs\n" + FhirHttp.json(normalised(input)))
                    .isTrue();
            checked.add(f.getFileName().toString());
        }
        assertThat(checked).hasSize(files(false).size() - 1).hasSizeGreaterThan(50);
    }

    /** The CarePlan example's subject is urn:uuid:… — the Patient entry of the PCS Bundle it was cut from. */
    static final String FRAGMENT = "CarePlan-Example-JP-CarePlan-eCS-HT.json";

    @Test
    void aBundleFragmentIsRefusedAloneButRoundTripsInItsBundle() throws Exception {
        String text = Files.readString(EXAMPLES.resolve(FRAGMENT));
        Response alone = clinsImport(text);
        assertThat(alone.status()).isEqualTo(400);
        assertThat(alone.body()).contains("Unresolvable reference 'urn:uuid:0a48a4bf-0d87-4efb-aafd-d45e0842a4dd'");

        String pcs = Files.readString(EXAMPLES.resolve("Bundle-Bundle-CLINS-PCS-Example-01.json"));
        assertThat(clinsImport(pcs).status()).isEqualTo(200);
        Resource carePlan = parse(text);
        Bundle back = admin.get("Bundle/Bundle-CLINS-PCS-Example-01").as(Bundle.class);
        assertThat(back.getEntry()).anySatisfy(e -> assertThat(normalised(e.getResource()).equalsDeep(normalised(carePlan))).isTrue());
        // and as a resource of its own, its subject now the stored Patient
        Response stored = admin.get("CarePlan/" + carePlan.getIdElement().getIdPart());
        assertThat(stored.status()).isEqualTo(200);
        assertThat(((org.hl7.fhir.r4.model.CarePlan) parse(stored.body())).getSubject().getReference())
                .isEqualTo("Patient/Example-JP-Patient-eCS-MAKINOInline");
    }

    @org.springframework.beans.factory.annotation.Autowired
    jp.kiroku.identity.Accounts accounts;
    @org.springframework.beans.factory.annotation.Autowired
    org.springframework.jdbc.core.JdbcTemplate jdbc;

    /**
     * A stored document holds the patient's data: it is placed in their compartment as a clinical record, so a clerk
     * (who reads the facility's master data) does not reach it and the patient does.
     */
    @Test
    void aStoredDocumentIsThePatientsClinicalRecord() throws Exception {
        String text = Files.readString(EXAMPLES.resolve("Bundle-Bundle-CLINS-Observations-Example-01.json"));
        assertThat(clinsImport(text).status()).isEqualTo(200);
        Bundle input = (Bundle) parse(text);
        String bundle = input.getIdElement().getIdPart();
        var entry = input.getEntry().stream().filter(e -> e.getResource() instanceof Patient).findFirst().orElseThrow();
        String patient = entry.getResource().getIdElement().hasIdPart() ? entry.getResource().getIdElement().getIdPart()
                : entry.getFullUrl().substring("urn:uuid:".length());
        var placement = jdbc.queryForMap("SELECT patient_key, category FROM resource_current WHERE res_type = 'Bundle' AND"
                + " res_id = ?", bundle);
        assertThat(placement).containsEntry("patient_key", patient).containsEntry("category", "clinical");

        String s = java.util.UUID.randomUUID().toString().substring(0, 6);
        var app = clients.createApp("clins test " + s, List.of(anonymous.root() + "/callback"), List.of("openid", "user/*.cruds"),
                true, jp.kiroku.audit.Agent.localOperator());
        FhirHttp clerk = person(app.clientId(), "clk" + s, "staff", "clerk", "medical-clerk", null);
        FhirHttp own = person(app.clientId(), "cpt" + s, "patient", "patient", null, "Patient/" + patient);
        assertThat(clerk.get("Bundle/" + bundle).status()).isEqualTo(403);
        assertThat(clerk.get("Bundle?_id=" + bundle).status()).as("no clerk reads clinical records").isEqualTo(403);
        assertThat(own.get("Bundle/" + bundle).status()).isEqualTo(200);
    }

    private FhirHttp person(String clientId, String username, String kind, String role, String profession, String fhirRef) {
        var issued = accounts.create(new jp.kiroku.identity.NewAccount(username, kind, List.of(role), "試験 " + username,
                jp.kiroku.support.PersonLogin.katakana(username), null, java.time.LocalDate.of(1980, 1, 1), profession, null,
                null, fhirRef), jp.kiroku.audit.Agent.localOperator());
        return anonymous.withToken(jp.kiroku.support.PersonLogin.appToken(anonymous.root(), clientId, "openid user/*.cruds",
                username, issued.oneTimePassword()));
    }

    @Test
    void aBundlesEntriesBecomeSearchableResourcesOfItsPatient() throws Exception {
        String text = Files.readString(EXAMPLES.resolve("Bundle-Bundle-CLINS-Referral-Example-01.json"));
        assertThat(clinsImport(text).status()).isEqualTo(200);
        Bundle input = (Bundle) parse(text);
        String patient = input.getEntry().stream().map(Bundle.BundleEntryComponent::getResource)
                .filter(Patient.class::isInstance).findFirst().orElseThrow().getIdElement().getIdPart();
        long conditions = input.getEntry().stream().filter(e -> e.getResource().fhirType().equals("Condition")).count();
        long allergies = input.getEntry().stream().filter(e -> e.getResource().fhirType().equals("AllergyIntolerance")).count();
        assertThat(conditions).isEqualTo(5);
        Response found = admin.get("Condition?subject=Patient/" + patient);
        assertThat(found.status()).as(found.body()).isEqualTo(200);
        assertThat(found.as(Bundle.class).getTotal()).isEqualTo((int) conditions);
        assertThat(admin.get("AllergyIntolerance?patient=Patient/" + patient).as(Bundle.class).getTotal()).isEqualTo((int) allergies);
        // the stored entries' urn:uuid references now point at the stored Patient
        Bundle c = admin.get("Condition?subject=Patient/" + patient).as(Bundle.class);
        assertThat(c.getEntry()).allSatisfy(e -> assertThat(((org.hl7.fhir.r4.model.Condition) e.getResource())
                .getSubject().getReference()).isEqualTo("Patient/" + patient));
    }

    @Test
    void errorExampleWithoutAStandardDrugCodeIsRefusedNamingR3010() throws Exception {
        Response r = clinsImport(Files.readString(EXAMPLES.resolve("MedicationRequest-ErrorExample-JP-MedReq-ExtEye-Total1.json")));
        assertThat(r.status()).isEqualTo(422);
        assertThat(errors(r)).anySatisfy(e -> assertThat(e).contains("R3010").contains("needs-anyOfStandardCode-medication"));
        assertThat(admin.get("MedicationRequest/ErrorExample-JP-MedReq-ExtEye-Total1").status()).isEqualTo(404);
    }

    @Test
    void errorExampleWithoutALocalLabCodeIsRefusedNamingIt() throws Exception {
        Response r = clinsImport(Files.readString(EXAMPLES.resolve("Observation-ErrorExample-ObsLabo-eGFR.json")));
        assertThat(r.status()).isEqualTo(422);
        assertThat(errors(r)).anySatisfy(e -> assertThat(e).contains("CLINS-LAB-LOCAL")
                .contains("JP_CLINS_ObsLabResult_LocalCode_CS"));
    }

    /**
     * The third error example has a wrong MHLW general-name drug code (2124030F2ZZZ for 1124030F2ZZZ). That code system
     * is one of the unavailable ones, so the fault cannot be seen offline: the import is accepted and the outcome says the
     * code was not checked. This test pins that limit (docs/exchange.md) rather than pretending otherwise.
     */
    @Test
    void errorExampleWithAWrongGeneralNameCodeIsOnlyFlaggedAsUncheckable() throws Exception {
        Response r = clinsImport(Files.readString(EXAMPLES.resolve("MedicationRequest-ErrorExample-JP-MedReq-PO-SID-28days.json")));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        OperationOutcome oo = r.as(OperationOutcome.class);
        assertThat(oo.getIssue()).anySatisfy(i -> {
            assertThat(i.getSeverity()).isEqualTo(OperationOutcome.IssueSeverity.WARNING);
            assertThat(i.getDiagnostics()).contains("MedicationGeneralOrderCode#2124030F2ZZZ").contains("listed unavailable code system");
        });
    }

    @Test
    void insuranceMemberIdFormatR1013DecidesThePatient() throws Exception {
        Patient valid = (Patient) parse(Files.readString(EXAMPLES.resolve("Patient-Example-JP-Patient-eCS-MAKINO.json")));
        valid.setId("r1013-valid");
        assertThat(clinsImport(FhirHttp.json(valid)).status()).isEqualTo(200);
        Patient invalid = valid.copy();
        invalid.setId("r1013-invalid");
        invalid.getIdentifier().stream().filter(i -> i.getSystem().endsWith("JP_Insurance_memberID"))
                .forEach(i -> i.setValue("0012345:あいう:１８７:05")); // insurer number 7 digits, not 8
        Response r = clinsImport(FhirHttp.json(invalid));
        assertThat(r.status()).isEqualTo(422);
        assertThat(errors(r)).anySatisfy(e -> assertThat(e).contains("R1013"));
    }

    @Test
    void institutionNumberR1021DecidesTheOrganization() throws Exception {
        Organization org = (Organization) parse(Files.readString(EXAMPLES.resolve("Organization-Example-JP-Org-eCS-Inst-Referral01.json")));
        org.setId("r1021-valid");
        assertThat(clinsImport(FhirHttp.json(org)).status()).isEqualTo(200);
        Organization bad = org.copy();
        bad.setId("r1021-invalid");
        bad.getIdentifier().stream().filter(i -> i.getSystem().endsWith("insurance-medical-institution-no"))
                .forEach(i -> i.setValue("9919876543")); // prefecture 99 does not exist
        Response r = clinsImport(FhirHttp.json(bad));
        assertThat(r.status()).isEqualTo(422);
        assertThat(errors(r)).anySatisfy(e -> assertThat(e).contains("R1021").contains("9919876543"));
    }

    @Test
    void institutionNumberR1021DecidesABundle() throws Exception {
        Bundle b = (Bundle) parse(Files.readString(EXAMPLES.resolve("Bundle-Bundle-CLINS-Observations-Example-01.json")));
        b.setId("r1021-bundle");
        ((org.hl7.fhir.r4.model.DomainResource) b.getEntry().get(1).getResource()).getExtension().stream()
                .filter(x -> x.getUrl().endsWith("JP_eCS_InstitutionNumber"))
                .forEach(x -> ((org.hl7.fhir.r4.model.Identifier) x.getValue()).setValue("131881479")); // 9 digits
        Response r = clinsImport(FhirHttp.json(b));
        assertThat(r.status()).isEqualTo(422);
        assertThat(errors(r)).anySatisfy(e -> assertThat(e).contains("R1021").contains("131881479"));
    }

    static List<String> errors(Response r) {
        OperationOutcome oo = r.as(OperationOutcome.class);
        return oo.getIssue().stream().filter(i -> i.getSeverity() == OperationOutcome.IssueSeverity.ERROR
                || i.getSeverity() == OperationOutcome.IssueSeverity.FATAL).map(OperationOutcome.OperationOutcomeIssueComponent::getDiagnostics).toList();
    }
}
