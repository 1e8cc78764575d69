package jp.kiroku.phr;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Consent;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.NewAccount;
import jp.kiroku.retention.Retention;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;
import jp.kiroku.support.WebSession;

/**
 * Sharing between facilities with the patient's consent (issue 12, item 4; PHR-01): a physician of another facility,
 * in the patient's care there, reaches nothing of the patient's records made here until the patient consents in the
 * portal — then exactly the categories consented to, within the period — and nothing again from the moment the
 * patient revokes. Each grant and revocation is a FHIR Consent version written as the patient; the accesses are in
 * the access log with the reader's facility, which the patient sees.
 */
@Tag("PHR-01")
class SharingConsentTest extends ServerTest {

    @Autowired
    Accounts accounts;
    @Autowired
    Retention retention;
    @Autowired
    JdbcTemplate jdbc;

    private String s;
    private String patient;
    private String other;
    private String observation;
    private String condition;
    private FhirHttp doctorB;
    private WebSession portal;
    private String facilityB;

    @BeforeEach
    void aPatientOfThisHospitalTreatedAlsoAtClinicB() {
        s = UUID.randomUUID().toString().substring(0, 8);
        facilityB = "clinic-b-" + s;
        retention.setFacility(facilityB, "B診療所 " + s, "clinic", Agent.localOperator());
        patient = created("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"共有\",\"given\":[\"花子\"]}]}");
        other = created("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"他人\",\"given\":[\"次郎\"]}]}");
        observation = created("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"HbA1c\"},"
                + "\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"valueQuantity\":{\"value\":6.1,\"unit\":\"%\"}}");
        condition = created("{\"resourceType\":\"Condition\",\"code\":{\"text\":\"糖尿病\"},\"subject\":{\"reference\":"
                + "\"Patient/" + patient + "\"}}");
        created("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"HbA1c\"},"
                + "\"subject\":{\"reference\":\"Patient/" + other + "\"},\"valueQuantity\":{\"value\":7.0,\"unit\":\"%\"}}");
        // the clinic's physician treats both patients (care relationship from an encounter at the clinic)
        assertThat(admin.put("Practitioner/drb-" + s, "{\"resourceType\":\"Practitioner\",\"id\":\"drb-" + s + "\"}").status())
                .isEqualTo(201);
        for (String p : List.of(patient, other)) {
            created("{\"resourceType\":\"Encounter\",\"status\":\"in-progress\",\"class\":{\"system\":"
                    + "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"AMB\"},\"subject\":{\"reference\":"
                    + "\"Patient/" + p + "\"},\"participant\":[{\"individual\":{\"reference\":\"Practitioner/drb-" + s + "\"}}]}");
        }
        var app = clients.createApp("sharing test " + s, List.of(anonymous.root() + "/callback"),
                List.of("openid", "user/*.cruds"), true, Agent.localOperator());
        String drb = "drb" + s;
        var issued = accounts.create(new NewAccount(drb, "staff", List.of("physician"), "B 医師" + s,
                PersonLogin.katakana(drb), null, LocalDate.of(1975, 5, 5), "physician", null, facilityB,
                "Practitioner/drb-" + s), Agent.localOperator());
        doctorB = anonymous.withToken(PersonLogin.appToken(anonymous.root(), app.clientId(), "openid user/*.cruds", drb,
                issued.oneTimePassword()));

        String username = "share.pt." + s;
        String otp = accounts.create(new NewAccount(username, "patient", List.of("patient"), "共有 花子",
                PersonLogin.katakana(username), null, LocalDate.of(1960, 2, 2), null, null, null, "Patient/" + patient),
                Agent.localOperator()).oneTimePassword();
        portal = new WebSession(anonymous.root());
        PersonLogin.firstLogin(portal, username, otp);
    }

