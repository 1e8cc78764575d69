package jp.kiroku.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.ServerTest;

/** Conditional create, update, delete and references, resolved with the search index. */
class ConditionalTest extends ServerTest {

    private static String patient(String identifier) {
        return "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:test:mrn\",\"value\":\"" + identifier + "\"}]}";
    }

    private int countPatients(String identifier) {
        return admin.get("Patient?identifier=urn:test:mrn%7C" + identifier).as(Bundle.class).getTotal();
    }

    @Test
    void conditionalCreateCreatesOnceThenReturnsTheExistingResource() {
        String mrn = "c" + System.nanoTime();
        Map<String, String> condition = Map.of("If-None-Exist", "identifier=urn:test:mrn|" + mrn);
        Response first = admin.post("Patient", patient(mrn), condition);
        assertThat(first.status()).isEqualTo(201);
        String id = first.as(Patient.class).getIdElement().getIdPart();
        Response second = admin.post("Patient", patient(mrn), condition);
        assertThat(second.status()).isEqualTo(200);
        assertThat(second.as(Patient.class).getIdElement().getIdPart()).isEqualTo(id);
        assertThat(countPatients(mrn)).isEqualTo(1);

        // a second resource with the same identifier makes the condition ambiguous: 412, nothing written
        assertThat(admin.put("Patient/dup-" + mrn, patient(mrn).replace("{\"resourceType\":\"Patient\",",
                "{\"resourceType\":\"Patient\",\"id\":\"dup-" + mrn + "\",")).status()).isEqualTo(201);
        assertThat(admin.post("Patient", patient(mrn), condition).status()).isEqualTo(412);
        assertThat(countPatients(mrn)).isEqualTo(2);
    }

    @Test
    void aConditionWithAParameterTheServerCannotEvaluateIsRefusedNotWidened() {
        Response r = admin.post("Patient", patient("x"), Map.of("If-None-Exist", "identifer=urn:test:mrn|x"));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).contains("identifer");
    }

    @Test
    void conditionalUpdateCreatesThenUpdatesTheMatch() {
        String mrn = "u" + System.nanoTime();
        Response created = admin.put("Patient?identifier=urn:test:mrn%7C" + mrn, patient(mrn));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String id = created.as(Patient.class).getIdElement().getIdPart();
        Response updated = admin.put("Patient?identifier=urn:test:mrn%7C" + mrn, patient(mrn).replace("]}", "],\"active\":true}"));
        assertThat(updated.status()).as(updated.body()).isEqualTo(200);
        assertThat(updated.as(Patient.class).getIdElement().getIdPart()).isEqualTo(id);
        assertThat(updated.header("ETag")).isEqualTo("W/\"2\"");
        assertThat(countPatients(mrn)).isEqualTo(1);
    }

    @Test
    void conditionalDeleteDeletesTheMatchOrNothing() {
        String mrn = "d" + System.nanoTime();
        String id = admin.post("Patient", patient(mrn)).as(Patient.class).getIdElement().getIdPart();
        assertThat(admin.delete("Patient?identifier=urn:test:mrn%7C" + mrn).status()).isEqualTo(200);
        assertThat(admin.get("Patient/" + id).status()).isEqualTo(410);
        Response none = admin.delete("Patient?identifier=urn:test:mrn%7C" + mrn);
        assertThat(none.status()).isEqualTo(200);
        assertThat(none.body()).contains("Nothing to delete");
    }

    @Test
    void transactionsUseConditionalCreatesAndConditionalReferences() {
        String mrn = "t" + System.nanoTime();
        String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                + "{\"fullUrl\":\"urn:uuid:b0000000-0000-0000-0000-000000000001\",\"resource\":" + patient(mrn) + ","
                + "\"request\":{\"method\":\"POST\",\"url\":\"Patient\",\"ifNoneExist\":\"identifier=urn:test:mrn|" + mrn + "\"}},"
                + "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"Patient?identifier=urn:test:mrn|" + mrn + "\"}},"
                + "\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}";
        Response first = admin.post("", bundle);
        assertThat(first.status()).as(first.body()).isEqualTo(200);
        Bundle r1 = first.as(Bundle.class);
        assertThat(r1.getEntry().get(0).getResponse().getStatus()).isEqualTo("201 Created");
        String patientRef = r1.getEntry().get(0).getResponse().getLocation().replaceFirst("/_history/.*", "");
        String obs1 = r1.getEntry().get(1).getResponse().getLocation().replaceFirst("/_history/.*", "");
        assertThat(admin.get(obs1).as(Observation.class).getSubject().getReference()).isEqualTo(patientRef);

        // the same bundle again: the Patient exists (200, nothing written), the new Observation refers to it
        Response second = admin.post("", bundle);
        assertThat(second.status()).as(second.body()).isEqualTo(200);
        Bundle r2 = second.as(Bundle.class);
        assertThat(r2.getEntry().get(0).getResponse().getStatus()).isEqualTo("200 OK");
        assertThat(r2.getEntry().get(0).getResponse().getLocation()).startsWith(patientRef + "/_history/1");
        String obs2 = r2.getEntry().get(1).getResponse().getLocation().replaceFirst("/_history/.*", "");
        assertThat(admin.get(obs2).as(Observation.class).getSubject().getReference()).isEqualTo(patientRef);
        assertThat(countPatients(mrn)).isEqualTo(1);
    }

    @Test
    void twoConditionalCreatesWithTheSameConditionInOneTransactionAreRefused() {
        String mrn = "x" + System.nanoTime();
        String entry = "{\"resource\":" + patient(mrn) + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\","
                + "\"ifNoneExist\":\"identifier=urn:test:mrn|" + mrn + "\"}}";
        Response r = admin.post("", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + entry + "," + entry + "]}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).contains("same condition");
        assertThat(countPatients(mrn)).isZero();
    }

    @Test
    void aConditionalReferenceThatMatchesNothingFailsTheTransaction() {
        String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                + "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"Patient?identifier=urn:test:mrn|nobody-" + System.nanoTime() + "\"}},"
                + "\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}";
        Response r = admin.post("", bundle);
        assertThat(r.status()).isEqualTo(412);
        assertThat(r.body()).contains("matches no resource");
    }
}
