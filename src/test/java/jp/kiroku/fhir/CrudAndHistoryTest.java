package jp.kiroku.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.ServerTest;

/** create, read, update, vread, delete and history through real HTTP, with the versioning rules of INTEG-03. */
class CrudAndHistoryTest extends ServerTest {

    @Autowired
    JdbcTemplate jdbc;

    private String createPatient(String family) {
        Response r = admin.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(r.header("ETag")).isEqualTo("W/\"1\"");
        return r.as(Patient.class).getIdElement().getIdPart();
    }

    @Test
    @Tag("INTEG-03")
    void everyUpdateAddsAVersionAndOldVersionsStayReadable() throws Exception {
        String id = createPatient("山田");
        for (String family : new String[] {"山田一", "山田二", "山田三"}) {
            Response u = admin.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id
                    + "\",\"name\":[{\"family\":\"" + family + "\"}]}");
            assertThat(u.status()).as(u.body()).isEqualTo(200);
        }
        Response current = admin.get("Patient/" + id);
        assertThat(current.status()).isEqualTo(200);
        Patient p = current.as(Patient.class);
        assertThat(p.getMeta().getVersionId()).isEqualTo("4");
        assertThat(p.getNameFirstRep().getFamily()).isEqualTo("山田三");

        assertThat(admin.get("Patient/" + id + "/_history/1").as(Patient.class).getNameFirstRep().getFamily()).isEqualTo("山田");
        assertThat(admin.get("Patient/" + id + "/_history/3").as(Patient.class).getNameFirstRep().getFamily()).isEqualTo("山田二");
        assertThat(admin.get("Patient/" + id + "/_history/9").status()).isEqualTo(404);

