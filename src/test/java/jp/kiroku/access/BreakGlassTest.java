package jp.kiroku.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.hl7.fhir.r4.model.Parameters;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.NewAccount;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;

/**
 * Break-glass end to end (ACL-04): a clinician opens a patient outside their care only with a reason and a fresh
 * second factor; the access is time-boxed, every event under it is audited with purpose BTG, the response says so,
 * and the use waits in the security officer's review queue until reviewed (once, by someone else).
 */
@Tag("ACL-04")
class BreakGlassTest extends ServerTest {

    @Autowired
    jp.kiroku.incidents.Detection detection;

    @Autowired
    Accounts accounts;
    @Autowired
    JdbcTemplate jdbc;

    private static String parameters(String reason, String text, String otp) {
        StringBuilder p = new StringBuilder("{\"resourceType\":\"Parameters\",\"parameter\":[");
        p.append("{\"name\":\"reason\",\"valueString\":\"").append(reason).append("\"},");
        p.append("{\"name\":\"text\",\"valueString\":\"").append(text).append("\"}");
        if (otp != null) {
            p.append(",{\"name\":\"otp\",\"valueString\":\"").append(otp).append("\"}");
        }
        return p.append("]}").toString();
    }

    private HttpResponse<String> admin(String method, String path, String token, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(anonymous.root() + path)).header("Authorization", "Bearer " + token);
        b = json == null ? b.GET() : b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aClinicianOpensAPatientOutsideTheirCareWithAReasonAndAFreshSecondFactorForALimitedTime() throws Exception {
        String s = UUID.randomUUID().toString().substring(0, 6);
        String patient = "bg-p-" + s;
        String other = "bg-q-" + s;
        assertThat(admin.put("Patient/" + patient, "{\"resourceType\":\"Patient\",\"id\":\"" + patient + "\"}").status()).isEqualTo(201);
        assertThat(admin.put("Patient/" + other, "{\"resourceType\":\"Patient\",\"id\":\"" + other + "\"}").status()).isEqualTo(201);
        assertThat(admin.post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"BP\"},"
                + "\"subject\":{\"reference\":\"Patient/" + patient + "\"}}").status()).isEqualTo(201);
        var app = clients.createApp("bg " + s, List.of(anonymous.root() + "/callback"), List.of("openid", "user/*.cruds"), true,
                Agent.localOperator());
        String username = "bg" + s;
        var issued = accounts.create(new NewAccount(username, "staff", List.of("physician"), "救急 " + s, "キュウキュウ イシ",
                null, LocalDate.of(1985, 5, 5), "physician", null, null, null), Agent.localOperator());
        PersonLogin.AppLogin login = PersonLogin.appLogin(anonymous.root(), app.clientId(), "openid user/*.cruds", username,
                issued.oneTimePassword());
        FhirHttp doctor = anonymous.withToken(login.accessToken());
        String op = "Patient/" + patient + "/$break-glass";

        assertThat(doctor.get("Patient/" + patient).status()).isEqualTo(403);
        // no re-authentication, a wrong code, or no real reason: refused
        Response noCode = doctor.post(op, parameters("emergency", "搬送時意識なし", null));
        assertThat(noCode.status()).isEqualTo(403);
        assertThat(noCode.body()).contains("send a current code from your authenticator app as 'otp'");
        Response wrong = doctor.post(op, parameters("emergency", "搬送時意識なし", "000000"));
        assertThat(wrong.status()).isEqualTo(403);
        assertThat(wrong.body()).contains("Re-authentication failed");
        Response shortOther = doctor.post(op, parameters("other", "急ぎ", login.nextCode()));
        assertThat(shortOther.status()).as(shortOther.body()).isEqualTo(400);
        assertThat(doctor.post(op, parameters("curiosity", "知りたかった", login.nextCode())).status()).as("the code was not"
                + " spent on a malformed request").isEqualTo(400);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM break_glass WHERE username = ?", Integer.class, username)).isZero();
        // a system cannot break the glass
        assertThat(admin.post(op, parameters("emergency", "搬送時意識なし", "123456")).status()).isEqualTo(403);

        Response opened = doctor.post(op, parameters("emergency", "救急搬送、意識なし、既往歴の確認", login.nextCode()));
        assertThat(opened.status()).as(opened.body()).isEqualTo(200);
        Parameters out = opened.as(Parameters.class);
        String use = out.getParameter("use").getValue().primitiveValue();
        assertThat(out.getParameter("expires").getValue().primitiveValue()).isNotBlank();
        // the security officer is told at once: an alert of its own (mailed like any alert) naming the opening's event;
        // the refused attempts above raised none
        assertThat(detection.alerts(false)).filteredOn(a -> a.rule().equals("break-glass")
                && a.subject().equals("account:" + username)).singleElement().satisfies(a -> assertThat(a.evidence())
                .containsExactlyElementsOf(jdbc.queryForList("SELECT seq FROM audit_log WHERE agent_id = ? AND action ="
                        + " 'break-glass.open' AND outcome = 'success'", Long.class, username)).hasSize(1));

