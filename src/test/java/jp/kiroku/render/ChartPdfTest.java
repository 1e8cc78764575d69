package jp.kiroku.render;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import org.hl7.fhir.r4.model.Basic;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.ResearchStudy;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import ca.uhn.fhir.context.FhirContext;
import jp.kiroku.support.PdfText;

/**
 * The chart renderer alone (no database): the patient on every page, page numbers, the checkpoint in the footer, each
 * version's number, status, author and confirmer; any resource type from its elements, or from its narrative with
 * scripts, handlers, styles and external images taken out.
 */
@Tag("READ-01")
class ChartPdfTest {

    private static final FhirContext FHIR = FhirContext.forR4Cached();
    private static final ZoneId TOKYO = ZoneId.of("Asia/Tokyo");
    private static final byte[] ROOT = new byte[32];

    static {
        ROOT[0] = 7;
        ROOT[31] = 42;
    }

    private static <T extends Resource> T parse(Class<T> type, String json) {
        return FHIR.newJsonParser().parseResource(type, json);
    }

    private static Patient patient() {
        return parse(Patient.class, "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"identifier\":[{\"type\":{\"text\":\"患者番号\"},"
                + "\"value\":\"MRN-00123\"}],\"name\":[{\"extension\":[{\"url\":\"http://hl7.org/fhir/StructureDefinition/"
                + "iso21090-EN-representation\",\"valueCode\":\"IDE\"}],\"family\":\"𠮷田\",\"given\":[\"花子\"]},{\"extension\":"
                + "[{\"url\":\"http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation\",\"valueCode\":\"SYL\"}],"
                + "\"family\":\"ヨシダ\",\"given\":[\"ハナコ\"]}],\"gender\":\"female\",\"birthDate\":\"1961-07-15\"}");
    }

    private static ChartPrint.Entry entry(Resource r, int version, ChartPrint.Status status, String author, String confirmer) {
        return new ChartPrint.Entry(r.fhirType(), r.getIdElement().getIdPart(), version, Instant.parse("2026-12-01T01:02:03Z"),
                r, status, "user", author, null, confirmer, confirmer == null ? null : Instant.parse("2026-12-02T03:04:05Z"),
                1000L + version, false);
    }

    private static ChartPrint print(List<ChartPrint.Entry> entries) {
        return new ChartPrint(ChartPrint.Purpose.CHART, FhirText.person("p1", patient()), "全記録", entries, 0,
                new ChartPrint.LedgerCheckpoint("kiroku/record", 4711, ROOT, Instant.parse("2026-12-07T00:00:00Z")),
                "operator-x (operator)", Instant.parse("2026-12-07T00:00:00Z"), TOKYO);
    }

    @Test
    void everyPageNamesThePatientTheCheckpointAndItsNumber() {
        List<ChartPrint.Entry> entries = new ArrayList<>(List.of(entry(patient(), 1, ChartPrint.Status.DRAFT, "system-a", null)));
        for (int i = 1; i <= 60; i++) {
            Observation o = parse(Observation.class, "{\"resourceType\":\"Observation\",\"id\":\"o" + i + "\",\"status\":\"final\","
                    + "\"code\":{\"text\":\"血清カリウム\"},\"valueQuantity\":{\"value\":4." + i + ",\"unit\":\"mmol/L\"},"
                    + "\"referenceRange\":[{\"low\":{\"value\":3.5,\"unit\":\"mmol/L\"},\"high\":{\"value\":5.0,\"unit\":\"mmol/L\"}}]}");
            entries.add(entry(o, i % 3 + 1, ChartPrint.Status.CONFIRMED, "dr.tanaka", "dr.suzuki"));
        }
        List<String> pages = PdfText.pages(ChartPdf.pdf(print(entries)));
        assertThat(pages).hasSizeGreaterThan(2);
        String root = Base64.getEncoder().encodeToString(ROOT);
        for (int n = 0; n < pages.size(); n++) {
            String page = pages.get(n).replaceAll("\\s+", "");
            assertThat(page).as("page " + (n + 1)).contains("𠮷田花子", "ヨシダハナコ", "IDp1", "MRN-00123", "1961-07-15",
                    "size4711", root, "kirokuverify--checkpoint", (n + 1) + "/" + pages.size());
        }
        String all = PdfText.of(ChartPdf.pdf(print(entries)));
        assertThat(all).contains("Observation/o1第2版", "Observation/o2第3版", "Observation/o3第1版", "確定", "dr.tanaka(利用者)",
                "dr.suzuki2026-12-0212:04:05JST", "4.1mmol/L", "基準値3.5mmol/L〜5.0mmol/L", "#1002", "Patient/p1第1版");
    }