    @Test
    void grantingAndRevokingChangesWhatTheOtherFacilityReadsAtOnce() {
        assertThat(doctorB.get("Observation/" + observation).status()).as("another facility's record").isEqualTo(403);
        assertThat(total(doctorB.get("Observation?patient=" + patient))).isZero();

        assertThat(portal.get("/my/consents").body()).contains("B診療所 " + s, "id=\"no-grants\"");
        var granted = portal.post("/my/consents", Map.of("recipient", facilityB, "category", "results", "purpose", "TREAT"));
        assertThat(granted.redirect()).as(granted.body()).isEqualTo("/my/consents");

        // the consented category only, in reads and searches (totals included); the other patient stays hidden
        assertThat(doctorB.get("Observation/" + observation).status()).isEqualTo(200);
        assertThat(doctorB.get("Condition/" + condition).status()).as("clinical records were not shared").isEqualTo(403);
        assertThat(doctorB.get("Patient/" + patient).status()).as("nor demographics").isEqualTo(403);
        var search = FhirHttp.CTX.newJsonParser().parseResource(Bundle.class,
                doctorB.get("Observation?patient=" + patient + "," + other + "&_total=accurate").body());
        assertThat(search.getTotal()).isEqualTo(1);
        assertThat(search.getEntryFirstRep().getResource().getIdElement().getIdPart()).isEqualTo(observation);
        assertThat(total(doctorB.get("Condition?patient=" + patient))).isZero();

        // the access is logged with the reader, and the patient sees the reader's facility
        assertThat(jdbc.queryForObject("SELECT count(*) FROM audit_log WHERE agent_id = ? AND action = 'read' AND outcome ="
                + " 'success' AND ? = ANY (patients)", Integer.class, "drb" + s, patient)).isEqualTo(1);
        assertThat(portal.get("/my/access").body()).contains(facilityB);

        // the grant is a Consent written by the patient, naming recipient, purpose, category and the terms' version
        String consentId = jdbc.queryForObject("SELECT consent_id FROM consent_share WHERE patient_key = ?", String.class, patient);
        Consent consent = admin.get("Consent/" + consentId).as(Consent.class);
        assertThat(consent.getStatus()).isEqualTo(Consent.ConsentState.ACTIVE);
        assertThat(consent.getProvision().getActorFirstRep().getReference().getIdentifier().getValue()).isEqualTo(facilityB);
        assertThat(consent.getProvision().getPurposeFirstRep().getCode()).isEqualTo("TREAT");
        assertThat(consent.getPolicyFirstRep().getUri()).endsWith("/sharing/1");
        assertThat(jdbc.queryForObject("SELECT created_by FROM resource_current WHERE res_type = 'Consent' AND res_id = ?",
                String.class, consentId)).isEqualTo("share.pt." + s);

        var revoked = portal.post("/my/consents/" + consentId + "/revoke", Map.of());
        assertThat(revoked.redirect()).as(revoked.body()).isEqualTo("/my/consents");
        assertThat(doctorB.get("Observation/" + observation).status()).as("revocation holds at once").isEqualTo(403);
        assertThat(total(doctorB.get("Observation?patient=" + patient))).isZero();
        assertThat(admin.get("Consent/" + consentId).as(Consent.class).getStatus()).isEqualTo(Consent.ConsentState.INACTIVE);
        assertThat(admin.get("Consent/" + consentId + "/_history/1").as(Consent.class).getStatus())
                .as("the grant stays on record").isEqualTo(Consent.ConsentState.ACTIVE);
        assertThat(portal.get("/my/consents").body()).contains("取り消し済み");
    }

    @Test
    void aConsentHoldsOnlyWithinItsPeriodAndForTheFacilityNamed() {
        LocalDate tomorrow = LocalDate.now().plusDays(2);
        assertThat(portal.post("/my/consents", Map.of("recipient", facilityB, "purpose", "TREAT", "from",
                tomorrow.toString())).redirect()).isEqualTo("/my/consents");
        assertThat(doctorB.get("Observation/" + observation).status()).as("not yet").isEqualTo(403);
        assertThat(portal.post("/my/consents", Map.of("recipient", facilityB, "purpose", "CAREMGT")).redirect())
                .isEqualTo("/my/consents");
        assertThat(doctorB.get("Observation/" + observation).status()).as("from today, every category").isEqualTo(200);
        assertThat(doctorB.get("Patient/" + patient).status()).isEqualTo(200);
        String psy = created("{\"resourceType\":\"Condition\",\"meta\":{\"security\":[{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"PSY\"}]},\"code\":{\"text\":\"うつ病\"},"
                + "\"subject\":{\"reference\":\"Patient/" + patient + "\"}}");
        assertThat(doctorB.get("Condition/" + psy).status()).as("sensitive records only when named").isEqualTo(403);
        assertThat(total(doctorB.get("Condition?patient=" + patient))).isEqualTo(1);
        // bad input is answered on the page and writes nothing
        int before = count("Consent");
        assertThat(portal.post("/my/consents", Map.of("recipient", "no-such-facility", "purpose", "TREAT")).body())
                .contains("id=\"error\"", "choose a facility");
        assertThat(portal.post("/my/consents", Map.of("recipient", facilityB)).body()).contains("choose at least one purpose");
        assertThat(portal.post("/my/consents", Map.of("recipient", facilityB, "purpose", "TREAT", "from", "2026-12-10",
                "to", "2026-12-01")).body()).contains("before it starts");
        assertThat(count("Consent")).isEqualTo(before);
    }

