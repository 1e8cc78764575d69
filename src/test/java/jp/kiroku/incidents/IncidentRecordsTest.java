package jp.kiroku.incidents;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import jp.kiroku.audit.Agent;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.PdfText;
import jp.kiroku.support.ServerTest;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Incident records and reports (issue 10, items 3 and 4): a scripted attacker — a stolen system credential — probes
 * (refused requests that raise an alert), then reads two patients' records; an incident opened from the alert lists
 * exactly those two patients from the audit ledger (not the refused requests, not another client's reads, not what
 * the attacker does after the window closes); the ministry report carries the incident's facts in its JSON and in
 * its Japanese PDF (text extracted); the contact chart and the admin API serve the security officer only.
 */
@Tag("INC-02")
@Tag("INC-04")
class IncidentRecordsTest extends ServerTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Autowired
    Detection detection;
    @Autowired
    Incidents incidents;
    @Autowired
    IncidentReports reports;

    @Test
    @Tag("INC-01")
    void theAffectedPatientsAreThoseTheAttackerReachedAndTheReportSaysSo() throws Exception {
        String a = patient("攻撃", "一郎");
        String b = patient("攻撃", "二郎");
        String c = patient("無関係", "三郎");
        String later = patient("後日", "四郎");
        var stolen = clients.create("incident stolen", List.of("system/Patient.rs"), Agent.localOperator());
        FhirHttp attacker = anonymous.withToken(FhirHttp.fetchToken(anonymous.root(), stolen.clientId(), stolen.secret(),
                null));
        FhirHttp colleague = clientWith("system/Patient.r");

        for (int i = 0; i < 20; i++) { // probing beyond its scopes: refused, and reaching nothing
            assertThat(attacker.get("/Observation?patient=" + c).status()).isEqualTo(403);
        }
        assertThat(attacker.get("/Patient/" + a).status()).isEqualTo(200);
        assertThat(attacker.get("/Patient/" + b).status()).isEqualTo(200);
        assertThat(attacker.get("/Patient?_id=" + a).status()).isEqualTo(200);
        assertThat(colleague.get("/Patient/" + c).status()).isEqualTo(200); // normal work alongside

        Detection.Alert alert = detection.scan().stream()
                .filter(x -> x.rule().equals("denied-burst") && x.subject().equals("client:" + stolen.clientId()))
                .findFirst().orElseThrow();
        Incidents.Incident incident = incidents.open("外部からの不正アクセス", List.of(alert.id()), List.of(), null,
                Agent.localOperator());
        assertThat(incident.subjects()).containsExactly("client:" + stolen.clientId());
        assertThat(incident.windowFrom()).isEqualTo(alert.windowFrom());
        assertThat(detection.alerts(false)).as("taken up, the alert is no longer open").noneMatch(x -> x.id() == alert.id());
        assertThatThrownBy(() -> incidents.open("again", List.of(alert.id()), List.of(), null, Agent.localOperator()))
                .hasMessageContaining("belongs to an incident");

        incidents.set(incident.id(), "window-to", Instant.now().toString(), Agent.localOperator());
        Thread.sleep(5);
        assertThat(attacker.get("/Patient/" + later).status()).isEqualTo(200); // after the window: not this incident's
        assertThat(incidents.affectedPatients(incident.id(), Agent.localOperator()))
                .extracting(Incidents.AffectedPatient::patient).containsExactlyInAnyOrder(a, b);
        Incidents.AffectedPatient first = incidents.affectedPatients(incident.id(), Agent.localOperator()).stream()
                .filter(p -> p.patient().equals(a)).findFirst().orElseThrow();
        assertThat(first.events()).as("the read and the search that returned it").isEqualTo(2);
        assertThat(first.actions()).containsExactlyInAnyOrder("read", "search");

        // the response, recorded
        long id = incident.id();
        Agent officer = Agent.localOperator();
        incidents.set(id, "description", "盗まれたシステム認証情報で患者情報が閲覧された", officer);
        incidents.set(id, "cause", "委託業者の端末からの認証情報の流出", officer);
        incidents.set(id, "systems", "電子カルテ連携API, 地域連携サーバ", officer);
        incidents.set(id, "personal-data", "suspected", officer);
        incidents.set(id, "data-kinds", "氏名, 生年月日", officer);
        incidents.set(id, "malicious", "true", officer);
        incidents.log(id, "action", "クライアントを無効化し、ネットワークを分離", officer);
        incidents.log(id, "contact", "厚生労働省医政局へ電話で第一報", officer);
        incidents.status(id, "contained", officer);
        assertThatThrownBy(() -> incidents.set(id, "personal-data", "maybe", officer)).hasMessageContaining("one of");
        assertThat(incidents.timeline(id)).extracting(Incidents.Entry::kind)
                .containsSubsequence("opened", "alert", "note", "action", "contact", "status");

        IncidentReports.Report report = reports.report(id, officer);
        JsonNode json = report.json();
        assertThat(json.at("/dataAffected/patients").asInt()).isEqualTo(2);
        assertThat(json.at("/ppc/numberOfPersons").asInt()).isEqualTo(2);
        assertThat(json.at("/incident/whatHappened").asString()).isEqualTo("盗まれたシステム認証情報で患者情報が閲覧された");
        assertThat(json.at("/report/status").asString()).isEqualTo("封じ込め済み");
        assertThat(json.at("/ppc/finalReportBy").asString()).as("malicious: 60 days").isNotBlank();
        String pdf = PdfText.of(report.pdf());
        assertThat(pdf).contains("サイバー攻撃に関する報告", "外部からの不正アクセス",
                "盗まれたシステム認証情報で患者情報が閲覧された", "委託業者の端末からの認証情報の流出", "電子カルテ連携API",
                "おそれあり", "氏名", "生年月日", "クライアントを無効化し、ネットワークを分離", "厚生労働省医政局へ電話で第一報",
                "個人情報保護委員会への報告事項", "本人の数", "60日");
        assertThat(pdf).contains("本人の数2", "影響を受けた患者数(アクセス記録による)2");

        // the same report changes with the record: not malicious, the final report is due in 30 days
        incidents.set(id, "malicious", "false", officer);
        assertThat(PdfText.of(reports.report(id, officer).pdf())).contains("30日").doesNotContain("60日");
    }

    @Test
    void theAdminApiServesTheSecurityOfficerOnly() {
        FhirHttp officer = clientWith("system/AuditEvent.rs");
        FhirHttp clinician = clientWith("system/Patient.r");
        String root = officer.root() + "/admin";

        FhirHttp.Response opened = officer.send("POST", root + "/incidents", "application/json",
                "{\"title\":\"ランサムウェア感染の疑い\",\"subjects\":[\"address:198.51.100.9\"]}");
        assertThat(opened.status()).as(opened.body()).isEqualTo(200);
        long id = JSON.readTree(opened.body()).get("id").asLong();
        assertThat(clinician.get(root + "/incidents/" + id).status()).isEqualTo(403);
        assertThat(officer.send("POST", root + "/incidents", "application/json", "{\"title\":\"x\",\"subjects\":[\"ward-3\"]}")
                .body()).contains("a subject is account:");

        assertThat(officer.send("POST", root + "/incidents/" + id + "/fields", "application/json",
                "{\"description\":\"院内サーバのファイルが暗号化された\",\"personal-data\":\"unknown\"}").status()).isEqualTo(200);
        assertThat(officer.send("POST", root + "/incidents/" + id + "/timeline", "application/json",
                "{\"kind\":\"action\",\"text\":\"バックアップへの経路を遮断\"}").status()).isEqualTo(200);
        JsonNode shown = JSON.readTree(officer.get(root + "/incidents/" + id).body());
        assertThat(shown.at("/incident/description").asString()).isEqualTo("院内サーバのファイルが暗号化された");
        assertThat(shown.get("timeline").toString()).contains("バックアップへの経路を遮断");
        assertThat(JSON.readTree(officer.get(root + "/incidents/" + id + "/report").body()).at("/incident/whatHappened")
                .asString()).isEqualTo("院内サーバのファイルが暗号化された");
        FhirHttp.Response pdf = officer.get(root + "/incidents/" + id + "/report.pdf");
        assertThat(pdf.status()).isEqualTo(200);
        assertThat(pdf.header("Content-Type")).startsWith("application/pdf");
        assertThat(pdf.body()).startsWith("%PDF");

        // the contact chart
        FhirHttp.Response added = officer.send("POST", root + "/incident-contacts", "application/json",
                "{\"party\":\"ministry\",\"organisation\":\"厚生労働省 医政局 特定医薬品開発支援・医療情報担当参事官室\","
                        + "\"phone\":\"03-5253-1111\",\"priority\":10}");
        assertThat(added.status()).as(added.body()).isEqualTo(200);
        assertThat(officer.get(root + "/incident-contacts").body()).contains("医政局", "03-5253-1111");
        assertThat(officer.send("POST", root + "/incident-contacts", "application/json",
                "{\"party\":\"friends\",\"organisation\":\"x\"}").status()).isEqualTo(400);
        assertThat(clinician.get(root + "/incident-contacts").status()).isEqualTo(403);
        long contact = JSON.readTree(added.body()).get("id").asLong();
        assertThat(officer.delete(root + "/incident-contacts/" + contact).status()).isEqualTo(200);
        assertThat(officer.get(root + "/incident-contacts").body()).doesNotContain("03-5253-1111");
    }

    private String patient(String family, String given) {
        var r = admin.post("/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family
                + "\",\"given\":[\"" + given + "\"]}]}");
        assertThat(r.status()).isEqualTo(201);
        return r.headers().firstValue("Location").orElseThrow().replaceAll("^.*/Patient/([^/]+)/_history/.*$", "$1");
    }
}
