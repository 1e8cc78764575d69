package jp.kiroku.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.time.Clock;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.support.ServerTest;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.WebSession;
import jp.kiroku.support.WebSession.Page;

/** People log in through the pages, the way the guideline requires (AUTH-01..10), over real HTTP with cookies. */
class PeopleLoginTest extends ServerTest {

    static final String GOOD_PASSWORD = PersonLogin.GOOD_PASSWORD;
    private static final AtomicInteger SEQ = new AtomicInteger();

    @Autowired
    Accounts accounts;
    @Autowired
    JdbcTemplate jdbc;

    final Totp totp = new Totp(Clock.systemUTC());
    WebSession browser;

    @BeforeEach
    void aBrowser() {
        browser = new WebSession("http://127.0.0.1:" + port);
    }

    /** A new nurse's account; returns the one-time password. */
    private Accounts.Issued newNurse(String username) {
        int n = SEQ.incrementAndGet();
        return accounts.create(new NewAccount(username, "staff", List.of("nurse"), "看護 花子" + n, "カンゴ ハナコ" + "ア".repeat(n),
                "Kango Hanako", LocalDate.of(1985, 4, 1), "nurse", "病棟3", null, null), Agent.localOperator());
    }

    private Page login(String username, String password) {
        browser.get("/login");
        return browser.post("/login", Map.of("username", username, "password", password));
    }

    private static String errorBlock(Page p) {
        Matcher m = Pattern.compile("(?s)<div class=\"error\".*?</div>").matcher(p.body());
        return m.find() ? m.group() : "";
    }

    /** First login of a new account up to a signed-in session; returns the TOTP secret it enrolled. */
    private byte[] firstLogin(String username, String oneTimePassword) {
        PersonLogin.FirstLogin done = PersonLogin.firstLogin(browser, username, oneTimePassword);
        lastRecoveryCodes = recoveryCodesShownOn(done.codesPage());
        return done.secret();
    }

    List<String> lastRecoveryCodes;

    static List<String> recoveryCodesShownOn(Page p) {
        assertThat(p.body()).contains("id=\"recovery-codes\"");
        Matcher m = Pattern.compile("<code>([a-z0-9]{5}-[a-z0-9]{5})</code>").matcher(p.body());
        List<String> codes = new java.util.ArrayList<>();
        while (m.find()) {
            codes.add(m.group(1));
        }
        assertThat(codes).hasSize(10).doesNotHaveDuplicates();
        return codes;
    }

    @Test
    @Tag("AUTH-05")
    @Tag("AUTH-01")
    void aWrongPasswordAndAnUnknownUserGetTheSameAnswer() {
        newNurse("ito.wrongpw");
        Page wrong = login("ito.wrongpw", "not-the-password-1!");
        Page unknown = login("nobody.here", "not-the-password-1!");
        assertThat(wrong.status()).isEqualTo(200).isEqualTo(unknown.status());
        assertThat(errorBlock(wrong)).contains("認証に失敗しました").isEqualTo(errorBlock(unknown));
        assertThat(browser.get("/").redirect()).isEqualTo("/login"); // nothing signed in
        List<String> details = jdbc.queryForList("SELECT detail FROM audit_log WHERE action = 'login' AND agent_id IN"
                + " ('ito.wrongpw', 'nobody.here') ORDER BY seq", String.class);
        assertThat(details).containsExactly("step=password wrong-password", "step=password unknown-user");
    }

