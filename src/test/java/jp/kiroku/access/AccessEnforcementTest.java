package jp.kiroku.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.BeforeEach;
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
 * Access control over real HTTP with people's tokens (an app acting for them, authorization code + PKCE): care
 * relationships decide which patients a clinician reaches, roles which categories, facilities keep records apart,
 * and a patient reaches only their own record (IDOR: by id, search, include, revinclude, chain, history, compartment,
 * $everything, transaction and batch). Hidden records never show in {@code Bundle.total}.
 */
@Tag("ACL-01")
class AccessEnforcementTest extends ServerTest {

    @Autowired
    Accounts accounts;
    @Autowired
    JdbcTemplate jdbc;

    /** The world of this test class, made once: ids are unique per run. */
    static String s;
    static String p1;
    static String p2;
    static String obs1;
    static String obs2;
    static String psy;
    static String uninformed;
    static String enc1;
    static FhirHttp doctor;
    static FhirHttp nurse;
    static FhirHttp clerk;
    static FhirHttp clerkElsewhere;
    static FhirHttp patient1;

    @BeforeEach
    void world() {
        if (s != null) {
            return;
        }
        s = UUID.randomUUID().toString().substring(0, 6);
        p1 = "acc-p1-" + s;
        p2 = "acc-p2-" + s;
        put("Practitioner/dr-" + s, "{\"resourceType\":\"Practitioner\",\"id\":\"dr-" + s + "\"}");
        put("Practitioner/ns-" + s, "{\"resourceType\":\"Practitioner\",\"id\":\"ns-" + s + "\"}");
        put("Location/ward-" + s, "{\"resourceType\":\"Location\",\"id\":\"ward-" + s + "\",\"name\":\"3階西病棟\"}");
        put("Patient/" + p1, patient(p1, "Ichiro" + s));
        put("Patient/" + p2, patient(p2, "Jiro" + s));
        enc1 = created(admin.post("Encounter", AccessMatrixTest.encounter(p1, "in-progress", null, "Practitioner/dr-" + s)));
        created(admin.post("Encounter", "{\"resourceType\":\"Encounter\",\"status\":\"in-progress\",\"class\":{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"IMP\"},\"subject\":{\"reference\":\"Patient/"
                + p2 + "\"},\"location\":[{\"location\":{\"reference\":\"Location/ward-" + s + "\"}}]}"));
        obs2 = created(admin.post("Observation", observation(p2, null)));
        obs1 = created(admin.post("Observation", observation(p1, obs2)));
        psy = created(admin.post("Condition", "{\"resourceType\":\"Condition\",\"meta\":{\"security\":[{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"PSY\"}]},\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"Patient/" + p1 + "\"}}"));

        uninformed = created(admin.post("Condition", "{\"resourceType\":\"Condition\",\"meta\":{\"tag\":[{\"system\":"
                + "\"http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication\",\"code\":\"UNINFORMED\"}]},"
                + "\"code\":{\"text\":\"not told yet\"},\"subject\":{\"reference\":\"Patient/" + p1 + "\"}}"));
        var app = clients.createApp("access test " + s, List.of(anonymous.root() + "/callback"),
                List.of("openid", "user/*.cruds"), true, Agent.localOperator());
        doctor = person(app.clientId(), "dr" + s, "staff", "physician", "physician", null, "Practitioner/dr-" + s, "ア");
        nurse = person(app.clientId(), "ns" + s, "staff", "nurse", "nurse", null, "Practitioner/ns-" + s, "イ");
        accounts.assignCareUnits("ns" + s, List.of("Location/ward-" + s), Agent.localOperator());
        clerk = person(app.clientId(), "ck" + s, "staff", "clerk", "medical-clerk", null, null, "ウ");
        clerkElsewhere = person(app.clientId(), "cb" + s, "staff", "clerk", "medical-clerk", "clinic-b", null, "エ");
        patient1 = person(app.clientId(), "pt" + s, "patient", "patient", null, null, "Patient/" + p1, "オ");
    }

    private void put(String path, String body) {
        assertThat(admin.put(path, body).status()).isIn(200, 201);
    }

