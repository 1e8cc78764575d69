package jp.kiroku.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.util.List;
import java.util.UUID;

import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import jp.kiroku.audit.Agent;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.NewAccount;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;

/**
 * A patient's restrictions (FHIR Consent, deny provisions) over HTTP with people's tokens: the records they name leave
 * searches, totals, reads and $everything for everyone they apply to — except the record's author, the patient, and
 * a clinician who broke the glass — and come back when the Consent is no longer active.
 */
@Tag("ACL-01")
@Tag("ACL-07")
class ConsentRestrictionTest extends ServerTest {

    @Autowired
    Accounts accounts;

    static String s;
    static String patient;
    static String systemObs;
    static String doctorObs;
    static String condition;
    static FhirHttp doctor;
    static FhirHttp doctor2;
    static FhirHttp self;
    static PersonLogin.AppLogin outsider;
    static String appId;
    String consent;

    @BeforeEach
    void world() {
        if (s != null) {
            return;
        }
        s = UUID.randomUUID().toString().substring(0, 6);
        patient = "cons-p-" + s;
        for (String who : List.of("dr", "dr2", "dr3")) {
            assertThat(admin.put("Practitioner/" + who + "-" + s, "{\"resourceType\":\"Practitioner\",\"id\":\"" + who + "-" + s
                    + "\"}").status()).isIn(200, 201);
        }
        assertThat(admin.put("Patient/" + patient, "{\"resourceType\":\"Patient\",\"id\":\"" + patient + "\"}").status())
                .isIn(200, 201);
        assertThat(admin.post("Encounter", AccessMatrixTest.encounter(patient, "in-progress", null, "Practitioner/dr-" + s,
                "Practitioner/dr2-" + s)).status()).isEqualTo(201);
        var app = clients.createApp("consent test " + s, List.of(anonymous.root() + "/callback"),
                List.of("openid", "user/*.cruds"), true, Agent.localOperator());
        appId = app.clientId();
        doctor = anonymous.withToken(login("csd" + s, "staff", "physician", "Practitioner/dr-" + s, "ア").accessToken());
        doctor2 = anonymous.withToken(login("cse" + s, "staff", "physician", "Practitioner/dr2-" + s, "イ").accessToken());
        outsider = login("csf" + s, "staff", "physician", "Practitioner/dr3-" + s, "ウ");
        self = anonymous.withToken(login("csp" + s, "patient", "patient", "Patient/" + patient, "エ").accessToken());
        systemObs = created(admin.post("Observation", observation()));
        doctorObs = created(doctor.post("Observation", observation()));
        condition = created(admin.post("Condition", "{\"resourceType\":\"Condition\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"Patient/" + patient + "\"}}"));
    }

    @AfterEach
    void withdraw() {
        if (consent != null) {
            assertThat(admin.delete("Consent/" + consent).status()).isEqualTo(200);
        }
    }

    private PersonLogin.AppLogin login(String username, String kind, String role, String fhirRef, String kana) {
        var issued = accounts.create(new NewAccount(username, kind, List.of(role), "試験 " + username,
                "シケン " + kana.repeat(3), null, LocalDate.of(1982, 3, 4), kind.equals("patient") ? null : role, null, null,
                fhirRef), Agent.localOperator());
        return PersonLogin.appLogin(anonymous.root(), appId, "openid user/*.cruds", username, issued.oneTimePassword());
    }

    private static String observation() {
        return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"BP\"},\"subject\":{\"reference\":"
                + "\"Patient/" + patient + "\"}}";
    }

    private static String created(Response r) {
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        String location = r.header("Location");
        return location.substring(location.indexOf("/fhir/") + 6).split("/")[1];
    }

    /** A Consent (opt-out, 59284-0) whose root provision permits and whose one nested provision denies {@code deny}. */
    private static String consent(String status, String deny) {
        return "{\"resourceType\":\"Consent\",\"status\":\"" + status + "\",\"scope\":{\"coding\":[{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/consentscope\",\"code\":\"patient-privacy\"}]},\"category\":[{"
                + "\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"59284-0\"}]}],\"patient\":{\"reference\":\"Patient/"
                + patient + "\"},\"policyRule\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\","
                + "\"code\":\"OPTOUT\"}]},\"provision\":{\"type\":\"permit\",\"provision\":[{\"type\":\"deny\"," + deny + "}]}}";
    }

    private static final String RESULTS = "\"code\":[{\"coding\":[{\"system\":"
            + "\"http://kiroku.jp/fhir/CodeSystem/information-category\",\"code\":\"results\"}]}]";

