package jp.kiroku.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.Accounts;
import jp.kiroku.incidents.Detection;
import jp.kiroku.incidents.Incidents;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;
import jp.kiroku.support.WebSession;
import jp.kiroku.support.WebSession.Page;

/**
 * The security officer's console pages: alerts (issue 10, item 2) — the open alerts and the incidents under way,
 * acknowledge one and open an incident from another with the page's forms (CSRF); the access-log search and its CSV
 * export (LOG-04); the break-glass review queue with a fresh authenticator code (ACL-04). A nurse signed in the same
 * way is refused, and the refusal is audited.
 */
@Tag("LOG-04")
class ConsolePagesTest extends ServerTest {

    @Autowired
    Accounts accounts;
    @Autowired
    Detection detection;
    @Autowired
    Incidents incidents;
    @Autowired
    AuditTrail audit;
    @Autowired
    org.springframework.jdbc.core.JdbcTemplate jdbc;
    @Autowired
    jp.kiroku.access.BreakGlass breakGlass;
    @Autowired
    jp.kiroku.access.AccessPolicy policy;

    @Test
    void theSecurityOfficerSeesAcknowledgesAndTakesUpAlerts() {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String target = "console.target." + suffix;
        for (int i = 0; i < 10; i++) { // a brute-force attack on one account, as the login pages record it
            audit.record(AuditRecord.of(new Agent(Agent.Kind.USER, target, "203.0.113.9"), "login",
                    AuditRecord.Outcome.FAILED));
            audit.record(AuditRecord.of(new Agent(Agent.Kind.USER, target + ".2", "203.0.113.9"), "login",
                    AuditRecord.Outcome.FAILED));
        }
        List<Detection.Alert> raised = detection.scan().stream().filter(a -> a.subject().startsWith("account:" + target))
                .toList();
        assertThat(raised).hasSize(2);

        WebSession officer = signedIn("console.officer." + suffix, List.of("auditor"), "other");
        Page page = officer.get("/console/alerts");
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.body()).contains("アラートとインシデント", "id=\"alert-" + raised.get(0).id() + "\"",
                "id=\"alert-" + raised.get(1).id() + "\"", "account:" + target, "brute-force");
        assertThat(officer.get("/").body()).contains("id=\"console-alerts\"");

        officer.get("/console/alerts");
        Page acknowledged = officer.post("/console/alerts/" + raised.get(0).id() + "/acknowledge", Map.of());
        assertThat(acknowledged.redirect()).isEqualTo("/console/alerts");
        officer.get("/console/alerts");
        Page opened = officer.post("/console/incidents", Map.of("alert", String.valueOf(raised.get(1).id()),
                "title", "パスワード総当たり"));
        assertThat(opened.redirect()).isEqualTo("/console/alerts");
        Page after = officer.get("/console/alerts");
        assertThat(after.body()).doesNotContain("id=\"alert-" + raised.get(0).id() + "\"")
                .doesNotContain("id=\"alert-" + raised.get(1).id() + "\"").contains("パスワード総当たり");
        assertThat(detection.find(raised.get(0).id()).orElseThrow().acknowledgedBy())
                .isEqualTo("user:console.officer." + suffix);
        assertThat(incidents.list(false)).anyMatch(i -> i.title().equals("パスワード総当たり")
                && i.subjects().contains("account:" + target + ".2") && i.openedBy().equals("user:console.officer." + suffix));
        assertThat(officer.postRaw("/console/alerts/" + raised.get(0).id() + "/acknowledge", Map.of()).status())
                .as("without the page's CSRF token").isEqualTo(403);
        officer.get("/console/alerts");
        assertThat(officer.post("/console/alerts/" + raised.get(0).id() + "/acknowledge", Map.of()).status())
                .as("already acknowledged").isEqualTo(400);

