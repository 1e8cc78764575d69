package jp.kiroku.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.beans.factory.annotation.Autowired;

import jp.kiroku.audit.Agent;
import jp.kiroku.support.ServerTest;

/**
 * A person's first login in a real browser (Debian's chromium, headless): the issued password, the forced change, the
 * authenticator enrolment with the QR page, the recovery codes, then the home page (AUTH-05, AUTH-07).
 */
class FirstLoginBrowserTest extends ServerTest {

    @Autowired
    Accounts accounts;

    WebDriver browser;
    /** The browser's temporary files; JUnit removes them after {@link #close()}. */
    @TempDir
    java.nio.file.Path tmp;

    @BeforeEach
    void chromium() {
        browser = jp.kiroku.support.Chromium.start(1024, 900, tmp);
    }

    @AfterEach
    void close() {
        if (browser != null) {
            browser.quit();
        }
    }

    private void type(String id, String text) {
        var field = browser.findElement(By.id(id));
        field.clear();
        field.sendKeys(text);
    }

    private void waitForPath(String path) {
        new WebDriverWait(browser, Duration.ofSeconds(10)).until(ExpectedConditions.urlMatches(
                "^http://(127\\.0\\.0\\.1|localhost):" + port + java.util.regex.Pattern.quote(path) + "$"));
    }

    /** The element once the page that has it is there (a click's page load is not waited for by the driver). */
    private org.openqa.selenium.WebElement waitFor(By by) {
        return new WebDriverWait(browser, Duration.ofSeconds(10)).until(ExpectedConditions.presenceOfElementLocated(by));
    }

    @Test
    @Tag("AUTH-05")
    @Tag("AUTH-07")
    void firstLoginChangesThePasswordEnrolsAnAuthenticatorAndReachesHome() {
        var issued = accounts.create(new NewAccount("okada.browser", "staff", List.of("physician"), "岡田 直樹",
                "オカダ ナオキ", "Okada Naoki", LocalDate.of(1979, 3, 3), "physician", "内科", null, null),
                Agent.localOperator());
        String base = "http://127.0.0.1:" + port;
        browser.get(base + "/");
        waitForPath("/login");
        assertThat(browser.findElement(By.tagName("html")).getAttribute("lang")).isEqualTo("ja");
        assertThat(browser.findElement(By.tagName("h1")).getText()).isEqualTo("ログイン");

        type("username", "okada.browser");
        type("password", issued.oneTimePassword());
        browser.findElement(By.cssSelector("button[type=submit]")).click();
        waitForPath("/login/password");
        // a guessable password is refused with the reason, in Japanese
        type("password", "Okada1979!");
        type("confirm", "Okada1979!");
        browser.findElement(By.cssSelector("button[type=submit]")).click();
        assertThat(waitFor(By.id("password-problems")).getText()).isNotBlank();
        type("password", PeopleLoginTest.GOOD_PASSWORD);
        type("confirm", PeopleLoginTest.GOOD_PASSWORD);
        browser.findElement(By.cssSelector("button[type=submit]")).click();
        waitForPath("/login/totp/enroll");

        assertThat(browser.findElement(By.cssSelector("figure.qr svg")).isDisplayed()).isTrue();
        String secret = browser.findElement(By.id("totp-secret")).getText().replace(" ", "");
        byte[] key = new org.apache.commons.codec.binary.Base32().decode(secret);
        Totp totp = new Totp(Clock.systemUTC());
        type("code", totp.code(key, totp.currentStep()));
        browser.findElement(By.cssSelector("button[type=submit]")).click();
        waitFor(By.id("recovery-codes"));
        assertThat(browser.findElements(By.cssSelector("#recovery-codes li"))).hasSize(10);
        browser.findElement(By.cssSelector("a.button")).click();
        waitForPath("/");
        assertThat(waitFor(By.id("signed-in-as")).getText()).contains("岡田 直樹").contains("okada.browser");

        // English on request, remembered
        browser.get(base + "/?lang=en");
        assertThat(browser.findElement(By.id("signed-in-as")).getText()).startsWith("Logged in as");
        browser.findElement(By.cssSelector("form[action='/logout'] button")).click();
        waitForPath("/login?logout");
        assertThat(new WebDriverWait(browser, Duration.ofSeconds(10))
                .until(ExpectedConditions.textToBe(By.tagName("h1"), "Log in"))).isTrue();
    }

