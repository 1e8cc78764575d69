package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Condition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;

import ca.uhn.fhir.context.FhirContext;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditQuery;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.audit.StoredEvent;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.NewAccount;
import jp.kiroku.ledger.Ledgers;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.store.RecordStore;
import jp.kiroku.store.ResourceKey;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.PdfText;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;

/**
 * Printing and disclosure (issue 11, item 2): a chart printout holds the patient's names in kanji and kana on every
 * page, every version with its author (a system client, a person) and the confirmer of a confirmed record, and the
 * record-ledger checkpoint, whose root is the ledger's; a period leaves out what was recorded outside it; one
 * resource prints with all its versions; a disclosure leaves out what the patient has not been told (UNINFORMED) and
 * says how many; each is audited; bad input is a plain error.
 */
@Tag("READ-01")
class PrintCommandsTest extends ServerTest {

    @Autowired
    Accounts accounts;
    @Autowired
    AuditTrail audit;
    @Autowired
    Ledgers ledgers;
    @Autowired
    KirokuProperties props;
    @Autowired
    RecordStore store;
    @Autowired
    org.springframework.jdbc.core.JdbcTemplate jdbc;

    String s;
    String patient;
    @TempDir
    Path dir;

    @BeforeEach
    void chart() throws Exception {
        s = UUID.randomUUID().toString().substring(0, 8);
        patient = "pr-" + s;
        put("Patient/" + patient, "{\"resourceType\":\"Patient\",\"identifier\":[{\"type\":{\"text\":\"診察券番号\"},"
                + "\"value\":\"MRN-" + s + "\"}],\"name\":[" + name("IDE", "髙橋", "𠮷子") + "," + name("SYL", "タカハシ", "ヨシコ")
                + "],\"gender\":\"female\",\"birthDate\":\"1948-02-29\"}");
        put("Condition/cv-" + s, condition("初診時の病名" + s, null));
        put("Condition/cv-" + s, condition("再診時の病名" + s, null));
        put("Condition/cv-" + s, condition("改訂後の病名" + s, null));
    }

    private static String name(String representation, String family, String given) {
        return "{\"extension\":[{\"url\":\"http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation\","
                + "\"valueCode\":\"" + representation + "\"}],\"family\":\"" + family + "\",\"given\":[\"" + given + "\"]}";
    }

    private String condition(String text, String security) {
        return "{\"resourceType\":\"Condition\"," + (security == null ? "" : "\"meta\":{\"security\":[{\"system\":"
                + "\"http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication\",\"code\":\"" + security + "\"}]},")
                + "\"code\":{\"text\":\"" + text + "\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}";
    }

    private void put(String path, String json) {
        var r = admin.put(path, "{\"id\":\"" + path.substring(path.indexOf('/') + 1) + "\"," + json.substring(1));
        assertThat(r.status()).as(path + ": " + r.body()).isIn(200, 201);
    }

