package jp.kiroku.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.ServerTest;

/**
 * JP Core 1.1.2 examples declare their profiles, so the server validates them on write (the package ships inside the
 * jar): every example is accepted, and a deliberately broken copy is refused with 422 naming the fault.
 */
class JpCoreExamplesTest extends ServerTest {

    static final Path EXAMPLES = Path.of("../shared/data/jpcore/jp-core-1.1.2-examples");

    private static List<Resource> examples() throws Exception {
        try (Stream<Path> files = Files.list(EXAMPLES)) {
            return files.filter(f -> f.toString().endsWith(".json")).sorted().map(f -> {
                try {
                    return (Resource) FhirHttp.CTX.newJsonParser().parseResource(Files.readString(f));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList();
        }
    }

    @Test
    void everyExampleIsAcceptedAndStoredUnderItsOwnId() throws Exception {
        List<Resource> all = examples();
        assertThat(all).hasSizeGreaterThan(40);
        // most declare a JP Core profile, so the write path validates them against it
        assertThat(all.stream().filter(r -> r.getMeta().hasProfile()).count()).isGreaterThan(30);
        // one transaction of PUTs: the examples refer to each other by these ids
        Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        for (Resource r : all) {
            String ref = r.fhirType() + "/" + r.getIdElement().getIdPart();
            tx.addEntry().setFullUrl(ref).setResource(r).getRequest().setMethod(Bundle.HTTPVerb.PUT).setUrl(ref);
        }
        Response r = admin.post("", FhirHttp.json(tx));
        assertThat(r.status()).as(r.body().substring(0, Math.min(2000, r.body().length()))).isEqualTo(200);
        for (Resource ex : all) {
            assertThat(admin.get(ex.fhirType() + "/" + ex.getIdElement().getIdPart()).status()).isEqualTo(200);
        }
    }

    @Test
    void aBrokenCopyIsRefusedWithAnOutcomeNamingTheFault() throws Exception {
        Patient patient = (Patient) examples().stream().filter(r -> r instanceof Patient).findFirst().orElseThrow();
        String id = "broken-" + java.util.UUID.randomUUID(); // unique, so that reruns against one database agree
        patient.setId(id);
        patient.getIdentifierFirstRep().setValue(null); // JP_Patient requires identifier.value (1..1)
        Response r = admin.put("Patient/" + id, FhirHttp.json(patient));
        assertThat(r.status()).isEqualTo(422);
        OperationOutcome oo = r.as(OperationOutcome.class);
        assertThat(oo.getIssue()).anySatisfy(i -> {
            assertThat(i.getSeverity()).isEqualTo(OperationOutcome.IssueSeverity.ERROR);
            assertThat(i.getDiagnostics()).contains("Patient.identifier.value");
        });
        assertThat(admin.get("Patient/" + id).status()).isEqualTo(404);

        // $validate says the same without storing anything
        Response v = admin.post("Patient/$validate", FhirHttp.json(patient));
        assertThat(v.status()).isIn(200, 412, 422);
        assertThat(v.body()).contains("Patient.identifier.value");

        // without the profile claim the same resource is valid base R4 and is stored (the profile made the error)
        patient.getMeta().getProfile().clear();
        assertThat(admin.put("Patient/" + id, FhirHttp.json(patient)).status()).isEqualTo(201);
    }
}
