package jp.kiroku.incidents;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.backup.BackupChecks;
import jp.kiroku.backup.Backups;
import jp.kiroku.identity.Accounts;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;
import jp.kiroku.support.WebSession;

/**
 * Detection (issue 10, item 1): every default rule stays silent over a normal stretch of work and fires over a
 * scripted attack, naming the attack's audit events as its evidence; raising is deduplicated per rule and subject
 * within the rule's window; alerts are acknowledged. Logins, refused requests, exports and a damaged backup are real
 * requests; what a test cannot do from its one address or without a second person (a login from another address,
 * one person reading fifty patients, break-glass, a ledger verification that found something) is recorded through
 * the audit trail as the server would record it.
 */
@Tag("LOG-04")
class DetectionTest extends ServerTest {

    @Autowired
    Detection detection;
    @Autowired
    AuditTrail audit;
    @Autowired
    Accounts accounts;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    Backups backups;
    @Autowired
    BackupChecks checks;
    @Autowired
    jp.kiroku.platform.KirokuProperties props;

    @Test
    void everyDefaultRuleIsSilentOnNormalWorkAndFiresOnAnAttackWithItsEvidence() throws Exception {
        String victim = person("nurse");
        String patient = patient();

        // a normal stretch: reads, writes, one mistyped password, one export, one break-glass
        Instant t0 = tick();
        for (int i = 0; i < 3; i++) {
            assertThat(admin.get("/Patient/" + patient).status()).isEqualTo(200);
        }
        patient();
        login(victim, "wrong-password-once");
        assertThat(admin.get("/Patient/" + patient + "/$everything").status()).isEqualTo(200);
        audit.record(AuditRecord.of(user(victim, "127.0.0.1"), "break-glass.open", AuditRecord.Outcome.SUCCESS)
                .on("Patient", patient, null, patient));
        Instant t1 = tick();
        for (Detection.Rule r : Detection.RULES) {
            assertThat(detection.evaluate(r, t0, t1)).as(r.name() + " on normal work").isEmpty();
        }

        // the attack
        for (int i = 0; i < 10; i++) {
            login(victim, "guess-" + i);
        }
        for (int i = 0; i < 5; i++) { // one common password tried on many accounts
            login(person("nurse"), "Spring2026!");
        }
        audit.record(AuditRecord.of(user(victim, "127.0.0.1"), "login", AuditRecord.Outcome.SUCCESS));
        audit.record(AuditRecord.of(user(victim, "203.0.113.7"), "login", AuditRecord.Outcome.SUCCESS));
        String reader = person("physician");
        for (int i = 0; i < 50; i++) {
            String p = "mass-" + UUID.randomUUID();
            audit.record(AuditRecord.of(user(reader, "127.0.0.1"), "read", AuditRecord.Outcome.SUCCESS).on("Patient", p, 1, p));
        }
        var narrowClient = clients.create("detect narrow", List.of("system/Patient.r"), Agent.localOperator());
        FhirHttp narrow = anonymous.withToken(FhirHttp.fetchToken(anonymous.root(), narrowClient.clientId(),
                narrowClient.secret(), null));
        for (int i = 0; i < 20; i++) {
            assertThat(narrow.get("/Observation?patient=" + patient).status()).isEqualTo(403);
        }
        for (int i = 0; i < 3; i++) {
            audit.record(AuditRecord.of(user(reader, "127.0.0.1"), "break-glass.open", AuditRecord.Outcome.SUCCESS)
                    .on("Patient", patient, null, patient));
        }
        var exporterClient = clients.create("detect exporter", List.of("system/*.rs"), Agent.localOperator());
        FhirHttp exporter = anonymous.withToken(FhirHttp.fetchToken(anonymous.root(), exporterClient.clientId(),
                exporterClient.secret(), null));
        for (int i = 0; i < 20; i++) {
            assertThat(exporter.get("/Patient/" + patient + "/$everything").status()).isEqualTo(200);
        }
        audit.record(AuditRecord.of(Agent.localOperator(), "ledger.verify", AuditRecord.Outcome.SUCCESS)
                .withDetail("2 findings"));
        Path target = Files.createTempDirectory("kiroku-detect-");
        Path generation = backups.create(target, false, false, Agent.localOperator(), n -> { }).generation();
        try (Stream<Path> s = Files.list(generation)) {
            Path segment = s.filter(p -> p.getFileName().toString().endsWith(".seg")).findFirst().orElseThrow();
            byte[] bytes = Files.readAllBytes(segment);
            bytes[0] ^= 1;
            Files.write(segment, bytes);
        }
        assertThat(checks.verify(generation, List.of(), Agent.localOperator(), n -> { }).ok()).isFalse();
        Instant t2 = tick();

        Map<String, String> expected = Map.of("brute-force", "account:" + victim,
                "password-spraying", "address:127.0.0.1",
                "new-address", "account:" + victim + " from 203.0.113.7",
                "mass-access", "account:" + reader,
                "denied-burst", "client:" + narrowClient.clientId(),
                "break-glass-spike", "account:" + reader,
                "export-spike", "client:" + exporterClient.clientId(),
                "ledger-failure", "ledger",
                "backup-failure", "backup");
        assertThat(expected.keySet()).containsExactlyInAnyOrderElementsOf(Detection.RULES.stream().map(Detection.Rule::name)
                .toList());
        for (Detection.Rule r : Detection.RULES) {
            List<Detection.Finding> found = detection.evaluate(r, t1, t2);
            assertThat(found).as(r.name() + " on the attack").extracting(Detection.Finding::subject)
                    .contains(expected.get(r.name()));
        }
        // the evidence is the attack's events: here, every failed login of the victim in the window
        Detection.Finding brute = detection.evaluate(detection.rule("brute-force").orElseThrow(), t1, t2).stream()
                .filter(f -> f.subject().equals("account:" + victim)).findFirst().orElseThrow();
        assertThat(brute.evidence()).containsExactlyInAnyOrderElementsOf(jdbc.queryForList("SELECT seq FROM audit_log"
                + " WHERE action = 'login' AND agent_id = ? AND outcome IN ('failed', 'denied') AND recorded >= ?"
                + " AND recorded < ?", Long.class, victim, java.sql.Timestamp.from(t1), java.sql.Timestamp.from(t2)))
                .hasSize(10);
        Detection.Finding mass = detection.evaluate(detection.rule("mass-access").orElseThrow(), t1, t2).stream()
                .filter(f -> f.subject().equals("account:" + reader)).findFirst().orElseThrow();
        assertThat(mass.evidence()).as("the 50 reads and the 3 break-glass openings, every event of the reader's")
                .containsExactlyInAnyOrderElementsOf(jdbc.queryForList("SELECT seq FROM audit_log WHERE agent_id = ?"
                        + " AND cardinality(patients) > 0 AND recorded >= ? AND recorded < ?", Long.class, reader,
                        java.sql.Timestamp.from(t1), java.sql.Timestamp.from(t2))).hasSize(53);

        // a rule's threshold is a setting: raised above the attack, the same events find nothing
        var higher = new jp.kiroku.platform.KirokuProperties.RuleSettings();
        higher.setThreshold(21);
        props.getIncidents().getRules().put("export-spike", higher);
        try {
            assertThat(detection.evaluate(detection.rule("export-spike").orElseThrow(), t1, t2))
                    .extracting(Detection.Finding::subject).doesNotContain("client:" + exporterClient.clientId());
        } finally {
            props.getIncidents().getRules().remove("export-spike");
        }

        // raised once per rule and subject within the window, then acknowledged
        detection.scan();
        List<Detection.Alert> open = detection.alerts(false).stream()
                .filter(a -> a.subject().equals("account:" + victim) && a.rule().equals("brute-force")).toList();
        assertThat(open).hasSize(1);
        assertThat(detection.scan()).noneMatch(a -> a.subject().equals("account:" + victim) && a.rule().equals("brute-force"));
        detection.acknowledge(open.get(0).id(), Agent.localOperator());
        assertThat(detection.alerts(false)).noneMatch(a -> a.id() == open.get(0).id());
        assertThat(detection.alerts(true)).anyMatch(a -> a.id() == open.get(0).id() && a.acknowledgedBy() != null);
    }

    private static Agent user(String username, String address) {
        return new Agent(Agent.Kind.USER, username, address);
    }

    private void login(String username, String password) {
        PersonLogin.passwordStep(new WebSession(anonymous.root()), username, password);
    }

    private String person(String role) {
        String username = "kenshutsu." + role + "." + UUID.randomUUID().toString().substring(0, 8);
        PersonLogin.staff(accounts, username, role);
        return username;
    }

    private String patient() {
        var r = admin.post("/Patient", "{\"resourceType\":\"Patient\"}");
        assertThat(r.status()).isEqualTo(201);
        return r.headers().firstValue("Location").orElseThrow().replaceAll("^.*/Patient/([^/]+)/_history/.*$", "$1");
    }

    /** A moment between events (the audit clock has millisecond precision). */
    private static Instant tick() throws InterruptedException {
        Thread.sleep(5);
        Instant t = Instant.now();
        Thread.sleep(5);
        return t;
    }
}