        Response read = doctor.get("Patient/" + patient);
        assertThat(read.status()).isEqualTo(200);
        assertThat(read.header("X-Kiroku-Break-Glass")).startsWith("active");
        assertThat(doctor.get("Observation?patient=" + patient).body()).contains("\"total\":1");
        assertThat(doctor.get("Patient/" + other).status()).as("only the patient opened").isEqualTo(403);
        List<Map<String, Object>> events = jdbc.queryForList("SELECT action, outcome, purpose FROM audit_log WHERE agent_id = ?"
                + " AND action IN ('read', 'search', 'break-glass.open') ORDER BY seq", username);
        assertThat(events.stream().filter(e -> "success".equals(e.get("outcome"))).map(e -> e.get("purpose")).toList())
                .as("every event after the opening").containsOnly("BTG");
        assertThat(events.stream().filter(e -> "break-glass.open".equals(e.get("action"))).map(e -> e.get("outcome")).toList())
                .contains("denied", "success");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM audit_log WHERE action = 'break-glass.open' AND detail LIKE ?",
                Integer.class, "%" + "搬送" + "%")).as("the clinician's words stay out of the audit log").isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM break_glass WHERE username = ? AND (reason_text LIKE ?"
                + " OR position(convert_to('搬送', 'UTF8') in reason_sealed) > 0)", Integer.class, username, "%搬送%"))
                .as("and are sealed at rest under the patient's data key").isZero();

        // the review queue: the security officer sees the use, reviews it once; the clinician cannot
        var officerClient = clients.create("security officer " + s, List.of("system/AuditEvent.rs"), Agent.localOperator());
        String officer = FhirHttp.fetchToken(anonymous.root(), officerClient.clientId(), officerClient.secret(), null);
        HttpResponse<String> queue = admin("GET", "/admin/break-glass", officer, null);
        assertThat(queue.statusCode()).isEqualTo(200);
        assertThat(queue.body()).contains(use).contains("\"user\":\"" + username + "\"").contains("救急搬送");
        assertThat(admin("GET", "/admin/break-glass", login.accessToken(), null).statusCode()).isEqualTo(403);
        assertThat(admin("POST", "/admin/break-glass/" + use + "/review", officer, "{\"outcome\":\"maybe\",\"note\":\"x\"}")
                .statusCode()).isEqualTo(400);
        // a person with the auditor role reviews through an app, re-authenticated by a current code
        var auditorApp = clients.createApp("audit desk " + s, List.of(anonymous.root() + "/callback"),
                List.of("openid", "user/AuditEvent.rs"), true, Agent.localOperator());
        var auditorIssued = accounts.create(new NewAccount("ka" + s, "staff", List.of("auditor"), "監査 " + s, "カンサ イチロウ",
                null, LocalDate.of(1975, 5, 5), "other", null, null, null), Agent.localOperator());
        PersonLogin.AppLogin auditor = PersonLogin.appLogin(anonymous.root(), auditorApp.clientId(),
                "openid user/AuditEvent.rs", "ka" + s, auditorIssued.oneTimePassword());
        HttpResponse<String> unconfirmed = admin("POST", "/admin/break-glass/" + use + "/review", auditor.accessToken(),
                "{\"outcome\":\"justified\",\"note\":\"ER record confirms the admission\"}");
        assertThat(unconfirmed.statusCode()).as(unconfirmed.body()).isEqualTo(403);
        assertThat(unconfirmed.body()).contains("otp");
        HttpResponse<String> reviewed = admin("POST", "/admin/break-glass/" + use + "/review", auditor.accessToken(),
                "{\"outcome\":\"justified\",\"note\":\"ER record confirms the admission\",\"otp\":\""
                        + auditor.nextCode() + "\"}");
        assertThat(reviewed.statusCode()).as(reviewed.body()).isEqualTo(200);
        assertThat(reviewed.body()).contains("\"outcome\":\"justified\"");
        assertThat(admin("POST", "/admin/break-glass/" + use + "/review", officer,
                "{\"outcome\":\"unjustified\",\"note\":\"again\"}").statusCode()).as("reviewed once").isEqualTo(409);
        assertThat(admin("GET", "/admin/break-glass", officer, null).body()).doesNotContain(use);
        assertThat(admin("GET", "/admin/break-glass?all=true", officer, null).body()).contains(use);

        // the time box: once it has run out the patient is out of reach again, and nothing is tagged any more
        jdbc.update("UPDATE break_glass SET expires_at = now() - interval '1 second' WHERE id = ?::uuid", use);
        // (changed behind the server's back, so it notices once its 5-second cache of active uses runs out)
        Response after = doctor.get("Patient/" + patient);
        for (int i = 0; i < 40 && after.status() != 403; i++) {
            Thread.sleep(250);
            after = doctor.get("Patient/" + patient);
        }
        assertThat(after.status()).isEqualTo(403);
        assertThat(after.header("X-Kiroku-Break-Glass")).isNull();
        assertThat(doctor.get("Observation?patient=" + patient).body()).contains("\"total\":0");
    }
}
