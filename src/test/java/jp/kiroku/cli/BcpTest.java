package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;

import jp.kiroku.audit.AuditQuery;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.audit.StoredEvent;
import jp.kiroku.support.PdfText;
import jp.kiroku.support.ServerTest;

/**
 * Business continuity when the system is attacked (issue 10, item 5; BCP-02): emergency summaries of a ward's current
 * inpatients hold each one's allergies, active medications, active problems and recent results — and nobody from
 * another ward, nobody discharged, nothing stopped or resolved; the downtime export is unreadable without its
 * passphrase, opens in a separate process with no database, and the viewer's hash-chained audit file is verified and
 * imported into the access log (once), a tampered one refused.
 */
@Tag("BCP-02")
class BcpTest extends ServerTest {

    @Autowired
    AuditTrail audit;

    /** Per test: two wards (the first with a room in it), an inpatient in each, and a discharged patient. */
    String s;
    String wardA;
    String wardB;
    String inA;
    String inB;
    String discharged;

    @BeforeEach
    void wardsAndPatients() {
        s = UUID.randomUUID().toString().substring(0, 8);
        wardA = "wa-" + s;
        wardB = "wb-" + s;
        inA = "pa-" + s;
        inB = "pb-" + s;
        discharged = "pc-" + s;
        put("Location/" + wardA, "{\"resourceType\":\"Location\",\"name\":\"3階東病棟" + s + "\",\"physicalType\":{\"coding\":"
                + "[{\"system\":\"http://terminology.hl7.org/CodeSystem/location-physical-type\",\"code\":\"wa\"}]}}");
        put("Location/r1-" + s, "{\"resourceType\":\"Location\",\"name\":\"301号室\",\"partOf\":{\"reference\":\"Location/"
                + wardA + "\"}}");
        put("Location/" + wardB, "{\"resourceType\":\"Location\",\"name\":\"5階南病棟" + s + "\"}");
        patient(inA, "山田", "太郎", "ヤマダ", "タロウ");
        patient(inB, "鈴木", "花子", "スズキ", "ハナコ");
        patient(discharged, "佐藤", "次郎", "サトウ", "ジロウ");
        encounter("ea-" + s, inA, "r1-" + s, "in-progress");
        encounter("eb-" + s, inB, wardB, "in-progress");
        encounter("ec-" + s, discharged, wardA, "finished");

        put("AllergyIntolerance/al-" + s, "{\"resourceType\":\"AllergyIntolerance\",\"clinicalStatus\":{\"coding\":[{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical\",\"code\":\"active\"}]},\"criticality\":\"high\","
                + "\"code\":{\"text\":\"ペニシリン系抗菌薬\"},\"patient\":{\"reference\":\"Patient/" + inA + "\"},"
                + "\"recordedDate\":\"2026-11-02\",\"recorder\":{\"display\":\"医師 田中一郎\"},"
                + "\"reaction\":[{\"manifestation\":[{\"text\":\"全身じんましん\"}]}]}");
        put("MedicationRequest/mr-" + s, medication(inA, "active", "アムロジピン錠5mg", "1日1回 朝食後"));
        put("MedicationRequest/ms-" + s, medication(inA, "stopped", "中止済みワルファリン", "1日1回"));
        put("Condition/co-" + s, condition(inA, "active", "本態性高血圧症"));
        put("Condition/cr-" + s, condition(inA, "resolved", "治癒済み肺炎"));
        put("Observation/ob-" + s, "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"血清カリウム\"},"
                + "\"subject\":{\"reference\":\"Patient/" + inA + "\"},\"effectiveDateTime\":\"2026-12-06T08:00:00+09:00\","
                + "\"valueQuantity\":{\"value\":5.8,\"unit\":\"mmol/L\"},\"interpretation\":[{\"text\":\"高値\"}]}");
        put("AllergyIntolerance/bl-" + s, "{\"resourceType\":\"AllergyIntolerance\",\"code\":{\"text\":\"そば\"},"
                + "\"patient\":{\"reference\":\"Patient/" + inB + "\"}}");
        put("Condition/dc-" + s, condition(discharged, "active", "退院患者の糖尿病"));
    }

