package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;

import jp.kiroku.compliance.OfficerAnswers;
import jp.kiroku.support.PdfText;
import jp.kiroku.support.ServerTest;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code kiroku compliance report} and {@code kiroku compliance answer} while the server runs: the report as JSON and
 * as an English PDF written owner-only, the officer's answer recorded as the local operator, and plain errors for
 * computed items and bad options.
 */
class ComplianceCommandsTest extends ServerTest {

    @Autowired
    OfficerAnswers answers;

    @Test
    void theOperatorWritesTheReportAndRecordsAnswers(@TempDir Path tmp) throws Exception {
        String s = UUID.randomUUID().toString().substring(0, 8);
        Path dir = Files.createTempDirectory(tmp, "compliance-");
        CliRun answered = CliRun.kiroku(DATA_DIR, "compliance", "answer", "CL-R7-rules", "--text", "運用管理規程 第3版 " + s);
        assertThat(answered.code()).as(answered.err()).isZero();
        assertThat(answered.out()).contains("Recorded the answer to CL-R7-rules");
        assertThat(answers.latest().get("CL-R7-rules").text()).isEqualTo("運用管理規程 第3版 " + s);
        assertThat(answers.latest().get("CL-R7-rules").by()).startsWith("operator:");

        Path json = dir.resolve("report.json");
        CliRun report = CliRun.kiroku(DATA_DIR, "compliance", "report", "--format", "json", "--out", json.toString());
        assertThat(report.code()).as(report.err()).isZero();
        assertThat(report.out()).contains("requirements:", "Wrote the compliance report");
        JsonNode root = JsonMapper.builder().build().readTree(Files.readString(json));
        assertThat(root.get("requirements").size()).isGreaterThan(80);
        JsonNode rules = null;
        for (JsonNode c : root.get("checklist")) {
            if (c.get("key").asText().equals("CL-R7-rules")) {
                rules = c;
            }
        }
        assertThat(rules).isNotNull();
        assertThat(rules.get("status").asText()).isEqualTo("ANSWERED");
        assertThat(rules.get("answer").get("text").asText()).contains(s);
        assertThat(Files.getPosixFilePermissions(json)).hasSize(2); // owner read and write only

        Path pdf = dir.resolve("report-en.pdf");
        CliRun en = CliRun.kiroku(DATA_DIR, "compliance", "report", "--lang", "en", "--out", pdf.toString());
        assertThat(en.code()).as(en.err()).isZero();
        assertThat(PdfText.of(Files.readAllBytes(pdf))).contains("Compliancereport", "MHLWcybersecuritychecklist",
                "AUTH-07", "運用管理規程第3版" + s);

        CliRun computed = CliRun.kiroku(DATA_DIR, "compliance", "answer", "AUTH-07", "--text", "yes");
        assertThat(computed.code()).isEqualTo(1);
        assertThat(computed.err()).contains("computed from the installation");
        CliRun badFormat = CliRun.kiroku(DATA_DIR, "compliance", "report", "--format", "docx", "--out", pdf.toString());
        assertThat(badFormat.code()).isEqualTo(1);
        assertThat(badFormat.err()).contains("--format must be pdf or json");
    }
}