    @Test
    void aPatientCannotConsentOrRevokeForSomebodyElse() {
        // the other patient's consent, recorded by staff
        String theirs = created("{\"resourceType\":\"Consent\",\"status\":\"active\",\"scope\":{\"coding\":[{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/consentscope\",\"code\":\"patient-privacy\"}]},\"category\":"
                + "[{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"59284-0\"}]}],\"patient\":{\"reference\":"
                + "\"Patient/" + other + "\"},\"policyRule\":{\"coding\":[{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"OPTIN\"}]},\"provision\":{\"type\":"
                + "\"permit\",\"actor\":[{\"role\":{\"coding\":[{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/v3-ParticipationType\",\"code\":\"IRCP\"}]},\"reference\":"
                + "{\"identifier\":{\"system\":\"http://kiroku.jp/fhir/NamingSystem/facility\",\"value\":\"" + facilityB
                + "\"}}}],\"purpose\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActReason\",\"code\":\"TREAT\"}]}}");
        assertThat(doctorB.get("Patient/" + other).status()).as("staff may record a consent too").isEqualTo(200);
        portal.get("/my/consents");
        assertThat(portal.post("/my/consents/" + theirs + "/revoke", Map.of()).status()).isEqualTo(403);
        assertThat(doctorB.get("Patient/" + other).status()).as("still shared").isEqualTo(200);
        assertThat(portal.get("/my/consents").body()).doesNotContain(theirs);
    }

    @Test
    @Tag("PHR-04")
    void aDeletionRequestIsAnsweredAndTheAnswerShown() {
        assertThat(portal.get("/my/consents").body()).contains("id=\"deletion-form\"");
        assertThat(portal.post("/my/deletion", Map.of("reason", "転居のため")).redirect()).isEqualTo("/my/consents");
        assertThat(portal.post("/my/deletion", Map.of()).body()).contains("already waiting");
        DeletionRequests requests = deletionRequests;
        var open = requests.of(patient);
        assertThat(open).hasSize(1);
        assertThat(open.get(0).state()).isEqualTo("open");
        // the records are within their legal retention: the disposal cannot be asked for, and the patient learns why
        var answered = requests.takeUp(open.get(0).id(), Agent.localOperator());
        assertThat(answered.state()).isEqualTo("refused");
        assertThat(answered.answer()).startsWith("cannot be deleted yet:").contains("retention");
        assertThat(portal.get("/my/consents").body()).contains("cannot be deleted yet");
        // a new request may then be filed, and refused by hand with a reason
        assertThat(portal.post("/my/deletion", Map.of()).redirect()).isEqualTo("/my/consents");
        var second = requests.of(patient).get(0);
        assertThat(requests.refuse(second.id(), "保存期間中のため削除できません", Agent.localOperator()).state()).isEqualTo("refused");
        assertThat(jdbc.queryForList("SELECT action FROM audit_log WHERE ? = ANY (patients) AND action LIKE 'phr.deletion%' ORDER BY seq",
                String.class, patient)).containsExactly("phr.deletion-request", "phr.deletion-answer", "phr.deletion-request",
                "phr.deletion-answer");
    }

    @Autowired
    DeletionRequests deletionRequests;

    private int count(String type) {
        return jdbc.queryForObject("SELECT count(*) FROM resource_version WHERE res_type = ?", Integer.class, type);
    }

    private static int total(FhirHttp.Response r) {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.as(Bundle.class).getTotal();
    }

    private String created(String resource) {
        String type = resource.replaceAll("^\\{\"resourceType\":\"([A-Za-z]+)\".*$", "$1");
        var r = admin.post("/" + type, resource);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.headers().firstValue("Location").orElseThrow().replaceAll("^.*/" + type + "/([^/]+)/_history/.*$", "$1");
    }
}
