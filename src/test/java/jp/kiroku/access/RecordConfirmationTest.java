package jp.kiroku.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Provenance;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import jp.kiroku.audit.Agent;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.NewAccount;
import jp.kiroku.store.RecordStore;
import jp.kiroku.store.ResourceKey;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;

/**
 * Record confirmation (確定) and proxy input (代行入力) over HTTP with people's tokens: drafts become confirmed
 * versions naming the confirming person and the server's time; a confirmed record changes only as a new version with
 * a reason; a doctor's assistant's entries name the responsible doctor, stay flagged unapproved, sit on that doctor's
 * worklist and are approved by that doctor alone; Provenance tells other systems who entered, on whose behalf, and
 * who confirmed.
 */
@Tag("INTEG-01")
@Tag("INTEG-02")
@Tag("INTEG-03")
@Tag("INTEG-04")
class RecordConfirmationTest extends ServerTest {

    private static final String STATUS = "http://kiroku.jp/fhir/CodeSystem/record-status";

    @Autowired
    Accounts accounts;
    @Autowired
    RecordStore store;

    static String s;
    static String patient;
    static FhirHttp doctor;
    static FhirHttp doctor2;
    static FhirHttp assistant;
    static FhirHttp nurse;

    @BeforeEach
    void world() {
        if (s != null) {
            return;
        }
        s = UUID.randomUUID().toString().substring(0, 6);
        patient = "conf-p-" + s;
        for (String who : List.of("dr", "dr2", "da", "ns")) {
            assertThat(admin.put("Practitioner/" + who + "-" + s, "{\"resourceType\":\"Practitioner\",\"id\":\"" + who + "-" + s
                    + "\"}").status()).isIn(200, 201);
        }
        assertThat(admin.put("Patient/" + patient, "{\"resourceType\":\"Patient\",\"id\":\"" + patient + "\"}").status())
                .isIn(200, 201);
        assertThat(admin.post("Encounter", AccessMatrixTest.encounter(patient, "in-progress", null, "Practitioner/dr-" + s,
                "Practitioner/dr2-" + s, "Practitioner/da-" + s, "Practitioner/ns-" + s)).status()).isEqualTo(201);
        var app = clients.createApp("confirmation test " + s, List.of(anonymous.root() + "/callback"),
                List.of("openid", "user/*.cruds"), true, Agent.localOperator());
        doctor = person(app.clientId(), "cdr" + s, "physician", "Practitioner/dr-" + s, "ア");
        doctor2 = person(app.clientId(), "cdq" + s, "physician", "Practitioner/dr2-" + s, "イ");
        assistant = person(app.clientId(), "cda" + s, "doctor-assistant", "Practitioner/da-" + s, "ウ");
        nurse = person(app.clientId(), "cns" + s, "nurse", "Practitioner/ns-" + s, "エ");
    }

    private FhirHttp person(String clientId, String username, String role, String fhirRef, String kana) {
        var issued = accounts.create(new NewAccount(username, "staff", List.of(role), "試験 " + username,
                "シケン " + kana.repeat(3), null, LocalDate.of(1981, 2, 3),
                role.equals("doctor-assistant") ? "other" : role, null, null, fhirRef), Agent.localOperator());
        return anonymous.withToken(PersonLogin.appToken(anonymous.root(), clientId, "openid user/*.cruds", username,
                issued.oneTimePassword()));
    }

    private static String condition(String text) {
        return "{\"resourceType\":\"Condition\",\"code\":{\"text\":\"" + text + "\"},\"subject\":{\"reference\":\"Patient/"
                + patient + "\"}}";
    }

    private static String created(Response r) {
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        String location = r.header("Location");
        return location.substring(location.indexOf("/fhir/") + 6).split("/")[1];
    }

    private static Response confirm(FhirHttp who, String path, int version) {
        return who.post(path + "/$confirm", "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"version\","
                + "\"valueInteger\":" + version + "}]}");
    }

    /** HTTP header values are ASCII: Japanese text travels as JSON \\u escapes. */
    private static Map<String, String> provenance(String json) {
        StringBuilder ascii = new StringBuilder();
        json.chars().forEach(c -> ascii.append(c < 128 ? String.valueOf((char) c) : String.format("\\u%04x", c)));
        return Map.of("X-Provenance", ascii.toString());
    }

    private static String onBehalfOf(String practitioner) {
        return "{\"resourceType\":\"Provenance\",\"agent\":[{\"who\":{\"display\":\"assistant\"},\"onBehalfOf\":{\"reference\":\""
                + practitioner + "\"}}]}";
    }

    private static String reason(String text) {
        return "{\"resourceType\":\"Provenance\",\"reason\":[{\"text\":\"" + text + "\"}]}";
    }

    private static List<String> statusTags(Response r) {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.as(Condition.class).getMeta().getTag().stream().filter(t -> STATUS.equals(t.getSystem()))
                .map(t -> t.getCode()).toList();
    }

    private List<Provenance> provenancesOf(String target) {
        Response r = admin.get("Provenance?target=" + target);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.as(Bundle.class).getEntry().stream().map(e -> (Provenance) e.getResource()).toList();
    }