    @Test
    void anyTypeRendersFromItsElements() {
        Basic basic = parse(Basic.class, "{\"resourceType\":\"Basic\",\"id\":\"b1\",\"code\":{\"coding\":[{\"system\":"
                + "\"http://example.org/kinds\",\"code\":\"fall-risk\",\"display\":\"転倒リスク評価\"}],"
                + "\"text\":\"制御文字\\u0001入り\"},\"created\":\"2026-11-30\","
                + "\"subject\":{\"reference\":\"Patient/p1\"},\"author\":{\"reference\":\"Practitioner/dr1\",\"display\":\"田中一郎\"}}");
        String text = PdfText.of(ChartPdf.pdf(print(List.of(entry(basic, 1, ChartPrint.Status.DRAFT, "system-a", null)))));
        assertThat(text).contains("Basic/b1第1版", "制御文字入り(転倒リスク評価[http://example.org/kinds|fall-risk])", "2026-11-30",
                "Patient/p1", "田中一郎(Practitioner/dr1)", "未確定");
    }

    @Test
    void aNarrativeIsPrintedWithoutWhatCouldAct() {
        ResearchStudy study = parse(ResearchStudy.class, "{\"resourceType\":\"ResearchStudy\",\"id\":\"n1\",\"status\":\"active\","
                + "\"text\":{\"status\":\"generated\",\"div\":"
                + "\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\"><p onclick=\\\"steal()\\\" style=\\\"color:red\\\">"
                + "臨床研究の説明文 <b>同意済み</b></p><script>alert('x')</script><style>p{display:none}</style>"
                + "<img src=\\\"http://evil.example/t.png\\\" alt=\\\"追跡\\\"/><a href=\\\"javascript:steal()\\\">リンク文字</a>"
                + "<table><tr><td colspan=\\\"2\\\">表の中身</td></tr></table></div>\"},"
                + "\"title\":\"要素からは表示されない研究名\"}");
        String xhtml = ChartPdf.xhtml(print(List.of(entry(study, 1, ChartPrint.Status.DRAFT, "system-a", null))));
        assertThat(xhtml).doesNotContain("<script", "alert(", "onclick", "steal", "style=\"", "evil.example", "href", "display:none");
        String text = PdfText.of(ChartPdf.pdf(print(List.of(entry(study, 1, ChartPrint.Status.DRAFT, "system-a", null)))));
        assertThat(text).contains("臨床研究の説明文同意済み", "[画像:追跡]", "リンク文字", "表の中身")
                .doesNotContain("要素からは表示されない研究名", "alert");
    }

    @Test
    void aDisclosureSaysHowManyWereWithheldAndADeletionIsShown() {
        ChartPrint.Entry deleted = new ChartPrint.Entry("Condition", "c9", 3, Instant.parse("2026-12-03T00:00:00Z"), null,
                ChartPrint.Status.DRAFT, "client", "lab-system", null, null, null, null, false);
        ChartPrint p = print(List.of(deleted));
        ChartPrint disclosure = new ChartPrint(ChartPrint.Purpose.DISCLOSURE, p.patient(), p.scope(), p.entries(), 2,
                p.checkpoint(), p.printedBy(), p.printedAt(), p.zone());
        String text = PdfText.of(ChartPdf.pdf(disclosure));
        assertThat(text).contains("診療情報開示", "2件の記録の開示を保留", "Condition/c9第3版", "削除(deleted)",
                "lab-system(システム)").doesNotContain("未告知");
    }
}
