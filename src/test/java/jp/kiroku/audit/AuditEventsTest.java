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
                new Case("create", h -> h.post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\","
                        + "\"code\":{\"text\":\"y\"},\"subject\":{\"reference\":\"Patient/" + id + "\"}}"), "create", "success",
                        p -> List.of("Observation/[0-9a-f-]{36}/_history/1")),
                new Case("search by POST", h -> h.send("POST", "Observation/_search",
                        "application/x-www-form-urlencoded", "subject=Patient/" + id + "&_id=" + obs),
                        "search", "success", p -> List.of("Observation/" + obs + "/_history/1")),
                new Case("compartment search", h -> h.get("Patient/" + id + "/Observation?_id=" + obs), "search", "success",
                        p -> List.of("Observation/" + obs + "/_history/1")),
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
            // each expected entity (a pattern where the server assigns the id) names exactly one recorded entity
            List<String> recorded = texts(e.get("entities"));
            List<String> expected = c.entities().apply(id);
            assertThat(recorded).as(c.name()).hasSameSizeAs(expected);
            for (String pattern : expected) {
                assertThat(recorded).as(c.name()).filteredOn(entity -> entity.matches(pattern)).hasSize(1);
            }
            if (c.outcome().equals("success")) {
                assertThat(texts(e.get("patients"))).as(c.name()).containsExactly(id);
            }
            assertThat((String) e.get("request_id")).as(c.name()).isNotBlank();
        }
    }

    /**
     * The response names the request by one X-Request-ID, the one its audit event carries: the caller's when it is a
     * plain token (so that a client can find its request in the log), else one the server made. Whether Kiroku writes
     * the response (a read) or HAPI does (an error, the CapabilityStatement).
     */
    @Test
    void theResponseCarriesTheRequestIdOfItsAuditEvent() {
        String id = admin.post("Patient", "{\"resourceType\":\"Patient\"}").as(Patient.class).getIdElement().getIdPart();
        Map<String, String> given = Map.of(
                "caller's plain id", "ward3.order-42_x",
                "id with a space", "ward3 order",
                "id with markup", "<script>",
                "no id", "");
        Map<String, Integer> paths = Map.of("Patient/" + id, 200, "Patient/no-such-id", 404, "metadata", 200);
        for (var c : given.entrySet()) {
            for (var p : paths.entrySet()) {
                String what = c.getKey() + ", GET " + p.getKey();
                long before = lastSeq();
                FhirHttp.Response r = c.getValue().isEmpty() ? admin.get(p.getKey())
                        : admin.get(p.getKey(), Map.of("X-Request-ID", c.getValue()));
                assertThat(r.status()).as(what).isEqualTo(p.getValue());
                List<String> sent = r.headers().allValues("X-Request-ID");
                assertThat(sent).as(what).hasSize(1);
                if (c.getKey().equals("caller's plain id")) {
                    assertThat(sent.get(0)).as(what).isEqualTo(c.getValue());
                } else {
                    assertThat(sent.get(0)).as(what).matches("[0-9a-f-]{36}");
                }
                if (!p.getKey().equals("metadata")) { // the CapabilityStatement names no patient: not an access
                    assertThat(jdbc.queryForList("SELECT request_id FROM audit_log WHERE seq > ?", String.class, before))
                            .as(what).containsExactly(sent.get(0));
                }
            }
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
        // the audit table is made unwritable for the application's role
        withOwnerRights(() -> jdbc.execute("REVOKE INSERT ON audit_log FROM CURRENT_USER"));
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
            withOwnerRights(() -> jdbc.execute("GRANT INSERT ON audit_log TO CURRENT_USER"));
        }
        // flipped back: the same read is answered
        assertThat(admin.get("Patient/" + id).body()).contains("記録不能");
    }

    @Test
    @Tag("LOG-05")
    void auditorsReadTheLogAsAuditEventsAndNobodyElseDoes() {
        String id = admin.post("Patient", "{\"resourceType\":\"Patient\"}").as(Patient.class).getIdElement().getIdPart();
        admin.get("Patient/" + id);
        clientWith("system/Observation.read").get("Patient/" + id); // refused: audited as denied
        FhirHttp auditor = clientWith("system/AuditEvent.rs");

        // system/*.* does not reach the access log; an explicit AuditEvent scope does
        assertThat(admin.get("AuditEvent?patient=" + id).status()).isEqualTo(403);
        // what the log holds for the patient before the auditor looks (the look is an event too)
        List<String> expected = jdbc.queryForList("SELECT seq::text FROM audit_log WHERE patients @> ARRAY[?]::text[]"
                + " ORDER BY seq DESC", String.class, id);
        FhirHttp.Response r = auditor.get("AuditEvent?patient=Patient/" + id);
        assertThat(r.status()).isEqualTo(200);
        org.hl7.fhir.r4.model.Bundle b = r.as(org.hl7.fhir.r4.model.Bundle.class);
        List<org.hl7.fhir.r4.model.AuditEvent> events = b.getEntry().stream()
                .map(e -> (org.hl7.fhir.r4.model.AuditEvent) e.getResource()).toList();
        // create then read, newest first; every one names the patient
        assertThat(events).extracting(e -> e.getIdElement().getIdPart()).containsExactlyElementsOf(expected);
        assertThat(events).extracting(e -> e.getSubtype().get(e.getSubtype().size() - 1).getCode()).containsSequence("read", "create");
        assertThat(events).allSatisfy(e -> assertThat(e.getEntity()).anySatisfy(en ->
                assertThat(en.getWhat().getReference()).isEqualTo("Patient/" + id)));
        org.hl7.fhir.r4.model.AuditEvent create = events.get(events.size() - 1);
        assertThat(create.getAction()).isEqualTo(org.hl7.fhir.r4.model.AuditEvent.AuditEventAction.C);
        assertThat(create.getAgentFirstRep().getWho().getIdentifier().getValue()).isEqualTo(ADMIN_ID);
        assertThat(create.getOutcome()).isEqualTo(org.hl7.fhir.r4.model.AuditEvent.AuditEventOutcome._0);

        // read by id; filters by outcome, subtype, agent and date change the answer
        assertThat(auditor.get("AuditEvent/" + expected.get(0)).as(org.hl7.fhir.r4.model.AuditEvent.class)
                .getIdElement().getIdPart()).isEqualTo(expected.get(0));
        assertThat(entries(auditor, "AuditEvent?patient=" + id + "&subtype=create")).hasSize(1);
        assertThat(entries(auditor, "AuditEvent?patient=" + id + "&agent=" + ADMIN_ID)).hasSize(expected.size());
        assertThat(entries(auditor, "AuditEvent?outcome=4&subtype=read&_count=5")).isNotEmpty();
        assertThat(entries(auditor, "AuditEvent?patient=" + id + "&date=lt2020-01-01")).isEmpty();
        assertThat(entries(auditor, "AuditEvent?patient=" + id + "&agent=" + ADMIN_ID + "&date=ge2020-01-01"))
                .hasSize(expected.size());
        assertThat(auditor.get("AuditEvent?patient=" + id + "&date=soon").status()).isEqualTo(400);
        // paging (the auditor's own reads left out by agent): one per page, the next link continues without repeats
        org.hl7.fhir.r4.model.Bundle first = auditor.get("AuditEvent?patient=" + id + "&agent=" + ADMIN_ID + "&_count=1").as(org.hl7.fhir.r4.model.Bundle.class);
        String next = first.getLink("next").getUrl();
        org.hl7.fhir.r4.model.Bundle second = auditor.get(next).as(org.hl7.fhir.r4.model.Bundle.class);
        assertThat(second.getEntryFirstRep().getResource().getIdElement().getIdPart()).isEqualTo(expected.get(1));

        // reading the log is itself audited, naming the patient whose events were read
        assertThat(jdbc.queryForObject("SELECT count(*) FROM audit_log WHERE action = 'search' AND agent_id <> ?"
                + " AND patients @> ARRAY[?]::text[] AND 'AuditEvent' = ANY(entities)", Long.class, ADMIN_ID, id))
                .isGreaterThan(0);
        // and nobody writes it
        assertThat(auditor.post("AuditEvent", "{\"resourceType\":\"AuditEvent\"}").status()).isBetween(400, 405);
        String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"resource\":{\"resourceType\":"
                + "\"AuditEvent\"},\"request\":{\"method\":\"POST\",\"url\":\"AuditEvent\"}}]}";
        assertThat(admin.post("", bundle).body()).contains("access log");
    }

    private static List<org.hl7.fhir.r4.model.Bundle.BundleEntryComponent> entries(FhirHttp client, String path) {
        FhirHttp.Response r = client.get(path);
        assertThat(r.status()).as(path + ": " + r.body()).isEqualTo(200);
        return r.as(org.hl7.fhir.r4.model.Bundle.class).getEntry();
    }

    @Test
    void concurrentReadsAreEachAuditedAndShareCommits() throws Exception {
        String id = admin.post("Patient", "{\"resourceType\":\"Patient\"}").as(Patient.class).getIdElement().getIdPart();
        long before = lastSeq();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(16);
        List<java.util.concurrent.Future<Integer>> statuses = new java.util.ArrayList<>();
        for (int i = 0; i < 160; i++) {
            statuses.add(pool.submit(() -> admin.get("Patient/" + id).status()));
        }
        for (var f : statuses) {
            assertThat(f.get()).isEqualTo(200);
        }
        pool.shutdown();
        Map<String, Object> row = jdbc.queryForMap("SELECT count(*) AS events, count(DISTINCT request_id) AS requests,"
                + " count(DISTINCT xmin::text) AS commits FROM audit_log WHERE seq > ? AND action = 'read'"
                + " AND entities = ARRAY['Patient/' || ? || '/_history/1']", before, id);
        assertThat(((Number) row.get("events")).longValue()).isEqualTo(160);
        assertThat(((Number) row.get("requests")).longValue()).isEqualTo(160);
        // group commit: concurrent requests' events went into fewer transactions than there were requests
        assertThat(((Number) row.get("commits")).longValue()).isLessThan(160);
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