    private static List<String> agents(Provenance p, String type) {
        return p.getAgent().stream().filter(a -> a.getType().getCodingFirstRep().getCode().equals(type))
                .map(a -> a.getWho().getIdentifier().getValue()).toList();
    }

    @Test
    void confirmingStoresThePersonAndServerTimeAndAChangeIsANewVersionWithAReason() {
        String id = created(doctor.post("Condition", condition("高血圧症")));
        String path = "Condition/" + id;
        assertThat(statusTags(doctor.get(path))).as("a new record is a draft").isEmpty();

        assertThat(confirm(doctor, path, 2).status()).as("only the version the person checked").isEqualTo(409);
        Instant before = Instant.now().minusSeconds(1);
        Response ok = confirm(doctor, path, 1);
        assertThat(ok.status()).as(ok.body()).isEqualTo(200);
        Parameters answer = ok.as(Parameters.class);
        assertThat(((org.hl7.fhir.r4.model.Reference) answer.getParameter("confirmed").getValue()).getReference()).endsWith(path + "/_history/2");

        // the confirmation is version 2: same content, tagged, its row naming the person and the server's time
        assertThat(statusTags(doctor.get(path))).containsExactly("confirmed");
        assertThat(doctor.get(path).as(Condition.class).getCode().getText()).isEqualTo("高血圧症");
        RecordStore.Authored v2 = store.authored(new ResourceKey("Condition", id), 2).orElseThrow();
        assertThat(v2.confirmedBy()).isEqualTo("cdr" + s);
        assertThat(v2.confirmedAt()).isBetween(before, Instant.now().plusSeconds(1));
        assertThat(store.authored(new ResourceKey("Condition", id), 1).orElseThrow().confirmedBy()).isNull();
        Provenance confirmation = provenancesOf(path).get(0);
        assertThat(agents(confirmation, "attester")).containsExactly("cdr" + s);
        assertThat(confirmation.getTargetFirstRep().getReference()).endsWith(path + "/_history/2");
        assertThat(confirmation.getEntityFirstRep().getWhat().getReference()).endsWith(path + "/_history/1");

        // a confirmed version is never edited: a change without a reason is refused and stores nothing
        Condition changed = doctor.get(path).as(Condition.class);
        changed.getCode().setText("本態性高血圧症");
        Response refused = doctor.put(path, FhirHttp.json(changed));
        assertThat(refused.status()).as(refused.body()).isEqualTo(409);
        assertThat(refused.body()).contains("confirmed");
        assertThat(doctor.get(path).as(Condition.class).getMeta().getVersionId()).isEqualTo("2");
        assertThat(doctor.delete(path).status()).as("a delete needs a reason too").isEqualTo(409);

        // with a reason it is a new version (a draft again); the confirmed one stays, and a Provenance says why
        Response amended = doctor.put(path, FhirHttp.json(changed), provenance(reason("診断名の修正")));
        assertThat(amended.status()).as(amended.body()).isEqualTo(200);
        assertThat(statusTags(doctor.get(path))).as("the changed version is not confirmed").isEmpty();
        assertThat(statusTags(doctor.get(path + "/_history/2"))).containsExactly("confirmed");
        assertThat(doctor.get(path + "/_history/2").as(Condition.class).getCode().getText()).isEqualTo("高血圧症");
        Provenance why = provenancesOf(path).stream().filter(p -> p.getTargetFirstRep().getReference()
                .endsWith("/_history/3")).findFirst().orElseThrow();
        assertThat(why.getReasonFirstRep().getText()).isEqualTo("診断名の修正");
        assertThat(agents(why, "author")).containsExactly("cdr" + s);

        // a client cannot claim a confirmation by sending the tag
        String forged = created(doctor.post("Condition", "{\"resourceType\":\"Condition\",\"meta\":{\"tag\":[{\"system\":\""
                + STATUS + "\",\"code\":\"confirmed\"}]},\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/"
                + patient + "\"}}"));
        assertThat(statusTags(doctor.get("Condition/" + forged))).isEmpty();
        Condition edit = doctor.get("Condition/" + forged).as(Condition.class);
        assertThat(doctor.put("Condition/" + forged, FhirHttp.json(edit)).status()).as("a draft changes without a reason")
                .isEqualTo(200);
    }

