package jp.kiroku.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.util.List;
import java.util.UUID;

import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.NewAccount;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.PdfText;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;
import jp.kiroku.support.WebSession;

/**
 * The patients' portal (issue 12, item 1; PHR-03): a patient signed in with the second factor sees their own records
 * — allergies, results with their trend — and nobody else's, whatever the URL says (the portal takes the patient from
 * the account; the staff pages refuse another patient); records not yet told to them are not shown, downloaded or
 * printed; the JSON and PDF downloads hold exactly their records; "who looked at my record" shows the physician's
 * role and facility, and their name only when the facility's policy says so.
 */
@Tag("PHR-03")
class PortalPagesTest extends ServerTest {

    private static final String INDICATION = "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication";

    @Autowired
    Accounts accounts;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    KirokuProperties props;

    @Test
    void aPatientSeesDownloadsAndAuditsOnlyTheirOwnRecords() {
        String s = UUID.randomUUID().toString().substring(0, 8);
        String me = created("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"佐々木\",\"given\":[\"恵子\"]}],"
                + "\"birthDate\":\"1971-03-04\"}");
        String other = created("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"他人\",\"given\":[\"太郎\"]}]}");
        String allergy = created("{\"resourceType\":\"AllergyIntolerance\",\"patient\":{\"reference\":\"Patient/" + me
                + "\"},\"code\":{\"text\":\"ペニシリン\"},\"reaction\":[{\"manifestation\":[{\"text\":\"蕁麻疹\"}]}]}");
        for (String[] r : List.of(new String[] {"2026-06-01", "6.9"}, new String[] {"2026-11-01", "6.3"})) {
            created("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"HbA1c\"},\"subject\":"
                    + "{\"reference\":\"Patient/" + me + "\"},\"effectiveDateTime\":\"" + r[0] + "\",\"valueQuantity\":"
                    + "{\"value\":" + r[1] + ",\"unit\":\"%\"},\"referenceRange\":[{\"low\":{\"value\":4.6},\"high\":"
                    + "{\"value\":6.2}}]}");
        }
        String untold = created("{\"resourceType\":\"Condition\",\"meta\":{\"tag\":[{\"system\":\"" + INDICATION
                + "\",\"code\":\"UNINFORMED\"}]},\"subject\":{\"reference\":\"Patient/" + me + "\"},"
                + "\"code\":{\"text\":\"未告知の病名\"}}");
        created("{\"resourceType\":\"AllergyIntolerance\",\"patient\":{\"reference\":\"Patient/" + other + "\"},"
                + "\"code\":{\"text\":\"ソバ\"}}");
        assertThat(admin.put("Practitioner/pdr-" + s, "{\"resourceType\":\"Practitioner\",\"id\":\"pdr-" + s + "\"}")
                .status()).isEqualTo(201);
        created("{\"resourceType\":\"Encounter\",\"status\":\"in-progress\",\"class\":{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"AMB\"},\"subject\":{\"reference\":"
                + "\"Patient/" + me + "\"},\"participant\":[{\"individual\":{\"reference\":\"Practitioner/pdr-" + s + "\"}}]}");

        // a physician in the patient's care opens the chart: that is what the patient will see in "who looked"
        String doctor = "portal.dr." + s;
        String doctorOtp = accounts.create(new NewAccount(doctor, "staff", List.of("physician"), "主治 医師" + s,
                PersonLogin.katakana(doctor), null, LocalDate.of(1970, 1, 1), "physician", "内科", null,
                "Practitioner/pdr-" + s), Agent.localOperator()).oneTimePassword();
        WebSession physician = new WebSession(anonymous.root());
        PersonLogin.firstLogin(physician, doctor, doctorOtp);
        assertThat(physician.get("/patients/" + me).status()).isEqualTo(200);
        assertThat(physician.get("/my").status()).as("the portal is for patients' own accounts").isEqualTo(403);

        String username = "portal.pt." + s;
        String otp = accounts.create(new NewAccount(username, "patient", List.of("patient"), "佐々木 恵子",
                PersonLogin.katakana(username), null, LocalDate.of(1971, 3, 4), null, null, null, "Patient/" + me),
                Agent.localOperator()).oneTimePassword();
        WebSession patient = new WebSession(anonymous.root());
        PersonLogin.firstLogin(patient, username, otp);
        assertThat(patient.get("/").body()).contains("id=\"my-records\"");

        String page = patient.get("/my").body();
        assertThat(page).contains("佐々木 恵子", "ペニシリン", "蕁麻疹", "HbA1c", "6.3 %", "4.6–6.2", "<polyline")
                .doesNotContain("未告知の病名").doesNotContain("ソバ").doesNotContain("他人");

        Bundle json = FhirHttp.CTX.newJsonParser().parseResource(Bundle.class,
                patient.get("/my/records.json?patient=" + other).body());
        List<String> refs = json.getEntry().stream().map(e -> e.getResource().fhirType() + "/"
                + e.getResource().getIdElement().getIdPart()).toList();
        assertThat(refs).contains("Patient/" + me, "AllergyIntolerance/" + allergy)
                .doesNotContain("Patient/" + other, "Condition/" + untold);
        assertThat(refs).as("the patient, the allergy, two results, the encounter and the practitioner it names")
                .hasSize(6).contains("Practitioner/pdr-" + s);
        String pdf = PdfText.of(patient.download("/my/records.pdf").body());
        assertThat(pdf).contains("佐々木恵子", "ペニシリン").doesNotContain("未告知の病名").doesNotContain("ソバ");

        // another patient's record through the staff pages: refused
        assertThat(patient.get("/patients/" + other).status()).isEqualTo(403);
        assertThat(patient.download("/patients/" + other + "/print.pdf").statusCode()).isEqualTo(403);
        assertThat(patient.get("/patients/" + me + "/history/Condition/" + untold).status()).isEqualTo(403);

        String access = patient.get("/my/access").body();
        assertThat(access).contains("physician", "chart").doesNotContain("主治 医師" + s)
                .as("the patient's own looks are not listed").doesNotContain(username);
        props.getPhr().setShowStaffNames(true);
        try {
            assertThat(patient.get("/my/access").body()).contains("主治 医師" + s);
        } finally {
            props.getPhr().setShowStaffNames(false);
        }
        assertThat(jdbc.queryForList("SELECT action FROM audit_log WHERE agent_id = ? ORDER BY seq", String.class,
                username)).contains("chart", "download", "print", "phr.access-log");
    }

    private String created(String resource) {
        String type = resource.replaceAll("^\\{\"resourceType\":\"([A-Za-z]+)\".*$", "$1");
        var r = admin.post("/" + type, resource);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.headers().firstValue("Location").orElseThrow().replaceAll("^.*/" + type + "/([^/]+)/_history/.*$", "$1");
    }
}