    @Test
    void wardSummaryHoldsTheWardsInpatientsWithWhatMatters(@TempDir Path tmp) throws Exception {
        Path pdf = Files.createTempFile(tmp, "ward-", ".pdf");
        CliRun run = CliRun.kiroku(DATA_DIR, "bcp", "ward", "--ward", wardA, "--out", pdf.toString());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(Files.getPosixFilePermissions(pdf)).as("patient data: owner-only")
                .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));

        List<String> pages = PdfText.pages(Files.readAllBytes(pdf));
        String text = String.join("\n", pages);
        assertThat(text).contains("山田 太郎").contains("ヤマダ タロウ").contains("1950-04-01").contains("301号室")
                .contains("ペニシリン系抗菌薬").contains("全身じんましん").contains("医師 田中一郎")
                .contains("アムロジピン錠5mg").contains("1日1回 朝食後")
                .contains("本態性高血圧症")
                .contains("血清カリウム").contains("5.8 mmol/L").contains("高値");
        assertThat(text).as("another ward's patient, a discharged one, stopped and resolved items")
                .doesNotContain("鈴木").doesNotContain("そば").doesNotContain("佐藤").doesNotContain("退院患者の糖尿病")
                .doesNotContain("中止済みワルファリン").doesNotContain("治癒済み肺炎");
        for (String page : pages) {
            assertThat(page).contains("緊急時サマリー").contains("3階東病棟" + s).contains("ID " + inA);
        }

        StoredEvent printed = audit.find(new AuditQuery(inA, null, null, null, List.of("print"), "success", null, 1)).get(0);
        assertThat(printed.detail()).isEqualTo("emergency-summary ward=Location/" + wardA + " patients=1");
        assertThat(printed.patients()).containsExactly(inA);
        assertThat(printed.entities()).contains("Patient/" + inA + "/_history/1", "AllergyIntolerance/al-" + s + "/_history/1",
                "MedicationRequest/mr-" + s + "/_history/1", "Condition/co-" + s + "/_history/1", "Observation/ob-" + s + "/_history/1")
                .doesNotContain("MedicationRequest/ms-" + s + "/_history/1");
    }

    @Test
    void patientSummaryAndPlainErrors(@TempDir Path tmp) throws Exception {
        Path pdf = Files.createTempFile(tmp, "patient-", ".pdf");
        CliRun run = CliRun.kiroku(DATA_DIR, "bcp", "summary", "--patient", inB, "--out", pdf.toString());
        assertThat(run.code()).as(run.err()).isZero();
        String text = PdfText.all(Files.readAllBytes(pdf));
        assertThat(text).contains("鈴木 花子").contains("そば").contains("5階南病棟" + s).doesNotContain("山田");
        assertThat(text).as("no medications recorded: said so").contains("記録なし");

        CliRun unknown = CliRun.kiroku(DATA_DIR, "bcp", "summary", "--patient", "nobody-" + s);
        assertThat(unknown.code()).isEqualTo(1);
        assertThat(unknown.err()).isEqualTo("kiroku: no patient nobody-" + s + System.lineSeparator());
        CliRun noWard = CliRun.kiroku(DATA_DIR, "bcp", "ward", "--ward", "nowhere-" + s);
        assertThat(noWard.code()).isEqualTo(1);
        assertThat(noWard.err()).contains("no ward (Location) nowhere-" + s).doesNotContain("Exception");
    }

    @Test
    void overHttpForASystemClientThatMayReadItAll() throws Exception {
        String all = jp.kiroku.support.FhirHttp.fetchToken(anonymous.root(), ADMIN_ID, ADMIN_SECRET, null);
        var ward = pdfOverHttp("/admin/bcp/ward/" + wardA, all);
        assertThat(ward.statusCode()).isEqualTo(200);
        assertThat(ward.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/pdf"));
        assertThat(PdfText.all(ward.body())).contains("山田 太郎").contains("ペニシリン系抗菌薬").doesNotContain("鈴木");
        var one = pdfOverHttp("/admin/bcp/summary/" + inB, all);
        assertThat(one.statusCode()).isEqualTo(200);
        assertThat(PdfText.all(one.body())).contains("鈴木 花子").contains("そば");
        assertThat(pdfOverHttp("/admin/bcp/summary/nobody-" + s, all).statusCode()).isEqualTo(404);

        var narrow = clients.create("bcp narrow " + s, List.of("system/Patient.r"), jp.kiroku.audit.Agent.localOperator());
        var refused = pdfOverHttp("/admin/bcp/ward/" + wardA, jp.kiroku.support.FhirHttp.fetchToken(anonymous.root(),
                narrow.clientId(), narrow.secret(), null));
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(new String(refused.body(), StandardCharsets.UTF_8)).contains("AllergyIntolerance");
        assertThat(audit.find(new AuditQuery(null, narrow.clientId(), null, null, List.of("print"), "denied", null, 1)))
                .isNotEmpty();
        assertThat(pdfOverHttp("/admin/bcp/ward/" + wardA, null).statusCode()).isEqualTo(401);
    }

    private java.net.http.HttpResponse<byte[]> pdfOverHttp(String path, String token) throws Exception {
        var b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(anonymous.root() + path)).GET();
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return java.net.http.HttpClient.newHttpClient().send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    @Tag("LOG-01")
    void downtimeExportOpensOnlyWithItsPassphraseAndWithoutTheSystem(@TempDir Path tmp) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "downtime-");
        Path secret = dir.resolve("passphrase.txt");
        Files.writeString(secret, "正しい馬の電池ホチキス-" + s + "\n");
        Path export = dir.resolve("ward.kdt");
        CliRun made = CliRun.kiroku(DATA_DIR, "bcp", "downtime-export", "--ward", wardA, "--out", export.toString(),
                "--passphrase-file", secret.toString());
        assertThat(made.code()).as(made.err()).isZero();
        assertThat(made.out()).contains("1 inpatient(s)");
        byte[] bytes = Files.readAllBytes(export);
        for (String plain : List.of("山田", "ヤマダ", "ペニシリン", inA)) {
            assertThat(indexOf(bytes, plain.getBytes(StandardCharsets.UTF_8))).as(plain + " in the file").isNegative();
        }

        Path wrong = dir.resolve("wrong.txt");
        Files.writeString(wrong, "まちがった合言葉-" + s);
        CliRun refused = CliRun.kiroku(List.of("bcp", "view", export.toString(), "--passphrase-file", wrong.toString()));
        assertThat(refused.code()).isEqualTo(1);
        assertThat(refused.err()).contains("the passphrase does not open this downtime export").doesNotContain("Exception");
        Path tooShort = dir.resolve("short.txt");
        Files.writeString(tooShort, "short");
        assertThat(CliRun.kiroku(DATA_DIR, "bcp", "downtime-export", "--out", dir.resolve("x.kdt").toString(),
                "--passphrase-file", tooShort.toString()).err()).contains("too short");

        // a standalone PC: another process, the export copied to an empty directory, no data directory, no database
        Path pc = Files.createTempDirectory(tmp, "standalone-");
        Path copy = pc.resolve("ward.kdt");
        Files.copy(export, copy);
        Viewer list = viewer(pc, "bcp", "view", "ward.kdt", "--passphrase-file", secret.toString());
        assertThat(list.code()).as(list.out()).isZero();
        assertThat(list.out()).contains(inA).contains("山田 太郎").contains("301号室").doesNotContain(inB);
        Viewer one = viewer(pc, "bcp", "view", "ward.kdt", "--patient", inA, "--passphrase-file", secret.toString());
        assertThat(one.code()).as(one.out()).isZero();
        assertThat(one.out()).contains("ペニシリン系抗菌薬").contains("アムロジピン錠5mg").contains("本態性高血圧症")
                .contains("血清カリウム");
        Viewer pdf = viewer(pc, "bcp", "view", "ward.kdt", "--pdf", "out.pdf", "--passphrase-file", secret.toString());
        assertThat(pdf.code()).as(pdf.out()).isZero();
        assertThat(PdfText.all(Files.readAllBytes(pc.resolve("out.pdf")))).contains("山田 太郎").contains("ペニシリン系抗菌薬");
        assertThat(pc.resolve("kiroku-data")).as("no data directory made").doesNotExist();

        Path log = pc.resolve("ward.kdt.audit.jsonl");
        List<String> lines = Files.readAllLines(log);
        assertThat(lines).hasSize(3);
        assertThat(lines.get(1)).contains("\"action\":\"view\"").contains("\"patient\":\"" + inA + "\"")
                .contains("\"user\":\"" + System.getProperty("user.name") + "\"");

        // a tampered copy is refused whole; the intact file is imported once, and a grown one brings only its new lines
        Path tampered = dir.resolve("tampered.audit.jsonl");
        Files.write(tampered, List.of(lines.get(0), lines.get(1).replace(inA, inB), lines.get(2)));
        CliRun broken = CliRun.kiroku(DATA_DIR, "bcp", "import-audit", tampered.toString());
        assertThat(broken.code()).isEqualTo(1);
        assertThat(broken.err()).contains("is broken: line 2 was altered").contains("nothing was imported");
        Path dropped = dir.resolve("dropped.audit.jsonl");
        Files.write(dropped, List.of(lines.get(0), lines.get(2)));
        assertThat(CliRun.kiroku(DATA_DIR, "bcp", "import-audit", dropped.toString()).err())
                .contains("line 2 does not follow the line before it");
        assertThat(downtimeEvents(inB)).isEmpty();
        assertThat(audit.find(new AuditQuery(null, System.getProperty("user.name"), null, null,
                List.of("downtime.import-audit"), "failed", null, 5))).as("refusals audited").hasSize(2);

        CliRun imported = CliRun.kiroku(DATA_DIR, "bcp", "import-audit", log.toString());
        assertThat(imported.code()).as(imported.err()).isZero();
        assertThat(imported.out()).contains("Verified 3 line(s)").contains("recorded 3 view(s)");
        List<StoredEvent> viewed = downtimeEvents(inA);
        assertThat(viewed).extracting(StoredEvent::action).containsExactlyInAnyOrder("downtime.view", "downtime.pdf");
        assertThat(viewed).allSatisfy(e -> {
            assertThat(e.agentKind()).isEqualTo("operator");
            assertThat(e.agentId()).isEqualTo(System.getProperty("user.name"));
            assertThat(e.detail()).startsWith("viewed-at=");
        });
        CliRun again = CliRun.kiroku(DATA_DIR, "bcp", "import-audit", log.toString());
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("was imported already");

        assertThat(viewer(pc, "bcp", "view", "ward.kdt", "--patient", inA, "--passphrase-file", secret.toString()).code()).isZero();
        CliRun grown = CliRun.kiroku(DATA_DIR, "bcp", "import-audit", log.toString());
        assertThat(grown.code()).as(grown.err()).isZero();
        assertThat(grown.out()).contains("Verified 4 line(s)").contains("recorded 1 view(s)");
        assertThat(downtimeEvents(inA)).hasSize(3);
    }

    private List<StoredEvent> downtimeEvents(String patient) {
        return audit.find(new AuditQuery(patient, null, null, null, List.of("downtime.view", "downtime.pdf"), null, null, 10));
    }

    /** The viewer in its own JVM, as on a PC without Kiroku's database: the database settings point nowhere. */
    private record Viewer(int code, String out) {
    }

    private static Viewer viewer(Path workDir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "jp.kiroku.KirokuApplication"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true);
        pb.environment().put("KIROKU_DB_URL", "jdbc:postgresql://127.0.0.1:9/none");
        pb.environment().put("KIROKU_DATA_DIR", workDir.resolve("kiroku-data").toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Viewer(p.waitFor(), out);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Creates or replaces {@code Type/id} (the body's id added from the path). */
    private void put(String path, String json) {
        var r = admin.put(path, "{\"id\":\"" + path.substring(path.indexOf('/') + 1) + "\"," + json.substring(1));
        assertThat(r.status()).as(path + ": " + r.body()).isIn(200, 201);
    }

    private void patient(String id, String family, String given, String kanaFamily, String kanaGiven) {
        String ext = "\"extension\":[{\"url\":\"http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation\","
                + "\"valueCode\":\"%s\"}]";
        put("Patient/" + id, "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:oid:1.2.392.100495.20.3.51.11234567890\","
                + "\"value\":\"MRN-" + id + "\"}],\"name\":[{" + ext.formatted("IDE") + ",\"family\":\"" + family + "\",\"given\":[\""
                + given + "\"]},{" + ext.formatted("SYL") + ",\"family\":\"" + kanaFamily + "\",\"given\":[\"" + kanaGiven
                + "\"]}],\"gender\":\"male\",\"birthDate\":\"1950-04-01\"}");
    }

    private void encounter(String id, String patient, String location, String status) {
        put("Encounter/" + id, "{\"resourceType\":\"Encounter\",\"status\":\"" + status + "\",\"class\":{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"IMP\"},\"subject\":{\"reference\":\"Patient/"
                + patient + "\"},\"location\":[{\"location\":{\"reference\":\"Location/" + location + "\"}}]}");
    }

    private static String medication(String patient, String status, String drug, String dosage) {
        return "{\"resourceType\":\"MedicationRequest\",\"status\":\"" + status + "\",\"intent\":\"order\","
                + "\"medicationCodeableConcept\":{\"text\":\"" + drug + "\"},\"subject\":{\"reference\":\"Patient/" + patient
                + "\"},\"authoredOn\":\"2026-12-01\",\"dosageInstruction\":[{\"text\":\"" + dosage + "\"}]}";
    }

    private static String condition(String patient, String status, String text) {
        return "{\"resourceType\":\"Condition\",\"clinicalStatus\":{\"coding\":[{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/condition-clinical\",\"code\":\"" + status + "\"}]},"
                + "\"code\":{\"text\":\"" + text + "\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}";
    }
}