    private static String created(Response r) {
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        String location = r.header("Location");
        String[] parts = location.substring(location.indexOf("/fhir/") + 6).split("/");
        return parts[1];
    }

    private static String patient(String id, String family) {
        return "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"" + family + "\"}]}";
    }

    private static String observation(String patient, String member) {
        return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
                + "\"code\":\"8867-4\"}]},\"subject\":{\"reference\":\"Patient/" + patient + "\"}"
                + (member == null ? "" : ",\"hasMember\":[{\"reference\":\"Observation/" + member + "\"}]") + "}";
    }

    private FhirHttp person(String clientId, String username, String kind, String role, String profession, String facility,
                            String fhirRef, String kana) {
        var issued = accounts.create(new NewAccount(username, kind, List.of(role), "試験 " + username, "シケン " + kana.repeat(3),
                null, LocalDate.of(1980, 1, 1), profession, null, facility, fhirRef), Agent.localOperator());
        return anonymous.withToken(PersonLogin.appToken(anonymous.root(), clientId, "openid user/*.cruds", username,
                issued.oneTimePassword()));
    }

    private static Bundle bundle(Response r) {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.as(Bundle.class);
    }

    private static List<String> ids(Bundle b) {
        return b.getEntry().stream().filter(e -> e.getResource() != null && !"OperationOutcome".equals(e.getResource().fhirType()))
                .map(e -> e.getResource().fhirType() + "/" + e.getResource().getIdElement().getIdPart()).toList();
    }

    @Test
    void aClinicianReachesOnlyPatientsInTheirCareAndTotalsDoNotLeak() {
        assertThat(doctor.get("Patient/" + p1).status()).isEqualTo(200);
        assertThat(doctor.get("Patient/" + p2).status()).isEqualTo(403);
        Bundle both = bundle(doctor.get("Patient?_id=" + p1 + "," + p2));
        assertThat(ids(both)).containsExactly("Patient/" + p1);
        assertThat(both.getTotal()).isEqualTo(1);
        assertThat(bundle(doctor.get("Patient?_id=" + p1 + "," + p2 + "&_summary=count")).getTotal()).isEqualTo(1);
        assertThat(bundle(admin.get("Patient?_id=" + p1 + "," + p2 + "&_summary=count")).getTotal()).as("a system sees both")
                .isEqualTo(2);
        // the other patient's name finds nothing, directly or through a chain
        assertThat(bundle(doctor.get("Patient?family=Jiro" + s)).getTotal()).isZero();
        assertThat(bundle(doctor.get("Observation?subject.family=Jiro" + s)).getTotal()).isZero();
        assertThat(bundle(doctor.get("Observation?subject.family=Ichiro" + s)).getTotal()).isEqualTo(1);
        // the nurse is assigned to the ward where the second patient is: the opposite picture
        assertThat(nurse.get("Patient/" + p2).status()).isEqualTo(200);
        assertThat(nurse.get("Patient/" + p1).status()).isEqualTo(403);
        assertThat(ids(bundle(nurse.get("Observation?patient=" + p1 + "," + p2)))).containsExactly("Observation/" + obs2);
    }

    @Test
    void includesEverythingHistoryAndCompartmentsStayWithinReach() {
        Bundle withMembers = bundle(doctor.get("Observation?_id=" + obs1 + "&_include=Observation:has-member"));
        assertThat(ids(withMembers)).containsExactly("Observation/" + obs1); // obs2 is the other patient's
        assertThat(ids(bundle(admin.get("Observation?_id=" + obs1 + "&_include=Observation:has-member"))))
                .contains("Observation/" + obs2);
        assertThat(ids(bundle(doctor.get("Patient?_id=" + p1 + "," + p2 + "&_revinclude=Observation:subject"))))
                .containsExactlyInAnyOrder("Patient/" + p1, "Observation/" + obs1);
        assertThat(doctor.get("Patient/" + p2 + "/$everything").status()).isEqualTo(403);
        List<String> everything = ids(bundle(doctor.get("Patient/" + p1 + "/$everything")));
        assertThat(everything).contains("Patient/" + p1, "Observation/" + obs1).doesNotContain("Observation/" + obs2, "Patient/" + p2);
        assertThat(bundle(doctor.get("Patient/" + p2 + "/Observation")).getTotal()).isZero();
        assertThat(doctor.get("Observation/" + obs2 + "/_history").status()).isEqualTo(403);
        assertThat(doctor.get("Observation/" + obs2 + "/_history/1").status()).isEqualTo(403);
        assertThat(doctor.get("Observation/" + obs1 + "/_history").status()).isEqualTo(200);
        assertThat(doctor.get("Observation/_history").status()).as("type history spans patients").isEqualTo(403);
        assertThat(doctor.get("_history").status()).isEqualTo(403);
    }

