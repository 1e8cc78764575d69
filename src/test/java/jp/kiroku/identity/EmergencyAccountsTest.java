package jp.kiroku.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.LocalDate;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import jp.kiroku.audit.Agent;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;
import jp.kiroku.support.WebSession;

/**
 * Emergency accounts (ACL-04): unusable in normal times, enabled only by two different administrators, and after
 * "return to normal" every credential used during the emergency fails.
 */
@Tag("ACL-04")
class EmergencyAccountsTest extends ServerTest {

    @Autowired
    EmergencyAccounts emergency;
    @Autowired
    Accounts accounts;
    @Autowired
    org.springframework.jdbc.core.JdbcTemplate jdbc;

    static final Agent FIRST = new Agent(Agent.Kind.OPERATOR, "admin-a", "host");
    static final Agent SECOND = new Agent(Agent.Kind.OPERATOR, "admin-b", "host");

    private static String attr(String html, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(name + "=\"([^\"]*)\"").matcher(html);
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    private String login(WebSession browser, String user, String password) {
        browser.forgetCookies();
        browser.get("/login");
        return browser.post("/login", Map.of("username", user, "password", password)).redirect();
    }

    @Test
    void anEmergencyAccountNeedsTwoPeopleToEnableAndReturnToNormalMakesItsCredentialsFail() {
        String user = emergency.create(new NewAccount("er.doctor1", "staff", List.of("physician"), "救急 医師一",
                "キュウキュウ イシイチ", null, null, "physician", null, null, null), FIRST);
        assertThat(accounts.find(user).orElseThrow().active()).as("disabled in normal times").isFalse();
        WebSession browser = new WebSession("http://127.0.0.1:" + port);

        assertThatThrownBy(() -> emergency.request(user, "short", FIRST)).hasMessageContaining("say why");
        var activation = emergency.request(user, "earthquake: the EMR login server is down", FIRST);
        assertThatThrownBy(() -> emergency.request(user, "earthquake: the EMR login server is down", SECOND))
                .hasMessageContaining("already has an open activation");
        assertThatThrownBy(() -> emergency.approve(activation.id(), FIRST)).hasMessageContaining("two people are needed");
        assertThat(accounts.find(user).orElseThrow().active()).as("one person is not enough").isFalse();

        Accounts.Issued issued = emergency.approve(activation.id(), SECOND);
        assertThat(accounts.find(user).orElseThrow().active()).isTrue();
        assertThatThrownBy(() -> emergency.approve(activation.id(), SECOND)).hasMessageContaining("approved or ended already");
        // the emergency: the person logs in, sets a password, enrols an authenticator
        PersonLogin.FirstLogin first = PersonLogin.firstLogin(browser, user, issued.oneTimePassword());
        assertThat(first.codesPage().status()).isEqualTo(200);
        var passkeys = browser.get("/account/passkeys").body(); // and registers a passkey
        var registration = new jp.kiroku.support.SoftAuthenticator().register(attr(passkeys, "data-rp-id"),
                "http://127.0.0.1:" + port, attr(passkeys, "data-challenge"));
        assertThat(browser.post("/account/passkeys", Map.of("clientDataJSON", registration.clientDataJSON(),
                "attestationObject", registration.attestationObject(), "name", "key")).redirect())
                .isEqualTo("/account/passkeys?added");
        assertThat(login(browser, user, PersonLogin.GOOD_PASSWORD)).isEqualTo("/login/totp");

        assertThat(emergency.returnToNormal(FIRST)).containsExactly(user);
        assertThat(accounts.find(user).orElseThrow().active()).isFalse();
        // a refused login shows the form again (no redirect onwards)
        assertThat(login(browser, user, PersonLogin.GOOD_PASSWORD)).as("the password used in the emergency fails").isNull();
        assertThat(login(browser, user, issued.oneTimePassword())).isNull();
        assertThat(accounts.find(user).orElseThrow().totpEnrolled()).as("its authenticator is forgotten").isFalse();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM passkey p JOIN account a ON a.id = p.account_id"
                + " WHERE a.username = ?", Integer.class, user)).as("and its passkeys").isZero();
        assertThat(emergency.activations()).anyMatch(a -> a.id().equals(activation.id()) && a.ended());
        // an ordinary account cannot be enabled this way
        accounts.create(new NewAccount("plain.doctor", "staff", List.of("physician"), "普通 医師", "フツウ イシ", null, null,
                "physician", null, null, null), FIRST);
        assertThatThrownBy(() -> emergency.request("plain.doctor", "earthquake: the EMR login server is down", FIRST))
                .hasMessageContaining("is not an emergency account");
    }
}
