package jp.kiroku.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.ServerTest;

/**
 * Every FHIR interaction leaves exactly one audit event naming what it touched (LOG-01), and a request whose event
 * cannot be recorded fails without returning data (fail closed).
 */
@Tag("LOG-01")
class AuditEventsTest extends ServerTest {

    @Autowired
    JdbcTemplate jdbc;

    /** One interaction, what it sends, and the event it must leave. */
    private record Case(String name, Function<FhirHttp, FhirHttp.Response> call, String action, String outcome,
                        Function<String, List<String>> entities) {
    }

    @Test
    void everyInteractionLeavesExactlyTheExpectedEvent() {
        String id = admin.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"監査\"}]}")
                .as(Patient.class).getIdElement().getIdPart();
        String obs = admin.post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"Patient/" + id + "\"}}").as(org.hl7.fhir.r4.model.Observation.class)
                .getIdElement().getIdPart();
        FhirHttp reader = clientWith("system/Observation.read");
        List<Case> cases = List.of(
                new Case("read", h -> h.get("Patient/" + id), "read", "success", p -> List.of("Patient/" + p + "/_history/1")),
                new Case("vread", h -> h.get("Patient/" + id + "/_history/1"), "vread", "success",
                        p -> List.of("Patient/" + p + "/_history/1")),
                new Case("search", h -> h.get("Observation?subject=Patient/" + id), "search", "success",
                        p -> List.of("Observation/" + obs + "/_history/1")),
                new Case("search with include", h -> h.get("Observation?subject=Patient/" + id + "&_include=Observation:subject"),
                        "search", "success", p -> List.of("Observation/" + obs + "/_history/1", "Patient/" + p + "/_history/1")),
                new Case("history", h -> h.get("Patient/" + id + "/_history"), "history", "success",
                        p -> List.of("Patient/" + p + "/_history/1")),
                new Case("everything", h -> h.get("Patient/" + id + "/$everything"), "everything", "success",
                        p -> List.of("Patient/" + p + "/_history/1", "Observation/" + obs + "/_history/1")),
                new Case("update", h -> h.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"}"), "update",
                        "success", p -> List.of("Patient/" + p + "/_history/2")),
                new Case("delete", h -> h.delete("Observation/" + obs), "delete", "success",
                        p -> List.of("Observation/" + obs + "/_history/2")),
                new Case("read refused", h -> reader.get("Patient/" + id), "read", "denied", p -> List.of("Patient")),
                new Case("read of an unknown id", h -> h.get("Patient/no-such-id"), "read", "failed",
                        p -> List.of("Patient/no-such-id")));
        for (Case c : cases) {
            long before = lastSeq();
            FhirHttp.Response r = c.call().apply(admin);
            List<Map<String, Object>> events = jdbc.queryForList("SELECT action, outcome, agent_id, patients, entities, request_id"
                    + " FROM audit_log WHERE seq > ? ORDER BY seq", before);
            assertThat(events).as(c.name() + " (HTTP " + r.status() + ")").hasSize(1);
            Map<String, Object> e = events.get(0);
            assertThat(e.get("action")).as(c.name()).isEqualTo(c.action());
            assertThat(e.get("outcome")).as(c.name()).isEqualTo(c.outcome());
            assertThat(texts(e.get("entities"))).as(c.name()).containsExactlyInAnyOrderElementsOf(c.entities().apply(id));
            if (c.outcome().equals("success")) {
                assertThat(texts(e.get("patients"))).as(c.name()).containsExactly(id);
            }
            assertThat((String) e.get("request_id")).as(c.name()).isNotBlank();
        }
    }

    @Test
    void aTransactionIsOneEventNamingEveryVersionItWrote() {
        long before = lastSeq();
        String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                + "{\"fullUrl\":\"urn:uuid:21111111-1111-1111-1111-111111111111\",\"resource\":{\"resourceType\":\"Patient\"},"
                + "\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},"
                + "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"urn:uuid:21111111-1111-1111-1111-111111111111\"}},"
                + "\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}";
        assertThat(admin.post("", bundle).status()).isEqualTo(200);
        List<Map<String, Object>> events = jdbc.queryForList("SELECT action, patients, entities FROM audit_log WHERE seq > ?"
                + " ORDER BY seq", before);
        assertThat(events).hasSize(1);
        assertThat(events.get(0).get("action")).isEqualTo("transaction");
        List<String> entities = texts(events.get(0).get("entities"));
        assertThat(entities).hasSize(2).anyMatch(s -> s.startsWith("Patient/")).anyMatch(s -> s.startsWith("Observation/"));
        String patient = entities.stream().filter(s -> s.startsWith("Patient/")).findFirst().orElseThrow().split("/")[1];
        assertThat(texts(events.get(0).get("patients"))).containsExactly(patient);
    }

    @Test
    void aRequestWhoseEventCannotBeRecordedFailsWithoutItsData() {
        String id = admin.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"記録不能\"}]}")
                .as(Patient.class).getIdElement().getIdPart();
        long versions = jdbc.queryForObject("SELECT count(*) FROM resource_version", Long.class);
        // the audit table refuses every insert (the append-only trigger function raises)
        jdbc.execute("CREATE TRIGGER audit_log_unwritable BEFORE INSERT ON audit_log FOR EACH ROW"
                + " EXECUTE FUNCTION kiroku_refuse_change()");
        try {
            FhirHttp.Response read = admin.get("Patient/" + id);
            assertThat(read.status()).isEqualTo(500);
            assertThat(read.body()).doesNotContain("記録不能");
            FhirHttp.Response search = admin.get("Patient?family=記録不能");
            assertThat(search.status()).isEqualTo(500);
            assertThat(search.body()).doesNotContain("記録不能").doesNotContain(id);
            assertThat(admin.post("Patient", "{\"resourceType\":\"Patient\"}").status()).isEqualTo(500);
            assertThat(jdbc.queryForObject("SELECT count(*) FROM resource_version", Long.class)).isEqualTo(versions);
        } finally {
            jdbc.execute("DROP TRIGGER audit_log_unwritable ON audit_log");
        }
        // flipped back: the same read is answered
        assertThat(admin.get("Patient/" + id).body()).contains("記録不能");
    }

    private long lastSeq() {
        return jdbc.queryForObject("SELECT coalesce(max(seq), 0) FROM audit_log", Long.class);
    }

    private static List<String> texts(Object sqlArray) {
        try {
            return Arrays.asList((String[]) ((java.sql.Array) sqlArray).getArray());
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