    @Test
    @Tag("AUTH-05")
    @Tag("AUTH-07")
    @Tag("AUTH-04")
    void theFirstLoginForcesANewPasswordAndASecondFactorBeforeAnythingElse() {
        var issued = newNurse("suzuki.first");
        assertThat(login("suzuki.first", issued.oneTimePassword()).redirect()).isEqualTo("/login/password");
        // the password alone (knowledge only) reaches nothing
        assertThat(browser.get("/").redirect()).isEqualTo("/login");
        browser.get("/login/password");
        Page weak = browser.post("/login/password", Map.of("password", "Sakura2024!", "confirm", "Sakura2024!"));
        assertThat(weak.status()).isEqualTo(200);
        assertThat(weak.body()).contains("id=\"password-problems\"");
        Page mismatch = browser.post("/login/password", Map.of("password", GOOD_PASSWORD, "confirm", GOOD_PASSWORD + "x"));
        assertThat(mismatch.body()).contains("一致しません");
        Page changed = browser.post("/login/password", Map.of("password", GOOD_PASSWORD, "confirm", GOOD_PASSWORD));
        assertThat(changed.redirect()).isEqualTo("/login/totp/enroll");
        assertThat(browser.get("/").redirect()).as("password changed, no second factor yet").isEqualTo("/login");
        Page enroll = browser.get("/login/totp/enroll");
        assertThat(enroll.body()).contains("<svg").doesNotContain("<script");
        byte[] secret = PersonLogin.secretShownOn(enroll);
        Page wrongCode = browser.post("/login/totp/enroll", Map.of("code", "000000".equals(totp.code(secret,
                totp.currentStep())) ? "111111" : "000000"));
        assertThat(wrongCode.status()).isEqualTo(200);
        Page codes = browser.post("/login/totp/enroll", Map.of("code", totp.code(secret, totp.currentStep())));
        recoveryCodesShownOn(codes);
        Page home = browser.get("/");
        assertThat(home.status()).isEqualTo(200);
        assertThat(home.body()).contains("suzuki.first");
        // the issued password no longer works, the own one does (with the second factor)
        browser.forgetCookies();
        assertThat(login("suzuki.first", issued.oneTimePassword()).redirect()).isNull();
        assertThat(login("suzuki.first", GOOD_PASSWORD).redirect()).isEqualTo("/login/totp");
    }

    @Test
    @Tag("AUTH-07")
    void aSecondLoginNeedsAFreshCodeAndACodeWorksOnce() {
        byte[] secret = firstLogin("tanaka.totp", newNurse("tanaka.totp").oneTimePassword());
        long enrolledStep = totp.currentStep();
        browser.forgetCookies();
        assertThat(login("tanaka.totp", GOOD_PASSWORD).redirect()).isEqualTo("/login/totp");
        browser.get("/login/totp");
        // the code used at enrolment is spent: replaying it is refused
        Page replay = browser.post("/login/totp", Map.of("code", totp.code(secret, enrolledStep)));
        assertThat(replay.redirect()).isNull();
        assertThat(errorBlock(replay)).contains("認証に失敗しました");
        assertThat(browser.get("/").redirect()).isEqualTo("/login");
        // the next step's code (within the ±1 step tolerance) is accepted
        browser.get("/login/totp");
        assertThat(browser.post("/login/totp", Map.of("code", totp.code(secret, enrolledStep + 1))).redirect()).isEqualTo("/");
        assertThat(browser.get("/").status()).isEqualTo(200);
    }

    @Test
    @Tag("AUTH-08")
    @Tag("AUTH-07")
    void aRecoveryCodeReplacesALostAuthenticatorOnceAndANewOneMustBeEnrolled() {
        byte[] lost = firstLogin("noguchi.lost", newNurse("noguchi.lost").oneTimePassword());
        List<String> codes = lastRecoveryCodes;
        browser.forgetCookies();
        assertThat(login("noguchi.lost", GOOD_PASSWORD).redirect()).isEqualTo("/login/totp");
        browser.get("/login/totp");
        assertThat(browser.get("/login/recovery").status()).isEqualTo(200);
        Page wrong = browser.post("/login/recovery", Map.of("code", "aaaaa-bbbbb"));
        assertThat(errorBlock(wrong)).contains("認証に失敗しました");
        Page used = browser.post("/login/recovery", Map.of("code", codes.get(3).toUpperCase()));
        assertThat(used.redirect()).isEqualTo("/login/totp/enroll");
        assertThat(browser.get("/").redirect()).as("a recovery code alone does not sign in").isEqualTo("/login");
        byte[] fresh = PersonLogin.secretShownOn(browser.get("/login/totp/enroll"));
        assertThat(fresh).isNotEqualTo(lost);
        List<String> newCodes = recoveryCodesShownOn(browser.post("/login/totp/enroll",
                Map.of("code", totp.code(fresh, totp.currentStep()))));
        assertThat(newCodes).doesNotContainAnyElementsOf(codes);
        assertThat(browser.get("/").status()).isEqualTo(200);
        // the lost authenticator and the old codes no longer work
        browser.forgetCookies();
        login("noguchi.lost", GOOD_PASSWORD);
        browser.get("/login/totp");
        assertThat(browser.post("/login/totp", Map.of("code", totp.code(lost, totp.currentStep() + 1))).redirect()).isNull();
        browser.get("/login/recovery");
        assertThat(browser.post("/login/recovery", Map.of("code", codes.get(5))).redirect()).isNull();
        assertThat(jdbc.queryForList("SELECT action FROM audit_log WHERE detail = 'account=noguchi.lost by recovery code'",
                String.class)).containsExactly("totp.reset");
    }