        // the incident's page: its fields, the affected patients, the timeline; an action and a status from the page
        long incidentId = incidents.list(false).stream().filter(i -> i.title().equals("パスワード総当たり")).findFirst()
                .orElseThrow().id();
        assertThat(after.body()).contains("href=\"/console/incidents/" + incidentId + "\"");
        Page incident = officer.get("/console/incidents/" + incidentId);
        assertThat(incident.status()).isEqualTo(200);
        assertThat(incident.body()).contains("id=\"incident-title\">パスワード総当たり", "account:" + target + ".2",
                "id=\"incident-report\"", "brute-force");
        assertThat(officer.post("/console/incidents/" + incidentId + "/timeline", java.util.Map.of("kind", "action",
                "text", "アカウントをロックした")).redirect()).isEqualTo("/console/incidents/" + incidentId);
        officer.get("/console/incidents/" + incidentId);
        assertThat(officer.post("/console/incidents/" + incidentId + "/status", java.util.Map.of("status", "contained"))
                .redirect()).isEqualTo("/console/incidents/" + incidentId);
        assertThat(officer.get("/console/incidents/" + incidentId).body()).contains("アカウントをロックした", "封じ込め済み");
        officer.get("/console/incidents/" + incidentId);
        assertThat(officer.post("/console/incidents/" + incidentId + "/status", java.util.Map.of("status", "forgotten"))
                .status()).isEqualTo(400);
        var report = officer.download("/console/incidents/" + incidentId + "/report.pdf");
        assertThat(report.statusCode()).isEqualTo(200);
        assertThat(jp.kiroku.support.PdfText.of(report.body())).contains("パスワード総当たり", "アカウントをロックした");

