package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jp.kiroku.support.PdfText;
import jp.kiroku.support.ServerTest;

/**
 * {@code kiroku incident} and {@code kiroku incident contacts} (issue 10, items 3 and 4) while the server runs: the
 * contact chart kept in calling order, an incident opened by hand, its timeline, its report written as a Japanese PDF
 * and JSON; bad input is a plain error, not a stack trace.
 */
@Tag("INC-02")
class IncidentCommandsTest extends ServerTest {

    @Test
    void theContactChartAndAnIncidentByHandWithItsReport(@TempDir Path tmp) throws Exception {
        CliRun police = CliRun.kiroku(DATA_DIR, "incident", "contacts", "add", "--party", "police", "--organisation",
                "県警察本部 サイバー犯罪対策課", "--phone", "000-0000-0000", "--priority", "30");
        assertThat(police.code()).as(police.err()).isZero();
        CliRun vendor = CliRun.kiroku(DATA_DIR, "incident", "contacts", "add", "--party", "vendor", "--organisation",
                "電子カルテ保守ベンダー", "--name", "保守 太郎", "--priority", "10");
        assertThat(vendor.code()).as(vendor.err()).isZero();
        String chart = CliRun.kiroku(DATA_DIR, "incident", "contacts", "list").out();
        assertThat(chart.indexOf("電子カルテ保守ベンダー")).as("called first").isLessThan(chart.indexOf("県警察本部"));
        CliRun unknownParty = CliRun.kiroku(DATA_DIR, "incident", "contacts", "add", "--party", "neighbours",
                "--organisation", "x");
        assertThat(unknownParty.code()).isEqualTo(1);
        assertThat(unknownParty.err()).contains("party must be one of").doesNotContain("Exception");

        CliRun opened = CliRun.kiroku(DATA_DIR, "incident", "open", "--title", "USBメモリの紛失",
                "--subject", "account:kiroku.someone");
        assertThat(opened.code()).as(opened.err()).isZero();
        String id = opened.out().replaceAll("(?s).*Opened incident #(\\d+).*", "$1");
        assertThat(CliRun.kiroku(DATA_DIR, "incident", "set", id, "description", "患者一覧を保存したUSBメモリを紛失").code())
                .isZero();
        assertThat(CliRun.kiroku(DATA_DIR, "incident", "log", id, "contact", "電子カルテ保守ベンダーに連絡").code()).isZero();
        CliRun badKind = CliRun.kiroku(DATA_DIR, "incident", "log", id, "gossip", "x");
        assertThat(badKind.code()).isEqualTo(1);
        assertThat(badKind.err()).contains("kind must be one of");
        assertThat(CliRun.kiroku(DATA_DIR, "incident", "show", "999999").err()).contains("no incident 999999");
        assertThat(CliRun.kiroku(DATA_DIR, "incident", "show", id).out()).contains("USBメモリの紛失", "contact",
                "電子カルテ保守ベンダーに連絡");

        Path out = Files.createTempDirectory(tmp, "kiroku-incident-");
        CliRun report = CliRun.kiroku(DATA_DIR, "incident", "report", id, "--out", out.toString());
        assertThat(report.code()).as(report.err()).isZero();
        assertThat(Files.readString(out.resolve("incident-" + id + "-report.json"))).contains("患者一覧を保存したUSBメモリを紛失");
        byte[] pdf = Files.readAllBytes(out.resolve("incident-" + id + "-report.pdf"));
        assertThat(PdfText.of(pdf)).contains("USBメモリの紛失", "電子カルテ保守ベンダーに連絡");
        assertThat(CliRun.kiroku(DATA_DIR, "incident", "status", id, "closed").out()).contains("is closed");
        assertThat(CliRun.kiroku(DATA_DIR, "incident", "list").out()).doesNotContain("USBメモリの紛失");
        assertThat(CliRun.kiroku(DATA_DIR, "incident", "list", "--all").out()).contains("USBメモリの紛失");
    }
}