    @Test
    @Tag("AUTH-06")
    void fiveFailuresLockTheUserNameEvenForTheRightPasswordUntilUnlocked() {
        firstLogin("kato.lock", newNurse("kato.lock").oneTimePassword());
        browser.forgetCookies();
        for (int i = 0; i < 5; i++) {
            assertThat(login("kato.lock", "wrong-" + i + "-Xy!9").redirect()).isNull();
        }
        Page locked = login("kato.lock", GOOD_PASSWORD);
        assertThat(locked.redirect()).as("the right password is refused while locked").isNull();
        assertThat(errorBlock(locked)).contains("認証に失敗しました").contains("しばらくログインできません");
        // an unknown name locks alike: the answers never tell the two apart
        for (int i = 0; i < 5; i++) {
            login("nobody.locked", "wrong-" + i + "-Xy!9");
        }
        assertThat(errorBlock(login("nobody.locked", "x"))).isEqualTo(errorBlock(login("kato.lock", GOOD_PASSWORD)));
        // flipped: an administrator unlocks, and the right password works again
        assertThat(accounts.unlock("kato.lock", Agent.localOperator())).isTrue();
        assertThat(login("kato.lock", GOOD_PASSWORD).redirect()).isEqualTo("/login/totp");
        assertThat(jdbc.queryForList("SELECT action FROM audit_log WHERE action IN ('account.lock', 'account.unlock')"
                + " AND (agent_id = 'kato.lock' OR detail = 'account=kato.lock')", String.class))
                .contains("account.lock", "account.unlock");
    }

    @Test
    @Tag("AUTH-09")
    void anIdleSessionEndsOnTheServerAndShowsNothingUntilTheNextLogin() {
        firstLogin("mori.idle", newNurse("mori.idle").oneTimePassword());
        assertThat(browser.get("/").status()).isEqualTo(200);
        // eleven minutes without a request (the default idle limit is ten), as the session store sees it
        int moved = jdbc.update("UPDATE spring_session SET last_access_time = last_access_time - 660000,"
                + " expiry_time = expiry_time - 660000 WHERE principal_name = 'mori.idle'");
        assertThat(moved).isEqualTo(1);
        Page after = browser.get("/");
        assertThat(after.redirect()).isEqualTo("/login");
        assertThat(after.body()).doesNotContain("mori.idle");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM spring_session WHERE principal_name = 'mori.idle'", Long.class))
                .as("the expired session is gone from the server").isZero();
    }

    @Test
    @Tag("AUTH-09")
    void aRoleWithAShorterIdleLimitLosesItsSessionSoonerThanOthers() {
        firstLogin("ito.idle", newNurse("ito.idle").oneTimePassword());
        WebSession nurse = browser;
        browser = new WebSession("http://127.0.0.1:" + port);
        var issued = accounts.create(new NewAccount("ono.diet", "staff", List.of("dietitian"), "小野 栄子", "オノ エイコ",
                null, LocalDate.of(1990, 2, 2), "dietitian", "栄養科", null, null), Agent.localOperator());
        firstLogin("ono.diet", issued.oneTimePassword());
        WebSession dietitian = browser;
        assertThat(jdbc.queryForObject("SELECT max_inactive_interval FROM spring_session WHERE principal_name = 'ono.diet'",
                Integer.class)).isEqualTo(240); // kiroku.auth.idle-timeout-by-role.dietitian=4m (ServerTest)
        // five minutes without a request for both: over the dietitian's limit, within the nurse's (the default, ten)
        assertThat(jdbc.update("UPDATE spring_session SET last_access_time = last_access_time - 300000,"
                + " expiry_time = expiry_time - 300000 WHERE principal_name IN ('ito.idle', 'ono.diet')")).isEqualTo(2);
        assertThat(dietitian.get("/").redirect()).isEqualTo("/login");
        assertThat(nurse.get("/").status()).isEqualTo(200);
    }

