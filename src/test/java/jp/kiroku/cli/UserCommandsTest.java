package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.support.ServerTest;
import jp.kiroku.support.WebSession;

/** {@code kiroku user ...} against a running server's database, as an administrator at the server's shell would. */
class UserCommandsTest extends ServerTest {

    @Autowired
    JdbcTemplate jdbc;

    private CliRun kiroku(String... args) {
        return CliRun.kiroku(DATA_DIR, args);
    }

    private static String oneTimePassword(CliRun r) {
        Matcher m = Pattern.compile("one-time password:\\s+(\\S+)").matcher(r.out());
        assertThat(m.find()).as(r.out() + r.err()).isTrue();
        return m.group(1);
    }

    @Test
    @Tag("AUTH-02")
    @Tag("AUTH-10")
    void createListDisableOnePersonsAccountAndRefuseSharedOnes() {
        CliRun created = kiroku("user", "create", "--username", "kimura.ken", "--name", "木村 健", "--kana", "キムラ ケン",
                "--birth-date", "1975-06-30", "--roles", "physician", "--profession", "physician");
        assertThat(created.code()).as(created.err()).isZero();
        String password = oneTimePassword(created);
        // the one-time password logs in (to the forced change) — and is stored only as a hash
        WebSession browser = new WebSession("http://127.0.0.1:" + port);
        browser.get("/login");
        assertThat(browser.post("/login", Map.of("username", "kimura.ken", "password", password)).redirect())
                .isEqualTo("/login/password");
        assertThat(jdbc.queryForObject("SELECT password_hash FROM account WHERE username = 'kimura.ken'", String.class))
                .startsWith("{argon2}$argon2id$").doesNotContain(password);

        CliRun shared = kiroku("user", "create", "--username", "nurse1", "--name", "病棟", "--kana", "ビョウトウ",
                "--roles", "nurse", "--profession", "nurse");
        assertThat(shared.code()).isEqualTo(1);
        assertThat(shared.err()).contains("names a function, not a person");
        CliRun samePerson = kiroku("user", "create", "--username", "kimura.k2", "--name", "木村 健", "--kana", "キムラ ケン",
                "--birth-date", "1975-06-30", "--roles", "physician", "--profession", "physician");
        assertThat(samePerson.code()).isEqualTo(1);
        assertThat(samePerson.err()).contains("already has an account (kimura.ken)");

        CliRun unused = kiroku("user", "list", "--unused-days", "0");
        assertThat(unused.out()).contains("kimura.ken").contains("never");
        assertThat(kiroku("user", "disable", "kimura.ken", "--reason", "left 2026-11-30").code()).isZero();
        assertThat(kiroku("user", "list", "--unused-days", "0").out()).doesNotContain("kimura.ken");
        assertThat(kiroku("user", "list").out()).containsPattern("kimura.ken\\s+disabled");
        assertThat(kiroku("user", "disable", "kimura.ken", "--reason", "again").code()).isEqualTo(1);
    }

    @Test
    @Tag("AUTH-03")
    void aResetRecordsWhoVerifiedTheIdentityAndHow() {
        String first = oneTimePassword(kiroku("user", "create", "--username", "hayashi.mai", "--name", "林 舞",
                "--kana", "ハヤシ マイ", "--roles", "clerk", "--profession", "medical-clerk"));
        CliRun refused = kiroku("user", "reset-password", "hayashi.mai", "--verified-by", " ");
        assertThat(refused.code()).isEqualTo(1);
        assertThat(refused.err()).contains("how the person's identity was verified");
        CliRun reset = kiroku("user", "reset-password", "hayashi.mai", "--verified-by", "staff ID card, in person");
        assertThat(reset.code()).as(reset.err()).isZero();
        String second = oneTimePassword(reset);
        assertThat(second).isNotEqualTo(first);
        String detail = jdbc.queryForObject("SELECT detail FROM audit_log WHERE action = 'password.reset'"
                + " AND detail LIKE 'account=hayashi.mai %' ORDER BY seq DESC LIMIT 1", String.class);
        assertThat(detail).contains("identity-verified-by=" + System.getProperty("user.name"))
                .contains("method=staff ID card, in person").doesNotContain(second);
        WebSession browser = new WebSession("http://127.0.0.1:" + port);
        browser.get("/login");
        assertThat(browser.post("/login", Map.of("username", "hayashi.mai", "password", first)).redirect()).isNull();
        assertThat(browser.post("/login", Map.of("username", "hayashi.mai", "password", second)).redirect())
                .isEqualTo("/login/password");
    }
}
