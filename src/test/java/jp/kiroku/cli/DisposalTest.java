package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.crypto.DataKeys;
import jp.kiroku.crypto.Envelope;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.NewAccount;
import jp.kiroku.ledger.Ledgers;
import jp.kiroku.retention.Disposals;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;

/**
 * Disposal of one patient (issue 7, item 5): only past retention and not on hold; requested by one person and approved
 * by another, re-authenticated administrator; afterwards the patient is gone from reads, search, history and
 * $everything, every stored ciphertext of theirs fails to open with every key Kiroku holds, the ledgers still verify
 * (the removed versions counted as disposed, tied to the access ledger), other patients are intact, and a certificate
 * says what was done. A patient still referred to by another patient's record is not disposed of (DISP-04).
 */
@Tag("DISP-01")
@Tag("DISP-02")
@Tag("DISP-03")
class DisposalTest extends ServerTest {

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    Accounts accounts;
    @Autowired
    Ledgers ledgers;
    @Autowired
    Disposals disposals;
    @Autowired
    DataKeys keys;
    @Autowired
    PlatformTransactionManager transactions;

    @Test
    void onePatientIsDisposedOfByTwoPeopleAndNothingOfTheirsOpensAfterwards(@TempDir Path tmp) throws Exception {
        String s = UUID.randomUUID().toString().substring(0, 6);
        String gone = patientWithRecords("disp-a-" + s);
        String kept = patientWithRecords("disp-b-" + s);
        String observation = jdbc.queryForObject("SELECT res_id FROM resource_current WHERE res_type = 'Observation' AND"
                + " patient_key = ?", String.class, gone);
        byte[] sealedCopy = jdbc.queryForObject("SELECT body FROM resource_version WHERE res_type = 'Observation' AND res_id = ?"
                + " AND version_id = 1", byte[].class, observation); // what a backup taken now would hold

        // not before retention ends; not on hold
        CliRun early = CliRun.kiroku(DATA_DIR, "dispose", "request", "--patient", gone, "--reason", "保存期間満了");
        assertThat(early.code()).isEqualTo(1);
        assertThat(early.err()).contains("not past retention");
        backdate(gone);
        assertThat(CliRun.kiroku(DATA_DIR, "retention", "hold", gone, "--reason", "令和8年(ワ)第7号").code()).isZero();
        CliRun held = CliRun.kiroku(DATA_DIR, "dispose", "request", "--patient", gone, "--reason", "保存期間満了");
        assertThat(held.err()).contains("legal hold");
        assertThat(CliRun.kiroku(DATA_DIR, "retention", "release", gone).code()).isZero();

        var app = clients.createApp("disposal test " + s, List.of(anonymous.root() + "/callback"), List.of("openid", "user/*.cruds"),
                true, Agent.localOperator());
        PersonLogin.AppLogin first = login(app.clientId(), "da" + s, "admin", "ア");
        PersonLogin.AppLogin second = login(app.clientId(), "db" + s, "admin", "イ");
        PersonLogin.AppLogin doctor = login(app.clientId(), "dc" + s, "physician", "ウ");
        FhirHttp firstAdmin = anonymous.withToken(first.accessToken());
        FhirHttp secondAdmin = anonymous.withToken(second.accessToken());

        assertThat(post(anonymous.withToken(doctor.accessToken()), "/admin/disposals", "{\"patient\":\"" + gone
                + "\",\"reason\":\"x\"}").status()).as("administrators only").isEqualTo(403);
        Response asked = post(firstAdmin, "/admin/disposals", "{\"patient\":\"Patient/" + gone + "\",\"reason\":\"保存期間満了\"}");
        assertThat(asked.status()).as(asked.body()).isEqualTo(200);
        String id = asked.body().replaceAll("(?s).*\"id\":\"([0-9a-f-]{36})\".*", "$1");
        assertThat(post(secondAdmin, "/admin/disposals/" + id + "/decision", "{\"decision\":\"approve\"}").status())
                .as("re-authentication").isEqualTo(403);
        Response own = post(firstAdmin, "/admin/disposals/" + id + "/decision", decision("approve", first.nextCode()));
        assertThat(own.status()).as("the requester cannot approve").isEqualTo(409);
        assertThat(own.body()).contains("second person");
        assertThat(admin.get("Observation/" + observation).status()).as("nothing disposed yet").isEqualTo(200);

        Response approved = post(secondAdmin, "/admin/disposals/" + id + "/decision", decision("approve", second.nextCode()));
        assertThat(approved.status()).as(approved.body()).isEqualTo(200);
        assertThat(approved.body()).contains("\"state\":\"executed\"");

        // gone from reads, search, history and $everything; the other patient intact
        assertThat(admin.get("Patient/" + gone).status()).isEqualTo(410);
        assertThat(admin.get("Observation/" + observation).status()).isEqualTo(410);
        assertThat(admin.get("Observation/" + observation + "/_history/1").status()).isIn(404, 410);
        assertThat(admin.get("Observation?subject=Patient/" + gone).body()).doesNotContain(observation);
        assertThat(admin.get("Patient?_id=" + gone).body()).doesNotContain("\"id\":\"" + gone + "\"");
        assertThat(admin.get("Patient/" + gone + "/$everything").status()).isIn(404, 410);
        assertThat(admin.get("Observation/" + observation + "/_history").body()).doesNotContain("disposal-marker");
        assertThat(admin.get("Patient/" + kept).status()).isEqualTo(200);
        assertThat(admin.get("Observation?subject=Patient/" + kept).body()).contains("disposal-marker");

        // crypto-shredded: the copy taken before opens with no key Kiroku holds, and the patient's key is no more
        assertThatThrownBy(() -> keys.keyFor(DataKeys.patient(gone))).hasMessageContaining("destroyed");
        for (String owner : jdbc.queryForList("SELECT owner FROM data_key WHERE wrapped IS NOT NULL", String.class)) {
            assertThatThrownBy(() -> Envelope.open(keys.keyFor(owner), sealedCopy, "Observation/" + observation + "/_history/1"))
                    .as(owner).isInstanceOf(IllegalStateException.class);
        }
        assertThat(jdbc.queryForObject("SELECT count(*) FROM resource_version WHERE patient_key = ? AND body IS NOT NULL",
                Integer.class, gone)).isZero();

        // the ledgers verify: the removed versions are disposed, not deleted, and the register matches the access log
        Ledgers.Verification v = ledgers.verify(List.of(), n -> { });
        assertThat(v.logs()).allSatisfy(l -> assertThat(l.findings()).as(l.origin()).isEmpty());
        assertThat(v.logs().get(0).disposed()).isGreaterThanOrEqualTo(4);
        assertThat(disposals.registerProblems()).isEmpty();
        // a row listed in the register by someone else than a ledgered disposal shows (checked, then rolled back)
        new TransactionTemplate(transactions).executeWithoutResult(t -> {
            long other = jdbc.queryForObject("SELECT min(seq) FROM resource_version WHERE patient_key = ?", Long.class, kept);
            jdbc.update("INSERT INTO disposed_version (seq, disposal_id, patient_key) VALUES (?, ?::uuid, ?)", other, id, kept);
            assertThat(disposals.registerProblems()).singleElement().asString().contains(id);
            t.setRollbackOnly();
        });

        // the certificate
        Response certificate = secondAdmin.get(secondAdmin.root() + "/admin/disposals/" + id + "/certificate");
        assertThat(certificate.status()).isEqualTo(200);
        assertThat(certificate.body()).contains("\"passed\" : true").contains("\"owner\" : \"patient:" + gone + "\"")
                .contains("\"approvedBy\" : \"user:db" + s + "\"").contains("\"requestedBy\" : \"user:da" + s + "\"");
        Matcher at = Pattern.compile("\"executedAt\" : \"([^\"]+)\"").matcher(certificate.body());
        assertThat(at.find()).isTrue();
        assertThat(certificate.body()).contains("\"noCopyOfTheKeysAfter\" : \""
                + Instant.parse(at.group(1)).plus(30, ChronoUnit.DAYS) + "\"");
        Path file = Files.createTempFile(tmp, "disposal-", ".json");
        CliRun written = CliRun.kiroku(DATA_DIR, "dispose", "certificate", id, "--out", file.toString());
        assertThat(written.code()).as(written.err()).isZero();
        assertThat(Files.readString(file)).isEqualTo(certificate.body());
        assertThat(CliRun.kiroku(DATA_DIR, "dispose", "list").out()).contains(id + "  Patient/" + gone + "  EXECUTED");
        // and as PDF: the same content, the Japanese font embedded
        Response pdf = secondAdmin.get(secondAdmin.root() + "/admin/disposals/" + id + "/certificate.pdf");
        assertThat(pdf.status()).isEqualTo(200);
        assertThat(pdf.headers().firstValue("Content-Type").orElse("")).startsWith("application/pdf");
        assertThat(pdf.body()).startsWith("%PDF");
        Path pdfFile = Files.createTempFile(tmp, "disposal-", ".pdf");
        assertThat(CliRun.kiroku(DATA_DIR, "dispose", "certificate", id, "--pdf", pdfFile.toString()).code()).isZero();
        try (var doc = org.apache.pdfbox.Loader.loadPDF(Files.readAllBytes(pdfFile))) {
            String text = new org.apache.pdfbox.text.PDFTextStripper().getText(doc);
            assertThat(text).contains("廃棄証明書").contains("Patient/" + gone).contains("保存期間満了").contains("user:db" + s);
            assertThat(doc.getPage(0).getResources().getFontNames()).extracting(n -> doc.getPage(0).getResources().getFont(n)
                    .getName()).anySatisfy(f -> assertThat(f).contains("NotoSansJP"));
        }
        CliRun verify = CliRun.kiroku(DATA_DIR, "verify");
        assertThat(verify.code()).as(verify.out()).isZero();
        assertThat(verify.out()).contains("disposed (register checked)");
    }