    @Test
    @Tag("AUTH-10")
    void disablingAnAccountEndsItsSessionsAtOnceAndRefusesItsLogin() {
        firstLogin("abe.leaves", newNurse("abe.leaves").oneTimePassword());
        assertThat(browser.get("/").status()).isEqualTo(200);
        assertThat(accounts.disable("abe.leaves", "left 2026-11-30", Agent.localOperator())).isTrue();
        assertThat(browser.get("/").redirect()).isEqualTo("/login");
        browser.forgetCookies();
        Page again = login("abe.leaves", GOOD_PASSWORD);
        assertThat(again.redirect()).isNull();
        assertThat(errorBlock(again)).contains("認証に失敗しました");
        assertThat(accounts.list(java.time.Duration.ZERO)).noneMatch(a -> a.username().equals("abe.leaves"));
    }

    @Test
    @Tag("AUTH-09")
    void logoutEverywhereEndsTheOtherSessionsToo() {
        firstLogin("ueda.two", newNurse("ueda.two").oneTimePassword());
        WebSession other = new WebSession("http://127.0.0.1:" + port);
        other.get("/login");
        assertThat(other.post("/login", Map.of("username", "ueda.two", "password", GOOD_PASSWORD)).redirect())
                .isEqualTo("/login/totp");
        byte[] secret = accounts.totpSecret(accounts.find("ueda.two").orElseThrow());
        other.get("/login/totp");
        assertThat(other.post("/login/totp", Map.of("code", totp.code(secret, totp.currentStep() + 1))).redirect()).isEqualTo("/");
        assertThat(other.get("/").status()).isEqualTo(200);
        assertThat(browser.get("/").status()).isEqualTo(200);
        browser.post("/logout/everywhere", Map.of());
        assertThat(browser.get("/").redirect()).isEqualTo("/login");
        assertThat(other.get("/").redirect()).isEqualTo("/login");
    }

    @Test
    @Tag("AUTH-01")
    void formsWithoutTheCsrfTokenAreRefusedAndTheApiIgnoresSessions() {
        firstLogin("goto.csrf", newNurse("goto.csrf").oneTimePassword());
        assertThat(browser.postRaw("/logout", Map.of()).status()).isEqualTo(403);
        assertThat(browser.get("/").status()).as("still signed in").isEqualTo(200);
        // the FHIR API takes bearer tokens only: a session cookie gives no access
        var api = java.net.http.HttpClient.newHttpClient();
        try {
            var r = api.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port
                    + "/fhir/Patient")).header("Cookie", "SESSION=" + browser.sessionCookie()).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(401);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    @Tag("AUTH-10")
    @Tag("AUTH-05")
    void theBootstrapAdministratorsOneTimePasswordIsInAPrivateFileDeletedAtTheFirstChange() throws Exception {
        var file = DATA_DIR.resolve("bootstrap-admin-password.txt");
        assertThat(Files.exists(file)).isTrue();
        assertThat(Files.getPosixFilePermissions(file)).containsExactlyInAnyOrder(
                java.nio.file.attribute.PosixFilePermission.OWNER_READ, java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        Matcher m = Pattern.compile("one-time password: (\\S+)").matcher(Files.readString(file));
        assertThat(m.find()).isTrue();
        firstLogin(BOOTSTRAP_ADMIN, m.group(1));
        assertThat(Files.exists(file)).isFalse();
        assertThat(browser.get("/").body()).contains(BOOTSTRAP_ADMIN);
    }
}
