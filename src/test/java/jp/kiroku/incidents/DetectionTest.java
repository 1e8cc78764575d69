package jp.kiroku.incidents;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.backup.BackupChecks;
import jp.kiroku.backup.Backups;
import jp.kiroku.identity.Accounts;
import jp.kiroku.platform.ClockCheck;
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

    /** Rules whose input is a setting (office hours, the backup schedule, the clock), tested on their own. */
    private static final java.util.Set<String> SETTING_DRIVEN = java.util.Set.of("out-of-hours", "backup-missed",
            "clock-drift");

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
    /** Backup targets and chronyc stand-ins; JUnit removes it after each test. */
    @TempDir
    Path tmp;

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
        audit.record(AuditRecord.of(user(victim, "127.0.0.1"), "read", AuditRecord.Outcome.SUCCESS)
                .on("Patient", patient, 1, patient));
        String traveller = person("physician"); // logs in twice from the terminal it always uses
        audit.record(AuditRecord.of(user(traveller, "127.0.0.1"), "login", AuditRecord.Outcome.SUCCESS)
                .withDetail("factors=password+totp device=terminal-ward-3"));
        audit.record(AuditRecord.of(user(traveller, "127.0.0.1"), "login", AuditRecord.Outcome.SUCCESS)
                .withDetail("factors=password+totp device=terminal-ward-3"));
        String vip = labelledPatient("http://terminology.hl7.org/CodeSystem/v3-ActCode", "CEL");
        var workingClient = clients.create("detect working", List.of("system/Patient.r"), Agent.localOperator());
        FhirHttp working = anonymous.withToken(FhirHttp.fetchToken(anonymous.root(), workingClient.clientId(),
                workingClient.secret(), null));
        assertThat(working.get("/Patient/" + patient).status()).isEqualTo(200);
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
        for (int i = 0; i < 10; i++) { // ten exports and ten printouts
            assertThat(exporter.get("/Patient/" + patient + "/$everything").status()).isEqualTo(200);
            audit.record(AuditRecord.of(new Agent(Agent.Kind.CLIENT, exporterClient.clientId(), "127.0.0.1"), "print",
                    AuditRecord.Outcome.SUCCESS).on("Patient", patient, null, patient));
        }
        audit.record(AuditRecord.of(user(traveller, "127.0.0.1"), "login", AuditRecord.Outcome.SUCCESS)
                .withDetail("factors=password+totp device=terminal-unknown-9"));
        String curious = person("pharmacist"); // one look at a celebrity's record
        audit.record(AuditRecord.of(user(curious, "127.0.0.1"), "read", AuditRecord.Outcome.SUCCESS).on("Patient", vip, 1, vip));
        clients.disable(workingClient.clientId(), Agent.localOperator()); // its token, still valid, is presented again
        assertThat(working.get("/Patient/" + patient).status()).isEqualTo(401);
        audit.record(AuditRecord.of(Agent.localOperator(), "ledger.verify", AuditRecord.Outcome.SUCCESS)
                .withDetail("2 findings"));
        Path target = Files.createTempDirectory(tmp, "kiroku-detect-");
        Path generation = backups.create(target, false, false, Agent.localOperator(), n -> { }).generation();
        try (Stream<Path> s = Files.list(generation)) {
            Path segment = s.filter(p -> p.getFileName().toString().endsWith(".seg")).findFirst().orElseThrow();
            byte[] bytes = Files.readAllBytes(segment);
            bytes[0] ^= 1;
            Files.write(segment, bytes);
        }
        assertThat(checks.verify(generation, List.of(), Agent.localOperator(), n -> { }).ok()).isFalse();
        Instant t2 = tick();

        Map<String, String> expected = Map.ofEntries(Map.entry("brute-force", "account:" + victim),
                Map.entry("password-spraying", "address:127.0.0.1"),
                Map.entry("new-address", "account:" + victim + " from 203.0.113.7"),
                Map.entry("new-device", "account:" + traveller + " on terminal-unknown-9"),
                Map.entry("mass-access", "account:" + reader),
                Map.entry("denied-burst", "client:" + narrowClient.clientId()),
                Map.entry("break-glass-spike", "account:" + reader),
                Map.entry("export-spike", "client:" + exporterClient.clientId()),
                Map.entry("ledger-failure", "ledger"),
                Map.entry("backup-failure", "backup"),
                Map.entry("vip-access", "account:" + curious),
                Map.entry("disabled-token", "client:" + workingClient.clientId()));
        assertThat(Stream.concat(expected.keySet().stream(), SETTING_DRIVEN.stream()))
                .containsExactlyInAnyOrderElementsOf(Detection.RULES.stream().map(Detection.Rule::name).toList());
        for (Detection.Rule r : Detection.RULES) {
            if (SETTING_DRIVEN.contains(r.name())) {
                continue;
            }
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

    @Test
    void outOfHoursCountsPatientsTouchedOutsideTheOfficeHoursExceptByExemptRoles() throws Exception {
        String night = person("pharmacist");
        Instant t0 = tick();
        for (int i = 0; i < 5; i++) {
            String p = "night-" + UUID.randomUUID();
            audit.record(AuditRecord.of(user(night, "127.0.0.1"), "read", AuditRecord.Outcome.SUCCESS).on("Patient", p, 1, p));
        }
        Instant t1 = tick();
        Detection.Rule rule = detection.rule("out-of-hours").orElseThrow();
        var hours = props.getIncidents().getOfficeHours();
        var saved = List.of(hours.getStart(), hours.getEnd());
        var savedDays = hours.getDaysOff();
        try {
            hours.setDaysOff(List.of());
            hours.setStart(LocalTime.MIDNIGHT);
            hours.setEnd(LocalTime.MAX); // the whole day is office hours
            assertThat(detection.evaluate(rule, t0, t1)).extracting(Detection.Finding::subject).doesNotContain("account:" + night);
            hours.setEnd(LocalTime.MIDNIGHT); // no office hours at all: every access is out of hours
            Detection.Finding f = detection.evaluate(rule, t0, t1).stream()
                    .filter(x -> x.subject().equals("account:" + night)).findFirst().orElseThrow();
            assertThat(f.evidence()).hasSize(5);
            hours.setEnd(LocalTime.MAX);
            hours.setDaysOff(List.of(DayOfWeek.from(LocalDate.now(hours.getZone())), // today (and yesterday, at midnight)
                    DayOfWeek.from(LocalDate.now(hours.getZone()).minusDays(1))));
            assertThat(detection.evaluate(rule, t0, t1)).extracting(Detection.Finding::subject).contains("account:" + night);
            hours.setExemptRoles(List.of("pharmacist"));
            assertThat(detection.evaluate(rule, t0, t1)).extracting(Detection.Finding::subject).doesNotContain("account:" + night);
        } finally {
            hours.setStart(saved.get(0));
            hours.setEnd(saved.get(1));
            hours.setDaysOff(savedDays);
            hours.setExemptRoles(List.of());
        }
    }

    @Test
    void backupMissedFiresOnlyWithAScheduleAndAnOldLastBackup() throws Exception {
        backups.create(Files.createTempDirectory(tmp, "kiroku-missed-"), false, false, Agent.localOperator(), n -> { });
        long lastBackup = jdbc.queryForObject("SELECT max(seq) FROM audit_log WHERE action = 'backup.create'"
                + " AND outcome = 'success'", Long.class);
        Detection.Rule rule = detection.rule("backup-missed").orElseThrow();
        var backup = props.getBackup();
        java.time.Duration maxAge = backup.getMaxAge();
        try {
            backup.setMaxAge(java.time.Duration.ofMillis(1));
            Thread.sleep(5);
            assertThat(detection.evaluate(rule, Instant.now(), Instant.now())).as("no schedule, nothing missed").isEmpty();
            backup.setAt(LocalTime.of(2, 0));
            assertThat(detection.evaluate(rule, Instant.now(), Instant.now())).singleElement()
                    .satisfies(f -> assertThat(f.evidence()).containsExactly(lastBackup));
            backup.setMaxAge(maxAge); // the backup just made is young enough
            assertThat(detection.evaluate(rule, Instant.now(), Instant.now())).isEmpty();
        } finally {
            backup.setAt(null);
            backup.setMaxAge(maxAge);
        }
    }

    @Test
    void aClockFoundWrongIsRecordedOnceAndFiresClockDrift() throws Exception {
        Detection.Rule rule = detection.rule("clock-drift").orElseThrow();
        Instant t0 = tick();
        detection.observeClock(new ClockCheck(chrony("0.000012345 seconds slow"), Duration.ofSeconds(1), false));
        Instant t1 = tick();
        assertThat(detection.evaluate(rule, t0, t1)).isEmpty();
        ClockCheck drifting = new ClockCheck(chrony("12.500000000 seconds fast"), Duration.ofSeconds(1), false);
        detection.observeClock(drifting);
        detection.observeClock(drifting); // the same problem is recorded once
        Instant t2 = tick();
        assertThat(detection.evaluate(rule, t1, t2)).singleElement().satisfies(f -> {
            assertThat(f.subject()).isEqualTo("clock");
            assertThat(f.evidence()).hasSize(1);
        });
        assertThat(jdbc.queryForObject("SELECT detail FROM audit_log WHERE seq = ?", String.class,
                detection.evaluate(rule, t1, t2).get(0).evidence().get(0))).contains("12.5 s");
        detection.observeClock(new ClockCheck(chrony("0.000012345 seconds slow"), Duration.ofSeconds(1), false));
    }

    private List<String> chrony(String systemTime) throws java.io.IOException {
        Path script = Files.createTempFile(tmp, "chronyc-", ".sh");
        Files.writeString(script, "#!/bin/sh\ncat <<'EOF'\nReference ID    : 85F3EEF3 (ntp.nict.jp)\n"
                + "System time     : " + systemTime + " of NTP time\nLeap status     : Normal\nEOF\n");
        Files.setPosixFilePermissions(script, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        return List.of(script.toString());
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

    private String labelledPatient(String system, String code) {
        return created("{\"resourceType\":\"Patient\",\"meta\":{\"security\":[{\"system\":\"" + system
                + "\",\"code\":\"" + code + "\"}]}}");
    }

    private String patient() {
        return created("{\"resourceType\":\"Patient\"}");
    }

    private String created(String patient) {
        var r = admin.post("/Patient", patient);
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