    @Test
    @Tag("ACL-07")
    void aPatientReachesOnlyTheirOwnRecordByEveryRoute() {
        assertThat(patient1.get("Patient/" + p1).status()).isEqualTo(200);
        assertThat(patient1.get("Patient/" + p2).status()).isEqualTo(403);
        assertThat(patient1.get("Observation/" + obs2).status()).isEqualTo(403);
        assertThat(ids(bundle(patient1.get("Observation?code=http://loinc.org%7C8867-4")))).containsExactly("Observation/" + obs1);
        assertThat(bundle(patient1.get("Observation?subject=Patient/" + p2)).getTotal()).isZero();
        assertThat(bundle(patient1.get("Patient")).getTotal()).isEqualTo(1);
        assertThat(ids(bundle(patient1.get("Observation?_id=" + obs1 + "&_include=Observation:has-member"))))
                .containsExactly("Observation/" + obs1);
        assertThat(patient1.get("Patient/" + p2 + "/$everything").status()).isEqualTo(403);
        assertThat(patient1.get("Observation/" + obs2 + "/_history").status()).isEqualTo(403);
        assertThat(ids(bundle(patient1.get("Patient/" + p1 + "/$everything")))).doesNotContain("Observation/" + obs2)
                .doesNotContain("Condition/" + psy); // sensitive: not in the patient role's default reach
        // disclosure flags: a record marked UNINFORMED (未告知) is never shown to the patient; the doctor in charge sees it
        assertThat(patient1.get("Condition/" + uninformed).status()).isEqualTo(403);
        assertThat(ids(bundle(patient1.get("Condition?patient=" + p1)))).doesNotContain("Condition/" + uninformed);
        assertThat(ids(bundle(patient1.get("Patient/" + p1 + "/$everything")))).doesNotContain("Condition/" + uninformed);
        assertThat(doctor.get("Condition/" + uninformed).status()).isEqualTo(200);
        // a transaction that reads someone else's record is refused whole; a batch refuses that entry only
        String reads = "{\"resourceType\":\"Bundle\",\"type\":\"%s\",\"entry\":[{\"request\":{\"method\":\"GET\",\"url\":"
                + "\"Patient/" + p1 + "\"}},{\"request\":{\"method\":\"GET\",\"url\":\"Observation/" + obs2 + "\"}}]}";
        assertThat(patient1.post("", reads.formatted("transaction")).status()).isEqualTo(403);
        Bundle batch = bundle(patient1.post("", reads.formatted("batch")));
        assertThat(batch.getEntry().get(0).getResponse().getStatus()).startsWith("200");
        assertThat(batch.getEntry().get(1).getResponse().getStatus()).startsWith("403");
        // and a patient writes nothing
        assertThat(patient1.post("Observation", observation(p1, null)).status()).isEqualTo(403);
        Map<String, Object> denied = jdbc.queryForMap("SELECT agent_kind, outcome FROM audit_log WHERE agent_id = ? AND"
                + " outcome = 'denied' ORDER BY seq DESC LIMIT 1", "pt" + s);
        assertThat(denied).containsEntry("agent_kind", "user");
    }