    @Test
    void onlyRolesWithConfirmRightsAndOnlyPeopleConfirm() {
        String id = created(doctor.post("Condition", condition("糖尿病")));
        String path = "Condition/" + id;
        assertThat(confirm(nurse, path, 1).status()).as("a nurse does not confirm clinical records").isEqualTo(403);
        assertThat(confirm(admin, path, 1).status()).as("a system token does not confirm").isEqualTo(403);
        assertThat(statusTags(doctor.get(path))).isEmpty();
        assertThat(confirm(doctor2, path, 1).status()).as("another physician in the patient's care may").isEqualTo(200);
        assertThat(store.authored(new ResourceKey("Condition", id), 2).orElseThrow().confirmedBy()).isEqualTo("cdq" + s);
        Response again = confirm(doctor, path, 2);
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.as(Parameters.class).getParameter("outcome").getValue().primitiveValue()).isEqualTo("already confirmed");
        assertThat(doctor.get(path).as(Condition.class).getMeta().getVersionId()).as("no new version").isEqualTo("2");
    }

    @Test
    void aProxyEntryNamesTheDoctorStaysUnapprovedAndOnlyThatDoctorApprovesIt() {
        assertThat(assistant.post("Condition", condition("腰痛症")).status())
                .as("an assistant's entry must name the responsible doctor").isEqualTo(400);
        assertThat(assistant.post("Condition", condition("腰痛症"), provenance(onBehalfOf("Practitioner/ns-" + s))).status())
                .as("a nurse may not confirm clinical records, so cannot be responsible").isEqualTo(400);

        String id = created(assistant.post("Condition", condition("腰痛症"), provenance(onBehalfOf("Practitioner/dr-" + s))));
        String path = "Condition/" + id;
        ResourceKey key = new ResourceKey("Condition", id);
        assertThat(statusTags(doctor.get(path))).as("visibly flagged").containsExactly("unapproved");
        RecordStore.Authored v1 = store.authored(key, 1).orElseThrow();
        assertThat(v1.authorId()).isEqualTo("cda" + s);
        assertThat(v1.onBehalfOf()).isEqualTo("cdr" + s);
        Provenance entered = provenancesOf(path).get(0);
        assertThat(agents(entered, "enterer")).containsExactly("cda" + s);
        assertThat(entered.getAgent().stream().filter(a -> a.getType().getCodingFirstRep().getCode().equals("enterer"))
                .findFirst().orElseThrow().getOnBehalfOf().getReference()).isEqualTo("Practitioner/dr-" + s);
        assertThat(agents(entered, "author")).containsExactly("cdr" + s);

        Bundle flagged = admin.get("Condition?_tag=" + STATUS + "%7Cunapproved&subject=Patient/" + patient).as(Bundle.class);
        assertThat(flagged.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart()).contains(id);

        // the responsible doctor's worklist has it; another doctor's does not
        assertThat(worklist(doctor)).contains(id);
        assertThat(worklist(doctor2)).doesNotContain(id);
        assertThat(confirm(doctor2, path, 1).status()).as("only the responsible doctor approves").isEqualTo(403);
        assertThat(statusTags(doctor.get(path))).containsExactly("unapproved");

        Response approved = confirm(doctor, path, 1);
        assertThat(approved.status()).as(approved.body()).isEqualTo(200);
        assertThat(approved.as(Parameters.class).getParameter("outcome").getValue().primitiveValue()).isEqualTo("approved");
        assertThat(statusTags(doctor.get(path))).containsExactly("confirmed");
        assertThat(store.authored(key, 2).orElseThrow().confirmedBy()).isEqualTo("cdr" + s);
        assertThat(worklist(doctor)).doesNotContain(id);
        assertThat(provenancesOf(path)).anySatisfy(p -> assertThat(p.getActivity().getCoding())
                .anySatisfy(c -> assertThat(c.getCode()).isEqualTo("approve")));
    }

    private static List<String> worklist(FhirHttp who) {
        Response r = who.get("$unapproved");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.as(Bundle.class).getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart()).toList();
    }

    @Test
    void aRequestWithABadProvenanceHeaderIsRefusedClearly() {
        Response r = doctor.post("Condition", condition("x"), provenance("{\"resourceType\":\"Patient\"}"));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).contains("X-Provenance");
        Response unknown = assistant.post("Condition", condition("x"), provenance(onBehalfOf("Practitioner/nobody-" + s)));
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.body()).contains("no active account");
    }

    @Test
    void aTransactionOfProxyEntriesIsUnapprovedEntryByEntryWithAProvenanceEach() {
        String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                + "{\"resource\":" + condition("不眠症") + ",\"request\":{\"method\":\"POST\",\"url\":\"Condition\"}},"
                + "{\"resource\":" + condition("便秘症") + ",\"request\":{\"method\":\"POST\",\"url\":\"Condition\"}}]}";
        Response r = assistant.post("", bundle, provenance(onBehalfOf("Practitioner/dr-" + s)));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        List<String> ids = r.as(Bundle.class).getEntry().stream()
                .map(e -> e.getResponse().getLocation().replaceFirst("^.*Condition/([^/]+)/.*$", "$1")).toList();
        assertThat(ids).hasSize(2);
        for (String id : ids) {
            assertThat(statusTags(doctor.get("Condition/" + id))).containsExactly("unapproved");
            assertThat(provenancesOf("Condition/" + id)).singleElement()
                    .satisfies(p -> assertThat(agents(p, "enterer")).containsExactly("cda" + s));
        }
        assertThat(worklist(doctor)).containsAll(ids);
        assertThat(assistant.post("", bundle).status()).as("without the responsible doctor, nothing is stored")
                .isEqualTo(400);
    }
}