    @Test
    @Tag("DISP-04")
    void aPatientAnotherPatientsRecordStillRefersToIsNotDisposedOf() {
        String s = UUID.randomUUID().toString().substring(0, 6);
        String referred = patientWithRecords("disp-r-" + s);
        String other = patientWithRecords("disp-o-" + s);
        assertThat(admin.post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"Patient/" + other + "\"},\"focus\":[{\"reference\":\"Patient/" + referred
                + "\"}]}").status()).isEqualTo(201);
        backdate(referred);
        var d = disposals.request(referred, "保存期間満了", Agent.localOperator());
        var done = disposals.approve(d.id(), PersonLogin.administrator(accounts, "dr" + s));
        assertThat(done.state()).isEqualTo("executed");
        assertThat(done.patients()).singleElement().satisfies(p -> assertThat(p.skipped()).contains("still referred to")
                .contains("Observation/"));
        assertThat(admin.get("Patient/" + referred).status()).as("nothing disposed").isEqualTo(200);
        assertThat(keys.keyFor(DataKeys.patient(referred))).hasSize(32);
        assertThat(done.certificate()).contains("\"notDisposed\"").contains("Patient/" + referred).contains("\"disposed\" : [ ]");
    }

    @Test
    void everyPatientPastRetentionIsDisposedOfInOneJob() {
        String s = UUID.randomUUID().toString().substring(0, 6);
        String first = patientWithRecords("disp-p1-" + s);
        String second = patientWithRecords("disp-p2-" + s);
        String recent = patientWithRecords("disp-p3-" + s);
        backdate(first);
        backdate(second);
        var job = disposals.requestPastRetention("保存期間満了 一括", Agent.localOperator());
        assertThat(job.scope()).isEqualTo("past-retention");
        assertThat(job.patients()).extracting(Disposals.Patient::patientKey).contains(first, second).doesNotContain(recent);
        assertThat(CliRun.kiroku(DATA_DIR, "dispose", "request", "--patient", first, "--reason", "x").err())
                .as("a patient is in one job at a time").contains("already waiting");
        var done = disposals.approve(job.id(), PersonLogin.administrator(accounts, "dj" + s));
        assertThat(done.state()).isEqualTo("executed");
        assertThat(done.patients()).filteredOn(p -> List.of(first, second).contains(p.patientKey()))
                .allSatisfy(p -> assertThat(p.skipped()).isNull()).allSatisfy(p -> assertThat(p.versions()).isEqualTo(4));
        assertThat(admin.get("Patient/" + first).status()).isEqualTo(410);
        assertThat(admin.get("Patient/" + second).status()).isEqualTo(410);
        assertThat(admin.get("Patient/" + recent).status()).isEqualTo(200);
        assertThat(done.certificate()).contains("Patient/" + first).contains("Patient/" + second).doesNotContain(recent)
                .contains("\"passed\" : true");
        assertThat(CliRun.kiroku(DATA_DIR, "dispose", "resume", job.id().toString()).err()).contains("is executed");
        assertThat(disposals.registerProblems()).isEmpty();
    }

    @Test
    void aFacilitysRecordsPastRetentionGoAndThePatientsRecordsElsewhereStay() {
        String s = UUID.randomUUID().toString().substring(0, 6);
        String clinic = "clinic-" + s;
        String onlyThere = patientWithRecords("disp-f1-" + s);
        String alsoElsewhere = patientWithRecords("disp-f2-" + s);
        String recentThere = patientWithRecords("disp-f3-" + s);
        String observation = jdbc.queryForObject("SELECT res_id FROM resource_current WHERE res_type = 'Observation' AND"
                + " patient_key = ?", String.class, alsoElsewhere);
        // made at the clinic that closes: every record of the first and third patients, the second one's Observation
        // (their Patient record and Condition are the hospital's, and refer to nothing at the clinic)
        jdbc.update("UPDATE resource_current SET facility_id = ? WHERE patient_key IN (?, ?) OR (res_type = 'Observation'"
                + " AND res_id = ?)", clinic, onlyThere, recentThere, observation);
        backdate(onlyThere);
        backdate(alsoElsewhere);

        CliRun asked = CliRun.kiroku(DATA_DIR, "dispose", "request", "--facility", clinic, "--reason", "閉院に伴う廃棄");
        assertThat(asked.code()).as(asked.err()).isZero();
        assertThat(asked.out()).contains("2 patients' records past retention at " + clinic);
        UUID id = UUID.fromString(asked.out().replaceAll("(?s).*disposal ([0-9a-f-]{36}).*", "$1"));
        var done = disposals.approve(id, PersonLogin.administrator(accounts, "df" + s));
        assertThat(done.patients()).extracting(Disposals.Patient::patientKey).containsExactlyInAnyOrder(onlyThere, alsoElsewhere);
        assertThat(done.patients()).allSatisfy(p -> assertThat(p.skipped()).isNull());

        assertThat(admin.get("Patient/" + onlyThere).status()).isEqualTo(410);
        assertThatThrownBy(() -> keys.keyFor(DataKeys.patient(onlyThere))).as("nothing of theirs left: key destroyed")
                .hasMessageContaining("destroyed");
        assertThat(admin.get("Observation/" + observation).status()).as("the clinic's record goes").isEqualTo(410);
        assertThat(admin.get("Patient/" + alsoElsewhere).status()).as("the hospital's records stay").isEqualTo(200);
        assertThat(admin.get("Condition?subject=Patient/" + alsoElsewhere).body()).contains("\"Condition\"");
        assertThat(keys.keyFor(DataKeys.patient(alsoElsewhere))).as("kept for the record elsewhere").hasSize(32);
        assertThat(admin.get("Patient/" + recentThere).status()).as("not past retention: not in the job").isEqualTo(200);
        assertThat(done.certificate()).contains("\"facility\" : \"" + clinic + "\"").contains("\"keyKept\"")
                .contains("\"passed\" : true");
        assertThat(disposals.registerProblems()).isEmpty();
    }

    private String patientWithRecords(String id) {
        assertThat(admin.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"廃棄"
                + id + "\"}]}").status()).isEqualTo(201);
        String obs = admin.post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"preliminary\",\"code\":{\"text\":"
                + "\"disposal-marker\"},\"subject\":{\"reference\":\"Patient/" + id + "\"}}").as(org.hl7.fhir.r4.model.Observation.class)
                .getIdElement().getIdPart();
        assertThat(admin.put("Observation/" + obs, "{\"resourceType\":\"Observation\",\"id\":\"" + obs + "\",\"status\":\"final\","
                + "\"code\":{\"text\":\"disposal-marker\"},\"subject\":{\"reference\":\"Patient/" + id + "\"}}").status()).isEqualTo(200);
        assertThat(admin.post("Condition", "{\"resourceType\":\"Condition\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":"
                + "\"Patient/" + id + "\"}}").status()).isEqualTo(201);
        return id;
    }

    /** Ten years older: past every category's retention (the current pointers are what retention counts from). */
    private void backdate(String patient) {
        jdbc.update("UPDATE resource_current SET last_updated = last_updated - interval '10 years' WHERE patient_key = ?", patient);
    }

    private PersonLogin.AppLogin login(String clientId, String username, String role, String kana) {
        var issued = accounts.create(new NewAccount(username, "staff", List.of(role), "試験 " + username, "シケン " + kana + PersonLogin.katakana(username),
                null, LocalDate.of(1983, 4, 5), "admin".equals(role) ? "system-administrator" : role, null, null, null),
                Agent.localOperator());
        return PersonLogin.appLogin(anonymous.root(), clientId, "openid user/*.cruds", username, issued.oneTimePassword());
    }

    private static Response post(FhirHttp who, String path, String json) {
        return who.send("POST", who.root() + path, "application/json", json);
    }

    private static String decision(String decision, String otp) {
        return "{\"decision\":\"" + decision + "\",\"otp\":\"" + otp + "\"}";
    }
}