    @Test
    void rolesDecideCategoriesAndLabelsNarrowThem() {
        // the clerk reaches every patient of the facility, but no clinical category
        assertThat(clerk.get("Patient/" + p2).status()).isEqualTo(200);
        assertThat(clerk.get("Observation?patient=" + p1).status()).isEqualTo(403);
        assertThat(clerk.get("Observation/" + obs1).status()).isEqualTo(403);
        // a PSY-labelled condition: the doctor in charge sees it; the nurse in charge sees the patient's other
        // conditions, but sensitive information is not in a nurse's default reach
        assertThat(doctor.get("Condition/" + psy).status()).isEqualTo(200);
        assertThat(ids(bundle(doctor.get("Condition?patient=" + p1)))).contains("Condition/" + psy);
        String plain = created(admin.post("Condition", "{\"resourceType\":\"Condition\",\"code\":{\"text\":\"y\"},"
                + "\"subject\":{\"reference\":\"Patient/" + p2 + "\"}}"));
        String labelled = created(admin.post("Condition", "{\"resourceType\":\"Condition\",\"meta\":{\"security\":[{"
                + "\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"PSY\"}]},\"code\":{\"text\":"
                + "\"z\"},\"subject\":{\"reference\":\"Patient/" + p2 + "\"}}"));
        assertThat(nurse.get("Condition/" + plain).status()).isEqualTo(200);
        assertThat(nurse.get("Condition/" + labelled).status()).isEqualTo(403);
        Bundle nursesView = bundle(nurse.get("Condition?patient=" + p2));
        assertThat(ids(nursesView)).containsExactly("Condition/" + plain);
        assertThat(nursesView.getTotal()).isEqualTo(1);
        // writes: the doctor writes for the patient in care, not for the other one
        assertThat(doctor.post("Observation", observation(p1, null).replace("8867-4", "8310-5")).status()).isEqualTo(201);
        assertThat(doctor.post("Observation", observation(p2, null).replace("8867-4", "8310-5")).status()).isEqualTo(403);
        assertThat(doctor.put("Patient/" + p2, patient(p2, "Changed")).status()).isEqualTo(403);
        assertThat(admin.get("Patient/" + p2).body()).contains("Jiro" + s).doesNotContain("Changed");
        // a conditional update cannot find (and so cannot overwrite) a hidden record
        assertThat(doctor.put("Patient?_id=" + p2, patient(p2, "Changed")).status()).isEqualTo(403);
    }

    @Test
    void facilitiesKeepTheirRecordsApart() {
        assertThat(clerk.get("Patient/" + p1).status()).isEqualTo(200);
        assertThat(clerkElsewhere.get("Patient/" + p1).status()).isEqualTo(403);
        assertThat(bundle(clerkElsewhere.get("Patient?_id=" + p1 + "," + p2)).getTotal()).isZero();
        // what clinic-b's clerk registers belongs to clinic-b
        String own = created(clerkElsewhere.post("Patient", patient(null, "Saburo" + s).replace("\"id\":\"null\",", "")));
        assertThat(clerkElsewhere.get("Patient/" + own).status()).isEqualTo(200);
        assertThat(clerk.get("Patient/" + own).status()).isEqualTo(403);
        assertThat(jdbc.queryForObject("SELECT facility_id FROM resource_current WHERE res_type = 'Patient' AND res_id = ?",
                String.class, own)).isEqualTo("clinic-b");
    }

    @Test
    void whenTheEncounterEndsLongAgoThePatientGoesOutOfReach() {
        String enc = admin.get("Encounter/" + enc1).body();
        assertThat(doctor.get("Patient/" + p1).status()).isEqualTo(200);
        String ended = AccessMatrixTest.encounter(p1, "finished", Instant.now().minus(Duration.ofDays(40)).toString(),
                "Practitioner/dr-" + s).replace("{\"resourceType\":\"Encounter\",", "{\"resourceType\":\"Encounter\",\"id\":\""
                + enc1 + "\",");
        assertThat(admin.put("Encounter/" + enc1, ended).status()).isEqualTo(200);
        try {
            assertThat(doctor.get("Patient/" + p1).status()).isEqualTo(403);
            assertThat(bundle(doctor.get("Observation?patient=" + p1)).getTotal()).isZero();
        } finally {
            assertThat(admin.put("Encounter/" + enc1, enc.replaceAll("\"meta\":\\{[^}]*\\},", "")).status()).isEqualTo(200);
        }
        assertThat(doctor.get("Patient/" + p1).status()).isEqualTo(200);
    }
}