        Bundle history = admin.get("Patient/" + id + "/_history").as(Bundle.class);
        assertThat(history.getType()).isEqualTo(Bundle.BundleType.HISTORY);
        assertThat(history.getEntry()).extracting(e -> e.getResource().getMeta().getVersionId())
                .containsExactly("4", "3", "2", "1");
        // the store keeps one row per version, each with the hash of the exact bytes stored for it (sealed at rest;
        // a plain-JSON read answers those bytes unchanged)
        for (int v = 1; v <= 4; v++) {
            String stored = jdbc.queryForObject("SELECT encode(content_hash, 'hex') FROM resource_version WHERE"
                    + " res_type = 'Patient' AND res_id = ? AND version_id = ?", String.class, id, v);
            assertThat(stored).isEqualTo(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(admin.get("Patient/" + id + "/_history/" + v).body().getBytes(java.nio.charset.StandardCharsets.UTF_8))));
        }
    }

    @Test
    @Tag("INTEG-03")
    void deleteIsATombstoneAndReadsAnswerGone() {
        String id = createPatient("削除");
        Response d = admin.delete("Patient/" + id);
        assertThat(d.status()).as(d.body()).isEqualTo(200);
        Response gone = admin.get("Patient/" + id);
        assertThat(gone.status()).isEqualTo(410);
        assertThat(gone.as(OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("deleted");
        // the version before the delete is still there, and history shows the delete
        assertThat(admin.get("Patient/" + id + "/_history/1").status()).isEqualTo(200);
        Bundle history = admin.get("Patient/" + id + "/_history").as(Bundle.class);
        assertThat(history.getEntry()).hasSize(2);
        assertThat(history.getEntryFirstRep().getRequest().getMethod()).isEqualTo(Bundle.HTTPVerb.DELETE);
        assertThat(history.getEntryFirstRep().hasResource()).isFalse();
        // updating after delete brings it back as a new version
        Response back = admin.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"}");
        assertThat(back.status()).isEqualTo(201);
        assertThat(back.header("ETag")).isEqualTo("W/\"3\"");
    }

    @Test
    void ifMatchWithAStaleVersionIsRefusedWith412() {
        String id = createPatient("楽観");
        String body = "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"active\":true}";
        assertThat(admin.put("Patient/" + id, body, Map.of("If-Match", "W/\"1\"")).status()).isEqualTo(200);
        Response stale = admin.put("Patient/" + id, body, Map.of("If-Match", "W/\"1\""));
        assertThat(stale.status()).isEqualTo(412);
        assertThat(stale.as(OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("version 2");
        assertThat(admin.delete("Patient/" + id, Map.of("If-Match", "W/\"1\"")).status()).isEqualTo(412);
        assertThat(admin.get("Patient/" + id).header("ETag")).isEqualTo("W/\"2\"");
    }

    @Test
    void updateCreatesWithAClientChosenIdIncludingNumericOnes() {
        Response r = admin.put("Location/1", "{\"resourceType\":\"Location\",\"id\":\"1\",\"name\":\"外来\"}");
        assertThat(r.status()).as(r.body()).isIn(200, 201);
        assertThat(admin.get("Location/1").status()).isEqualTo(200);
    }

    @Test
    void referencesMustResolveAndReferencedResourcesCannotBeDeleted() {
        Response dangling = admin.post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\","
                + "\"code\":{\"text\":\"体温\"},\"subject\":{\"reference\":\"Patient/does-not-exist\"}}");
        assertThat(dangling.status()).isEqualTo(400);
        assertThat(dangling.body()).contains("Patient/does-not-exist");

        String patient = createPatient("参照");
        Response obs = admin.post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\","
                + "\"code\":{\"text\":\"体温\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}");
        assertThat(obs.status()).isEqualTo(201);
        String obsId = obs.as(Observation.class).getIdElement().getIdPart();
        Response refused = admin.delete("Patient/" + patient);
        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.body()).contains("Observation/" + obsId);
        assertThat(admin.delete("Observation/" + obsId).status()).isEqualTo(200);
        assertThat(admin.delete("Patient/" + patient).status()).isEqualTo(200);
        // the observation's patient compartment key was recorded
        assertThat(jdbc.queryForObject("SELECT patient_key FROM resource_version WHERE res_type='Observation'"
                + " AND res_id=? AND version_id=1", String.class, obsId)).isEqualTo(patient);
    }

    @Test
    void typeAndSystemHistoryPageThroughEverything() {
        for (int i = 0; i < 7; i++) {
            assertThat(admin.post("Device", "{\"resourceType\":\"Device\",\"serialNumber\":\"SN-" + i + "\"}").status()).isEqualTo(201);
        }
        Bundle page = admin.get("Device/_history?_count=3").as(Bundle.class);
        int seen = 0;
        int pages = 0;
        java.util.Set<String> ids = new java.util.HashSet<>();
        while (true) {
            pages++;
            for (var e : page.getEntry()) {
                ids.add(e.getResource().getIdElement().getIdPart() + "/" + e.getResource().getMeta().getVersionId());
                seen++;
            }
            if (page.getLink("next") == null) {
                break;
            }
            Response next = admin.get(page.getLink("next").getUrl());
            assertThat(next.status()).as(next.body()).isEqualTo(200);
            page = next.as(Bundle.class);
        }
        assertThat(seen).isEqualTo(ids.size()).isGreaterThanOrEqualTo(7);
        assertThat(pages).isGreaterThanOrEqualTo(3);
        assertThat(page.getTotal()).isEqualTo(seen);

        Bundle system = admin.get("_history?_count=5").as(Bundle.class);
        assertThat(system.getEntry()).hasSize(5);
        String since = java.time.Instant.now().plusSeconds(3600).toString();
        assertThat(admin.get("Device/_history?_since=" + since).as(Bundle.class).getEntry()).isEmpty();
    }

    @Test
    void jsonAndXmlAndPrettyFormats() {
        String id = createPatient("形式");
        Response xml = admin.get("Patient/" + id + "?_format=xml");
        assertThat(xml.status()).isEqualTo(200);
        assertThat(xml.body()).startsWith("<Patient xmlns=\"http://hl7.org/fhir\">");
        Response pretty = admin.get("Patient/" + id + "?_pretty=true");
        assertThat(pretty.body()).contains("\n");
        Response postedXml = admin.send("POST", "Patient", "application/fhir+xml",
                "<Patient xmlns=\"http://hl7.org/fhir\"><active value=\"true\"/></Patient>");
        assertThat(postedXml.status()).as(postedXml.body()).isEqualTo(201);
    }
}
