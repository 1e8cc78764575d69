package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.ServerTest;

/**
 * Sharing with another Kiroku over FHIR (issue 12, item 4): the other installation's partner client reads exactly what
 * patients have shared with its facility — nothing before the consent, the consented categories while it stands,
 * nothing from the moment it is revoked — and `kiroku phr fetch` on the receiving side gets the same records and
 * audits the fetch there, while the source audits every read of the partner.
 */
@Tag("PHR-01")
class SharingPartnerTest extends ServerTest {

    private static final String PATIENT_NUMBER = "urn:oid:1.2.392.100495.20.3.51.11310000001";

    @Autowired
    JdbcTemplate jdbc;

    @Test
    void aPartnerReadsOnlyWhatIsSharedWithItsFacilityAndBothSidesAudit(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        String s = UUID.randomUUID().toString().substring(0, 8);
        String facility = "kiroku-b-" + s;
        assertThat(CliRun.kiroku(DATA_DIR, "client", "create-partner", "--name", "B", "--facility", facility).err())
                .contains("no facility '" + facility + "' in the register");
        CliRun set = CliRun.kiroku(DATA_DIR, "facility", "set", "--id", facility, "--type", "clinic", "--name", "B診療所");
        assertThat(set.code()).as(set.err()).isZero();
        CliRun created = CliRun.kiroku(DATA_DIR, "client", "create-partner", "--name", "B clinic's Kiroku", "--facility", facility);
        assertThat(created.code()).as(created.err()).isZero();
        String clientId = field(created.out(), "client_id");
        String secret = field(created.out(), "client_secret");
        FhirHttp partner = anonymous.withToken(FhirHttp.fetchToken(anonymous.root(), clientId, secret, "system/*.rs"));

        String value = "P-" + s;
        String patient = id(admin.post("Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\""
                + PATIENT_NUMBER + "\",\"value\":\"" + value + "\"}],\"name\":[{\"family\":\"連携\"}]}"));
        String obs = id(admin.post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":"
                + "\"Cr\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"valueQuantity\":{\"value\":0.8}}"));
        String cond = id(admin.post("Condition", "{\"resourceType\":\"Condition\",\"code\":{\"text\":\"高血圧\"},\"subject\":"
                + "{\"reference\":\"Patient/" + patient + "\"}}"));
        Path secretFile = dir.resolve("secret");
        Files.writeString(secretFile, secret + "\n");
        Path out = dir.resolve("shared.json");
        List<String> fetch = List.of("phr", "fetch", "--source", anonymous.root(), "--client-id", clientId,
                "--secret-file", secretFile.toString(), "--identifier", PATIENT_NUMBER + "|" + value, "--out", out.toString());

        assertThat(partner.get("Observation/" + obs).status()).as("nothing shared yet").isEqualTo(403);
        assertThat(partner.get("Patient?identifier=" + PATIENT_NUMBER + "%7C" + value).as(Bundle.class).getTotal()).isZero();
        CliRun nothing = CliRun.kiroku(DATA_DIR, fetch.toArray(String[]::new));
        assertThat(nothing.code()).isNotZero();
        assertThat(nothing.err()).contains("shares no patient");

        // the patient's consent, recorded by staff from the signed paper form: personal details and results
        String consent = id(admin.post("Consent", consent(patient, facility, "active")));
        assertThat(partner.get("Observation/" + obs).status()).isEqualTo(200);
        assertThat(partner.get("Condition/" + cond).status()).as("clinical records were not shared").isEqualTo(403);
        assertThat(partner.post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":"
                + "\"x\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}").status()).as("read only").isEqualTo(403);

        CliRun fetched = CliRun.kiroku(DATA_DIR, fetch.toArray(String[]::new));
        assertThat(fetched.code()).as(fetched.err()).isZero();
        Bundle bundle = FhirHttp.CTX.newJsonParser().parseResource(Bundle.class, Files.readString(out));
        assertThat(bundle.getEntry().stream().map(e -> e.getResource().fhirType() + "/" + e.getResource().getIdElement()
                .getIdPart()).toList()).containsExactlyInAnyOrder("Patient/" + patient, "Observation/" + obs);
        // the source's log: the partner's reads; the receiving side's log: the fetch, on the patient found there
        assertThat(jdbc.queryForList("SELECT DISTINCT action FROM audit_log WHERE agent_id = ? AND outcome = 'success' AND ?"
                + " = ANY (patients)", String.class, clientId, patient)).contains("read", "search", "everything");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM audit_log WHERE action = 'sharing.fetch' AND outcome = 'success'"
                + " AND ? = ANY (patients) AND detail LIKE ?", Integer.class, patient, "%client=" + clientId + "%")).isEqualTo(1);

        // revoked: nothing from that moment
        assertThat(admin.put("Consent/" + consent, consent(patient, facility, "inactive").replace("{\"resourceType\":\"Consent\",",
                "{\"resourceType\":\"Consent\",\"id\":\"" + consent + "\",")).status()).isEqualTo(200);
        assertThat(partner.get("Observation/" + obs).status()).isEqualTo(403);
        assertThat(CliRun.kiroku(DATA_DIR, fetch.toArray(String[]::new)).err()).contains("shares no patient");
        // the partner role is a client's only: no person gets it (it would reach a whole facility)
        assertThat(CliRun.kiroku(DATA_DIR, "user", "create", "--username", "pt-role-" + s, "--name", "試験", "--kana", "シケン",
                "--roles", "partner", "--profession", "other").err()).contains("unknown role 'partner'");
        // plain http to another host is refused before anything is sent
        assertThat(CliRun.kiroku(DATA_DIR, "phr", "fetch", "--source", "http://kiroku.example.jp", "--client-id", clientId,
                "--secret-file", secretFile.toString(), "--patient", patient, "--out", out.toString()).err())
                .contains("must be https");
    }

    private static String consent(String patient, String facility, String status) {
        return "{\"resourceType\":\"Consent\",\"status\":\"" + status + "\",\"scope\":{\"coding\":[{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/consentscope\",\"code\":\"patient-privacy\"}]},\"category\":"
                + "[{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"59284-0\"}]}],\"patient\":{\"reference\":"
                + "\"Patient/" + patient + "\"},\"policyRule\":{\"coding\":[{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"OPTIN\"}]},\"provision\":{\"type\":"
                + "\"permit\",\"actor\":[{\"role\":{\"coding\":[{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/v3-ParticipationType\",\"code\":\"IRCP\"}]},\"reference\":"
                + "{\"identifier\":{\"system\":\"http://kiroku.jp/fhir/NamingSystem/facility\",\"value\":\"" + facility
                + "\"}}}],\"purpose\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActReason\",\"code\":\"TREAT\"}],"
                + "\"code\":[{\"coding\":[{\"system\":\"http://kiroku.jp/fhir/CodeSystem/information-category\",\"code\":"
                + "\"demographics\"}]},{\"coding\":[{\"system\":\"http://kiroku.jp/fhir/CodeSystem/information-category\","
                + "\"code\":\"results\"}]}]}}";
    }

    private static String field(String out, String name) {
        Matcher m = Pattern.compile(name + ":\\s+(\\S+)").matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return m.group(1);
    }

    private static String id(FhirHttp.Response r) {
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.headers().firstValue("Location").orElseThrow().replaceAll("^.*/[A-Za-z]+/([^/]+)/_history/.*$", "$1");
    }
}