    private static List<String> observations(FhirHttp who) {
        Response r = who.get("Observation?subject=Patient/" + patient);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        Bundle b = r.as(Bundle.class);
        List<String> ids = b.getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart()).toList();
        assertThat(b.getTotal()).as("the total counts only what is shown").isEqualTo(ids.size());
        return ids;
    }

    private static List<String> everything(FhirHttp who) {
        Response r = who.get("Patient/" + patient + "/$everything");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.as(Bundle.class).getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart()).toList();
    }

    @Test
    void aCategoryRestrictionHidesTheRecordsFromEveryoneButTheAuthorAndThePatient() {
        assertThat(observations(doctor2)).containsExactlyInAnyOrder(systemObs, doctorObs);

        consent = created(admin.post("Consent", consent("active", RESULTS)));
        assertThat(observations(doctor2)).as("results hidden from a clinician in care").isEmpty();
        assertThat(doctor2.get("Observation/" + systemObs).status()).isEqualTo(403);
        assertThat(everything(doctor2)).doesNotContain(systemObs, doctorObs).contains(condition, consent);
        assertThat(doctor2.get("Condition/" + condition).status()).as("other categories stay").isEqualTo(200);
        assertThat(observations(doctor)).as("the author still sees what they wrote").containsExactly(doctorObs);
        assertThat(doctor.get("Observation/" + systemObs).status()).isEqualTo(403);
        assertThat(observations(self)).as("the patient sees their own record").containsExactlyInAnyOrder(systemObs, doctorObs);
        assertThat(observations(admin)).as("systems are limited by scopes only").contains(systemObs, doctorObs);

        // no longer active: everything is back
        assertThat(admin.put("Consent/" + consent, consent("inactive", RESULTS).replace("{\"resourceType\":\"Consent\",",
                "{\"resourceType\":\"Consent\",\"id\":\"" + consent + "\",")).status()).isEqualTo(200);
        assertThat(observations(doctor2)).containsExactlyInAnyOrder(systemObs, doctorObs);
    }

    @Test
    void aRestrictionNamingPeopleOrAPeriodHidesOnlyFromThemOrOnlyThatPeriod() {
        consent = created(admin.post("Consent", consent("active", "\"actor\":[{\"role\":{\"coding\":[{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/v3-ParticipationType\",\"code\":\"PRCP\"}]},\"reference\":"
                + "{\"reference\":\"Practitioner/dr2-" + s + "\"}}]")));
        assertThat(doctor2.get("Patient/" + patient).status()).as("the whole record, from the one named").isEqualTo(403);
        assertThat(observations(doctor2)).isEmpty();
        assertThat(observations(doctor)).containsExactlyInAnyOrder(systemObs, doctorObs);
        assertThat(admin.delete("Consent/" + consent).status()).isEqualTo(200);

        consent = created(admin.post("Consent", consent("active", RESULTS + ",\"dataPeriod\":{\"start\":\"2019-01-01\","
                + "\"end\":\"2019\"}")));
        assertThat(observations(doctor2)).as("records made outside the period stay").containsExactlyInAnyOrder(systemObs, doctorObs);
        String thisYear = String.valueOf(LocalDate.now().getYear());
        assertThat(admin.delete("Consent/" + consent).status()).isEqualTo(200);
        consent = created(admin.post("Consent", consent("active", RESULTS + ",\"dataPeriod\":{\"start\":\"" + thisYear
                + "-01-01\",\"end\":\"" + thisYear + "\"}")));
        assertThat(observations(doctor2)).as("records made within it go").isEmpty();
    }

    @Test
    void breakGlassOpensWhatARestrictionHides() {
        consent = created(admin.post("Consent", consent("active", RESULTS)));
        FhirHttp dr3 = anonymous.withToken(outsider.accessToken());
        assertThat(dr3.get("Observation/" + systemObs).status()).isEqualTo(403);
        Response opened = dr3.post("Patient/" + patient + "/$break-glass", "{\"resourceType\":\"Parameters\",\"parameter\":["
                + "{\"name\":\"reason\",\"valueString\":\"emergency\"},{\"name\":\"text\",\"valueString\":\"救急搬送、意識なし\"},"
                + "{\"name\":\"otp\",\"valueString\":\"" + outsider.nextCode() + "\"}]}");
        assertThat(opened.status()).as(opened.body()).isEqualTo(200);
        assertThat(dr3.get("Observation/" + systemObs).status()).isEqualTo(200);
        assertThat(observations(dr3)).containsExactlyInAnyOrder(systemObs, doctorObs);
    }
}
