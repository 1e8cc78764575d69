package jp.kiroku.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;
import jp.kiroku.support.SoftAuthenticator;
import jp.kiroku.support.WebSession;
import jp.kiroku.support.WebSession.Page;

/**
 * WebAuthn passkeys as the possession factor, with a software authenticator (real P-256 keys, webauthn4j encoding):
 * registered from a signed-in session, then accepted instead of a TOTP code at login — but not with a wrong key, a
 * spent challenge, another origin or a counter that does not move forward (a cloned key).
 */
@Tag("AUTH-07")
@Tag("AUTH-08")
class PasskeysTest extends ServerTest {

    @Autowired
    Accounts accounts;
    @Autowired
    JdbcTemplate jdbc;

    private String origin() {
        return "http://127.0.0.1:" + port;
    }

    private static String attr(Page p, String name) {
        Matcher m = Pattern.compile(name + "=\"([^\"]*)\"").matcher(p.body());
        assertThat(m.find()).as(name + " in " + p.body()).isTrue();
        return m.group(1);
    }

    private WebSession signedIn(String username) {
        var issued = accounts.create(new NewAccount(username, "staff", List.of("nurse"), "鍵 " + username, "カギ ハナコ",
                null, LocalDate.of(1986, 7, 1 + Math.floorMod(username.hashCode(), 28)), "nurse", null, null, null), Agent.localOperator());
        WebSession browser = new WebSession(origin());
        PersonLogin.firstLogin(browser, username, issued.oneTimePassword());
        assertThat(browser.get("/").status()).isEqualTo(200);
        return browser;
    }

    private Page register(WebSession browser, SoftAuthenticator key, String origin, String name) {
        Page page = browser.get("/account/passkeys");
        assertThat(page.status()).isEqualTo(200);
        var r = key.register(attr(page, "data-rp-id"), origin, attr(page, "data-challenge"));
        return browser.post("/account/passkeys", Map.of("clientDataJSON", r.clientDataJSON(),
                "attestationObject", r.attestationObject(), "transports", "usb", "name", name));
    }

    /** Password, then the passkey step; returns the passkey page (its challenge) or fails. */
    private Page passwordThenPasskeyPage(WebSession browser, String username) {
        browser.forgetCookies();
        browser.get("/login");
        assertThat(browser.post("/login", Map.of("username", username, "password", PersonLogin.GOOD_PASSWORD)).redirect())
                .isEqualTo("/login/totp");
        assertThat(browser.get("/login/totp").body()).contains("id=\"use-passkey\"");
        Page passkey = browser.get("/login/passkey");
        assertThat(passkey.status()).as(passkey.body()).isEqualTo(200);
        return passkey;
    }

    private static Page answer(WebSession browser, SoftAuthenticator.Assertion a) {
        return browser.post("/login/passkey", Map.of("credentialId", a.credentialId(), "clientDataJSON", a.clientDataJSON(),
                "authenticatorData", a.authenticatorData(), "signature", a.signature()));
    }

    @Test
    void aRegisteredPasskeyReplacesTheCodeAtLogin() {
        WebSession browser = signedIn("suzuki.passkey");
        WebSession other = new WebSession(origin());
        assertThat(other.get("/account/passkeys").redirect()).as("only a signed-in person registers").isEqualTo("/login");
        // before any passkey, the code step offers none
        other.get("/login");
        other.post("/login", Map.of("username", "suzuki.passkey", "password", PersonLogin.GOOD_PASSWORD));
        assertThat(other.get("/login/totp").body()).doesNotContain("id=\"use-passkey\"");
        assertThat(other.get("/login/passkey").redirect()).isEqualTo("/login");

        SoftAuthenticator key = new SoftAuthenticator();
        Page added = register(browser, key, origin(), "外来PCの鍵");
        assertThat(added.redirect()).as(added.body()).isEqualTo("/account/passkeys?added");
        assertThat(browser.get("/account/passkeys").body()).contains("外来PCの鍵");

        Page challenge = passwordThenPasskeyPage(other, "suzuki.passkey");
        Page done = answer(other, key.sign(attr(challenge, "data-rp-id"), origin(), attr(challenge, "data-challenge"), 1));
        assertThat(done.redirect()).as(done.body()).isEqualTo("/");
        assertThat(other.get("/").status()).isEqualTo(200);
        assertThat(jdbc.queryForList("SELECT detail FROM audit_log WHERE agent_id = 'suzuki.passkey' AND action = 'login'"
                + " AND outcome = 'success' ORDER BY seq DESC LIMIT 1", String.class)).containsExactly("factors=password+webauthn");

        // removed, it no longer opens anything
        Page list = browser.get("/account/passkeys");
        assertThat(browser.post("/account/passkeys/remove", Map.of("credentialId", key.credentialId())).redirect())
                .isEqualTo("/account/passkeys");
        assertThat(list.body()).contains("外来PCの鍵");
        assertThat(browser.get("/account/passkeys").body()).doesNotContain("外来PCの鍵");
        other.forgetCookies();
        other.get("/login");
        other.post("/login", Map.of("username", "suzuki.passkey", "password", PersonLogin.GOOD_PASSWORD));
        assertThat(other.get("/login/passkey").redirect()).isEqualTo("/login");
    }

    @Test
    void aWrongKeyASpentChallengeAnotherOriginOrAStaleCounterIsRefused() {
        WebSession browser = signedIn("sato.passkey");
        SoftAuthenticator key = new SoftAuthenticator();
        assertThat(register(browser, key, "http://evil.example", "x").body()).as("another origin's registration")
                .contains("id=\"passkey-error\"");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM passkey p JOIN account a ON a.id = p.account_id"
                + " WHERE a.username = 'sato.passkey'", Integer.class)).isZero();
        assertThat(register(browser, key, origin(), "鍵").redirect()).isEqualTo("/account/passkeys?added");

        Page c1 = passwordThenPasskeyPage(browser, "sato.passkey");
        String rpId = attr(c1, "data-rp-id");
        Page wrongKey = answer(browser, new SoftAuthenticator().sign(rpId, origin(), attr(c1, "data-challenge"), 1));
        assertThat(wrongKey.redirect()).isNull();
        assertThat(wrongKey.body()).contains("認証に失敗しました");
        assertThat(browser.get("/").redirect()).isEqualTo("/login");

        Page c2 = passwordThenPasskeyPage(browser, "sato.passkey");
        SoftAuthenticator.Assertion good = key.sign(rpId, origin(), attr(c2, "data-challenge"), 5);
        assertThat(answer(browser, key.sign(rpId, "http://evil.example", attr(c2, "data-challenge"), 5)).redirect())
                .as("signed for another origin").isNull();
        assertThat(answer(browser, good).redirect()).as("the challenge was spent by the refused answer")
                .isEqualTo("/login");

        Page c3 = passwordThenPasskeyPage(browser, "sato.passkey");
        assertThat(answer(browser, key.sign(rpId, origin(), attr(c3, "data-challenge"), 5)).redirect()).isEqualTo("/");
        Page c4 = passwordThenPasskeyPage(browser, "sato.passkey");
        assertThat(answer(browser, key.sign(rpId, origin(), attr(c4, "data-challenge"), 5)).redirect())
                .as("the counter did not move forward: a cloned key").isNull();
        Page c5 = passwordThenPasskeyPage(browser, "sato.passkey");
        assertThat(answer(browser, key.sign(rpId, origin(), attr(c5, "data-challenge"), 6)).redirect()).isEqualTo("/");
    }
}