    /**
     * A passkey registered and used in the browser (the page's script and Chrome's WebAuthn, with Chrome's virtual
     * authenticator standing in for a security key). The host is "localhost": browsers refuse an IP address as the
     * relying party.
     */
    @Test
    @Tag("AUTH-07")
    void aPasskeyRegisteredInTheBrowserReplacesTheCodeAtTheNextLogin() {
        var issued = accounts.create(new NewAccount("kudo.browser", "staff", List.of("nurse"), "工藤 明美",
                "クドウ アケミ", null, LocalDate.of(1988, 8, 8), "nurse", "病棟", null, null), Agent.localOperator());
        var authenticator = ((org.openqa.selenium.virtualauthenticator.HasVirtualAuthenticator) browser)
                .addVirtualAuthenticator(new org.openqa.selenium.virtualauthenticator.VirtualAuthenticatorOptions()
                        .setProtocol(org.openqa.selenium.virtualauthenticator.VirtualAuthenticatorOptions.Protocol.CTAP2)
                        .setTransport(org.openqa.selenium.virtualauthenticator.VirtualAuthenticatorOptions.Transport.USB)
                        .setHasUserVerification(true).setIsUserVerified(true).setIsUserConsenting(true));
        String base = "http://localhost:" + port;
        browser.get(base + "/login");
        type("username", "kudo.browser");
        type("password", issued.oneTimePassword());
        browser.findElement(By.cssSelector("button[type=submit]")).click();
        waitForPath("/login/password");
        type("password", PeopleLoginTest.GOOD_PASSWORD);
        type("confirm", PeopleLoginTest.GOOD_PASSWORD);
        browser.findElement(By.cssSelector("button[type=submit]")).click();
        waitForPath("/login/totp/enroll");
        byte[] key = new org.apache.commons.codec.binary.Base32().decode(
                browser.findElement(By.id("totp-secret")).getText().replace(" ", ""));
        Totp totp = new Totp(Clock.systemUTC());
        type("code", totp.code(key, totp.currentStep()));
        browser.findElement(By.cssSelector("button[type=submit]")).click();
        waitFor(By.id("recovery-codes"));
        browser.findElement(By.cssSelector("a.button")).click();
        waitForPath("/");

        waitFor(By.id("manage-passkeys")).click();
        waitForPath("/account/passkeys");
        type("passkey-label", "病棟PC");
        browser.findElement(By.cssSelector("#passkey-register button[type=submit]")).click();
        waitForPath("/account/passkeys?added");
        assertThat(waitFor(By.cssSelector("td.passkey-name")).getText()).isEqualTo("病棟PC");
        assertThat(authenticator.getCredentials()).hasSize(1);

        browser.findElement(By.linkText("ホームへ")).click();
        waitForPath("/");
        browser.findElement(By.cssSelector("form[action='/logout'] button")).click();
        waitForPath("/login?logout");
        type("username", "kudo.browser");
        type("password", PeopleLoginTest.GOOD_PASSWORD);
        browser.findElement(By.cssSelector("button[type=submit]")).click();
        waitForPath("/login/totp");
        browser.findElement(By.id("use-passkey")).click();
        waitForPath("/login/passkey");
        browser.findElement(By.cssSelector("#passkey-login button[type=submit]")).click();
        waitForPath("/");
        assertThat(waitFor(By.id("signed-in-as")).getText()).contains("kudo.browser");
        assertThat(authenticator.getCredentials().get(0).getSignCount()).isPositive();
    }
}