        String nurseName = "console.nurse." + suffix;
        WebSession nurse = signedIn(nurseName, List.of("nurse"), "nurse");
        assertThat(nurse.get("/console/alerts").status()).isEqualTo(403);
        assertThat(nurse.get("/").body()).doesNotContain("console-alerts");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM audit_log WHERE agent_id = ? AND action = 'alert.list'"
                + " AND outcome = 'denied'", Integer.class, nurseName)).isEqualTo(1);
    }

    @Test
    void theSecurityOfficerSearchesTheAccessLogAndExportsItAsCsv() {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String reader = "console.reader." + suffix;
        String p = "audit-p-" + suffix;
        String q = "audit-q-" + suffix;
        audit.record(AuditRecord.of(new Agent(Agent.Kind.USER, reader, "192.0.2.10"), "read", AuditRecord.Outcome.SUCCESS)
                .on("Patient", p, 1, p).withDetail("=HYPERLINK(\"http://evil.example\"), twice"));
        audit.record(AuditRecord.of(new Agent(Agent.Kind.USER, reader, "192.0.2.10"), "read", AuditRecord.Outcome.SUCCESS)
                .on("Patient", q, 1, q));
        audit.record(AuditRecord.of(new Agent(Agent.Kind.USER, "someone.else." + suffix, "192.0.2.11"), "chart",
                AuditRecord.Outcome.SUCCESS).on("Patient", p, 1, p));
        long pRead = seqOf(reader, p);
        long qRead = seqOf(reader, q);

        WebSession officer = signedIn("console.auditor." + suffix, List.of("auditor"), "other");
        assertThat(officer.get("/").body()).contains("id=\"console-audit\"");
        Page byPatient = officer.get("/console/audit?patient=" + p);
        assertThat(byPatient.status()).isEqualTo(200);
        assertThat(byPatient.body()).contains("id=\"event-" + pRead + "\"", "someone.else." + suffix, "192.0.2.10")
                .doesNotContain("id=\"event-" + qRead + "\"");
        assertThat(officer.get("/console/audit?agent=" + reader).body()).contains("id=\"event-" + pRead + "\"",
                "id=\"event-" + qRead + "\"").doesNotContain("someone.else." + suffix);
        String yesterday = java.time.LocalDate.now(java.time.ZoneId.of("Asia/Tokyo")).minusDays(2).toString();
        assertThat(officer.get("/console/audit?agent=" + reader + "&to=" + yesterday).body()).contains("id=\"no-events\"");
        assertThat(officer.get("/console/audit?from=not-a-date").status()).isEqualTo(400);

        Page csv = officer.get("/console/audit.csv?patient=" + p);
        assertThat(csv.status()).isEqualTo(200);
        assertThat(csv.body()).startsWith("\uFEFFseq,recorded,action,outcome,agent_kind,agent_id")
                .contains(pRead + ",").contains(reader).contains("someone.else." + suffix)
                .as("a formula is defused and a comma quoted").contains("\"'=HYPERLINK(\"\"http://evil.example\"\"), twice\"")
                .doesNotContain(q);
        assertThat(jdbc.queryForList("SELECT action FROM audit_log WHERE agent_id = ? ORDER BY seq", String.class,
                "console.auditor." + suffix)).as("the officer's searches are in the log too")
                .contains("audit.search", "audit.export");

        WebSession nurse = signedIn("console.nurse2." + suffix, List.of("nurse"), "nurse");
        assertThat(nurse.get("/console/audit?patient=" + p).status()).isEqualTo(403);
        assertThat(nurse.get("/console/audit.csv?patient=" + p).status()).isEqualTo(403);
    }

    @Test
    @Tag("ACL-04")
    void theSecurityOfficerReviewsBreakGlassUsesWithAFreshCode() {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String clinician = "console.bg." + suffix;
        String patient = "bg-console-" + suffix;
        var subject = jp.kiroku.access.Subject.person(clinician, java.util.Set.of("physician"),
                jp.kiroku.access.Subject.HOME_FACILITY, List.of(), null);
        var use = breakGlass.open(subject, policy.view(subject, jp.kiroku.access.Permission.READ), patient, "emergency",
                "救急外来で意識なし、既往歴の確認のため", new Agent(Agent.Kind.USER, clinician, "127.0.0.1"));

        String officerName = "console.reviewer." + suffix;
        PersonLogin.SignedIn signed = PersonLogin.signedIn(accounts, anonymous.root(), officerName, "auditor", "other", null);
        WebSession officer = signed.browser();
        Page queue = officer.get("/console/break-glass");
        assertThat(queue.status()).isEqualTo(200);
        assertThat(queue.body()).contains("id=\"use-" + use.id() + "\"", clinician, "救急外来で意識なし、既往歴の確認のため",
                "救急対応");
        String path = "/console/break-glass/" + use.id() + "/review";
        String next = signed.nextCode();
        assertThat(officer.post(path, java.util.Map.of("outcome", "justified", "note", "",
                "otp", next)).status()).as("no note: refused before the code is spent").isEqualTo(400);
        officer.get("/console/break-glass");
        assertThat(officer.post(path, java.util.Map.of("outcome", "justified", "note", "救急記録で確認",
                "otp", "000000".equals(next) ? "111111" : "000000")).status()).isEqualTo(403);
        assertThat(breakGlass.use(use.id()).orElseThrow().reviewedAt()).isNull();
        officer.get("/console/break-glass");
        assertThat(officer.post(path, java.util.Map.of("outcome", "justified", "note", "救急記録で確認", "otp", next))
                .redirect()).isEqualTo("/console/break-glass");
        var reviewed = breakGlass.use(use.id()).orElseThrow();
        assertThat(reviewed.reviewOutcome()).isEqualTo("justified");
        assertThat(reviewed.reviewedBy()).isEqualTo("user:" + officerName);
        assertThat(officer.get("/console/break-glass").body()).doesNotContain("id=\"use-" + use.id() + "\"");
    }

    @Test
    @Tag("LOG-02")
    @Tag("INTEG-03")
    void theSecurityOfficerVerifiesTheLedgersAndSavesTheCheckpoints() {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        WebSession officer = signedIn("console.ledger." + suffix, List.of("auditor"), "other");
        assertThat(officer.get("/").body()).contains("id=\"console-ledger\"");
        assertThat(officer.get("/console/ledger").body()).contains("id=\"verify-form\"").doesNotContain("id=\"verdict\"");
        Page verified = officer.post("/console/ledger/verify", java.util.Map.of());
        assertThat(verified.status()).isEqualTo(200);
        assertThat(verified.body()).contains("id=\"verdict\"", "問題はありません", "kiroku/record", "kiroku/audit");
        Page checkpoints = officer.get("/console/ledger/checkpoints.txt");
        assertThat(checkpoints.status()).isEqualTo(200);
        assertThat(checkpoints.body()).contains("kiroku/record").contains("kiroku/audit").contains("BEGIN PUBLIC KEY");
        assertThat(jdbc.queryForList("SELECT action FROM audit_log WHERE agent_id = ? ORDER BY seq", String.class,
                "console.ledger." + suffix)).contains("ledger.verify", "checkpoint.export");
        WebSession nurse = signedIn("console.nurse3." + suffix, List.of("nurse"), "nurse");
        assertThat(nurse.get("/console/ledger").status()).isEqualTo(403);
    }

    private long seqOf(String agent, String patient) {
        return jdbc.queryForObject("SELECT max(seq) FROM audit_log WHERE agent_id = ? AND ? = ANY (patients)", Long.class,
                agent, patient);
    }

    private WebSession signedIn(String username, List<String> roles, String profession) {
        return PersonLogin.signedIn(accounts, anonymous.root(), username, roles.get(0), profession, null).browser();
    }
}