    private CliRun print(String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("print"));
        all.addAll(List.of(args));
        return CliRun.kiroku(DATA_DIR, all.toArray(String[]::new));
    }

    /** A physician with a care relationship to the patient writes a Condition and confirms it (version 2). */
    private String confirmedByADoctor() {
        String practitioner = "Practitioner/prd-" + s;
        put(practitioner, "{\"resourceType\":\"Practitioner\"}");
        assertThat(admin.post("Encounter", "{\"resourceType\":\"Encounter\",\"status\":\"in-progress\",\"class\":{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"IMP\"},\"subject\":{\"reference\":\"Patient/"
                + patient + "\"},\"participant\":[{\"individual\":{\"reference\":\"" + practitioner + "\"}}]}").status())
                .isEqualTo(201);
        var app = clients.createApp("print test " + s, List.of(anonymous.root() + "/callback"), List.of("openid", "user/*.cruds"),
                true, Agent.localOperator());
        String username = "prd" + s;
        var issued = accounts.create(new NewAccount(username, "staff", List.of("physician"), "医師 " + username, "イシ アアア",
                null, LocalDate.of(1980, 1, 2), "physician", null, null, practitioner), Agent.localOperator());
        FhirHttp doctor = anonymous.withToken(PersonLogin.appToken(anonymous.root(), app.clientId(), "openid user/*.cruds",
                username, issued.oneTimePassword()));
        var created = doctor.post("Condition", condition("医師が確定した病名" + s, null));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String location = created.header("Location");
        String id = location.substring(location.indexOf("/Condition/") + 11).split("/")[0];
        var confirmed = doctor.post("Condition/" + id + "/$confirm", "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":"
                + "\"version\",\"valueInteger\":1}]}");
        assertThat(confirmed.status()).as(confirmed.body()).isEqualTo(200);
        return username;
    }

    @Test
    void theChartHoldsEveryVersionItsAuthorsAndTheLedgerCheckpointOnEveryPage() throws Exception {
        String doctor = confirmedByADoctor();
        put("Condition/un-" + s, condition("未告知の病名" + s, "UNINFORMED"));
        Path pdf = dir.resolve("chart.pdf");
        CliRun run = print("--patient", patient, "--out", pdf.toString());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("Printed ").contains("Wrote the printout to " + pdf);

        byte[] bytes = Files.readAllBytes(pdf);
        List<String> pages = PdfText.pages(bytes);
        String text = PdfText.of(bytes);
        assertThat(text).contains("髙橋𠮷子", "タカハシヨシコ", "1948-02-29", "診察券番号:MRN-" + s)
                .contains("Condition/cv-" + s + "第1版", "Condition/cv-" + s + "第2版", "Condition/cv-" + s + "第3版")
                .contains("初診時の病名" + s, "再診時の病名" + s, "改訂後の病名" + s, "医師が確定した病名" + s)
                .contains(ADMIN_ID + "(システム)", doctor + "(利用者)")
                .contains("確定者(confirmedby)" + doctor + (LocalDate.now(props.getTimeZone()).toString()))
                .contains("Condition/un-" + s + "第1版【未告知:患者本人へ説明しないこと】")
                .doesNotContain("Condition/cv-" + s + "第1版【未告知");

        long seq = store.sequenceOf(new ResourceKey("Condition", "cv-" + s), 1).orElseThrow();
        Long leaf = jdbc.queryForObject("SELECT idx FROM ledger_entry WHERE log = 1 AND source_seq = ?", Long.class, seq);
        assertThat(text).as("each version's leaf in the record ledger").contains("台帳(ledger)#" + leaf + "記録者(author)"
                + ADMIN_ID + "(システム)");

        Matcher m = Pattern.compile("kiroku/recordsize(\\d+)root([A-Za-z0-9+/=]+)署名").matcher(text);
        assertThat(m.find()).as("the checkpoint in the footer").isTrue();
        long size = Long.parseLong(m.group(1));
        assertThat(Base64.getEncoder().encodeToString(ledgers.rootAt(1, size).orElseThrow()))
                .as("the printed root is the record ledger's at that size").isEqualTo(m.group(2));
        assertThat(pages).hasSizeGreaterThan(1);
        for (int n = 0; n < pages.size(); n++) {
            assertThat(pages.get(n).replaceAll("\\s+", "")).as("page " + (n + 1))
                    .contains("髙橋𠮷子", "タカハシヨシコ", "ID" + patient, "MRN-" + s, "1948-02-29", "size" + size,
                            (n + 1) + "/" + pages.size());
        }

        StoredEvent printed = audit.find(new AuditQuery(patient, null, null, null, List.of("print"), "success", null, 1)).get(0);
        assertThat(printed.patients()).containsExactly(patient);
        assertThat(printed.entities()).contains("Patient/" + patient + "/_history/1", "Condition/cv-" + s + "/_history/1",
                "Condition/cv-" + s + "/_history/2", "Condition/cv-" + s + "/_history/3");
        assertThat(printed.detail()).startsWith("chart versions=");
    }

    @Test
    @Tag("READ-02")
    void aPeriodLeavesOutWhatWasRecordedOutsideIt() throws Exception {
        LocalDate today = LocalDate.now(props.getTimeZone());
        Path before = dir.resolve("before.pdf");
        CliRun old = print("--patient", patient, "--from", "2020-01-01", "--to", today.minusDays(1).toString(),
                "--out", before.toString());
        assertThat(old.code()).as(old.err()).isZero();
        assertThat(old.out()).contains("Printed 0 version(s)");
        String oldText = PdfText.of(Files.readAllBytes(before));
        assertThat(oldText).contains("髙橋𠮷子", "該当する記録はありません").doesNotContain("初診時の病名" + s, "改訂後の病名" + s);

        Path todayPdf = dir.resolve("today.pdf");
        CliRun now = print("--patient", patient, "--from", today.toString(), "--to", today.toString(), "--out", todayPdf.toString());
        assertThat(now.code()).as(now.err()).isZero();
        assertThat(PdfText.of(Files.readAllBytes(todayPdf))).contains("初診時の病名" + s, "改訂後の病名" + s,
                "記録日時(recorded)" + today + "〜" + today);
        assertThat(audit.find(new AuditQuery(patient, null, null, null, List.of("print"), "success", null, 1)).get(0).detail())
                .isEqualTo("chart period versions=4");

        // the same bounds to the millisecond, as the printout's gathering applies them: from the second version on
        Instant second = store.versions(new ResourceKey("Condition", "cv-" + s)).get(1).version().lastUpdated();
        assertThat(store.patientVersions(patient, second, null, false)).extracting(v -> v.version().type() + "/"
                + v.version().versionId()).containsExactly("Condition/2", "Condition/3");
        assertThat(store.patientVersions(patient, null, second, false)).extracting(v -> v.version().type() + "/"
                + v.version().versionId()).containsExactly("Condition/1", "Patient/1");
    }

    @Test
    void oneResourceWithAllItsVersionsOrItsCurrentOne() throws Exception {
        Path all = dir.resolve("all.pdf");
        CliRun run = print("--resource", "Condition/cv-" + s, "--all-versions", "--out", all.toString());
        assertThat(run.code()).as(run.err()).isZero();
        String text = PdfText.of(Files.readAllBytes(all));
        assertThat(text).contains("第1版", "第2版", "第3版", "初診時の病名" + s, "再診時の病名" + s, "改訂後の病名" + s,
                "髙橋𠮷子", "ID" + patient);

        Path current = dir.resolve("current.pdf");
        assertThat(print("--resource", "Condition/cv-" + s, "--out", current.toString()).code()).isZero();
        assertThat(PdfText.of(Files.readAllBytes(current))).contains("Condition/cv-" + s + "第3版", "改訂後の病名" + s)
                .doesNotContain("第1版", "初診時の病名" + s);
        StoredEvent printed = audit.find(new AuditQuery(patient, null, null, null, List.of("print"), "success", null, 2)).get(1);
        assertThat(printed.entities()).containsExactly("Condition/cv-" + s + "/_history/1", "Condition/cv-" + s + "/_history/2",
                "Condition/cv-" + s + "/_history/3");
    }

    @Test
    void aDisclosureLeavesOutWhatThePatientHasNotBeenTold() throws Exception {
        put("Condition/un-" + s, condition("未告知の病名" + s, "UNINFORMED"));
        put("AllergyIntolerance/al-" + s, "{\"resourceType\":\"AllergyIntolerance\",\"code\":{\"text\":\"そば" + s + "\"},"
                + "\"patient\":{\"reference\":\"Patient/" + patient + "\"}}");
        CliRun run = CliRun.kiroku(DATA_DIR, "disclosure", "--patient", patient, "--out", dir.toString());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("3 record(s) disclosed, 1 withheld");

        String text = PdfText.of(Files.readAllBytes(dir.resolve("disclosure-" + patient + ".pdf")));
        assertThat(text).contains("診療情報開示", "髙橋𠮷子", "改訂後の病名" + s, "そば" + s, "1件の記録の開示を保留")
                .doesNotContain("未告知の病名" + s, "un-" + s, "初診時の病名" + s);
        Bundle bundle = FhirContext.forR4Cached().newJsonParser().parseResource(Bundle.class,
                Files.readString(dir.resolve("disclosure-" + patient + ".json")));
        assertThat(bundle.getType()).isEqualTo(Bundle.BundleType.COLLECTION);
        assertThat(bundle.getEntry()).extracting(e -> e.getResource().getIdElement().toUnqualifiedVersionless().getValue())
                .containsExactlyInAnyOrder("Patient/" + patient, "Condition/cv-" + s, "AllergyIntolerance/al-" + s);
        assertThat(bundle.getEntry().stream().map(e -> e.getResource()).filter(r -> r instanceof Condition)
                .map(r -> ((Condition) r).getCode().getText())).containsExactly("改訂後の病名" + s);

        StoredEvent exported = audit.find(new AuditQuery(patient, null, null, null, List.of("export"), "success", null, 1)).get(0);
        assertThat(exported.detail()).isEqualTo("disclosure records=3 withheld=1");
        assertThat(exported.entities()).contains("Condition/cv-" + s + "/_history/3")
                .noneMatch(e -> e.startsWith("Condition/un-" + s));
    }

    @Test
    void badInputIsAPlainError() {
        CliRun nobody = print("--patient", "nobody-" + s, "--out", dir.resolve("x.pdf").toString());
        assertThat(nobody.code()).isEqualTo(1);
        assertThat(nobody.err()).isEqualTo("kiroku: no patient nobody-" + s + System.lineSeparator());
        assertThat(CliRun.kiroku(DATA_DIR, "disclosure", "--patient", "nobody-" + s, "--out", dir.toString()).err())
                .contains("no patient nobody-" + s).doesNotContain("Exception");

        CliRun badDate = print("--patient", patient, "--from", "2026-13-45", "--out", dir.resolve("x.pdf").toString());
        assertThat(badDate.code()).isNotZero();
        assertThat(badDate.err()).contains("not a date (yyyy-mm-dd): 2026-13-45").doesNotContain("Exception");
        CliRun reversed = print("--patient", patient, "--from", "2026-12-07", "--to", "2026-12-01", "--out",
                dir.resolve("x.pdf").toString());
        assertThat(reversed.code()).isEqualTo(1);
        assertThat(reversed.err()).contains("the period ends (2026-12-01) before it starts (2026-12-07)");
        assertThat(print("--resource", "Condition/none-" + s, "--out", dir.resolve("x.pdf").toString()).err())
                .isEqualTo("kiroku: no resource Condition/none-" + s + System.lineSeparator());
        assertThat(print("--resource", "nonsense", "--out", dir.resolve("x.pdf").toString()).err())
                .contains("TYPE/ID expected").doesNotContain("Exception");
        assertThat(print("--patient", patient, "--resource", "Condition/cv-" + s, "--out", dir.resolve("x.pdf").toString())
                .err()).contains("either --patient ID or --resource TYPE/ID");
        assertThat(dir.resolve("x.pdf")).doesNotExist();
    }
}
