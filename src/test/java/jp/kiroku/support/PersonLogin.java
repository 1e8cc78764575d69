package jp.kiroku.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import jp.kiroku.support.WebSession.Page;

/**
 * A person's first login through the real pages (own password, TOTP enrolment), and an app's authorization-code
 * flow with PKCE on top of it, for tests that need a person's access token. TOTP and base32 are computed here
 * (RFC 6238, RFC 4648) so that the tests do not trust the code under test.
 */
public final class PersonLogin {

    public static final String GOOD_PASSWORD = "vR7#kT2!mQ9$wL";

    /** What a first login leaves: the enrolled authenticator's secret and the page that showed the recovery codes. */
    public record FirstLogin(byte[] secret, Page codesPage) {
    }

    private PersonLogin() {
    }

    /** The login form, filled in and sent as a person would (the CSRF token from the page): the answer. */
    public static Page passwordStep(WebSession browser, String username, String password) {
        browser.get("/login");
        return browser.post("/login", Map.of("username", username, "password", password));
    }

    /**
     * A new staff member with one role, their kana made from the username (people are told apart by name, kana and
     * birth date); their one-time password.
     */
    public static String staff(jp.kiroku.identity.Accounts accounts, String username, String role) {
        return accounts.create(new jp.kiroku.identity.NewAccount(username, "staff", java.util.List.of(role),
                "試験 " + username, katakana(username), null, java.time.LocalDate.of(1985, 1, 2), role, null, null, null),
                jp.kiroku.audit.Agent.localOperator()).oneTimePassword();
    }

    /** A person signed in to the pages, and their authenticator's secret. */
    public record SignedIn(WebSession browser, byte[] secret) {
        /** The code of the next 30-second step (the login spent the current one). */
        public String nextCode() {
            return totp(secret, System.currentTimeMillis() / 30_000 + 1);
        }
    }

    /** A new staff account (kana from the username) signed in to the pages through its first login. */
    public static SignedIn signedIn(jp.kiroku.identity.Accounts accounts, String root, String username, String role,
                                    String profession, String department) {
        String otp = accounts.create(new jp.kiroku.identity.NewAccount(username, "staff", java.util.List.of(role),
                "試験 " + username, katakana(username), null, java.time.LocalDate.of(1984, 8, 8), profession, department,
                null, null), jp.kiroku.audit.Agent.localOperator()).oneTimePassword();
        WebSession browser = new WebSession(root);
        return new SignedIn(browser, firstLogin(browser, username, otp).secret());
    }

    /** A new account's first login in {@code browser}: own password, then TOTP enrolment. */
    public static FirstLogin firstLogin(WebSession browser, String username, String oneTimePassword) {
        assertThat(passwordStep(browser, username, oneTimePassword).redirect()).isEqualTo("/login/password");
        browser.get("/login/password");
        Page changed = browser.post("/login/password", Map.of("password", GOOD_PASSWORD, "confirm", GOOD_PASSWORD));
        assertThat(changed.redirect()).as(changed.body()).isEqualTo("/login/totp/enroll");
        byte[] secret = secretShownOn(browser.get("/login/totp/enroll"));
        Page done = browser.post("/login/totp/enroll", Map.of("code", totp(secret, System.currentTimeMillis() / 30_000)));
        assertThat(done.status()).isEqualTo(200);
        return new FirstLogin(secret, done);
    }

    public static byte[] secretShownOn(Page enroll) {
        Matcher m = Pattern.compile("id=\"totp-secret\">([A-Z2-7 ]+)<").matcher(enroll.body());
        assertThat(m.find()).as(enroll.body()).isTrue();
        return base32(m.group(1).replace(" ", ""));
    }

    /** RFC 6238 with HMAC-SHA1, 6 digits, for the 30-second step {@code step}. */
    public static String totp(byte[] secret, long step) {
        try {
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(secret, "HmacSHA1"));
            byte[] h = mac.doFinal(ByteBuffer.allocate(8).putLong(step).array());
            int o = h[h.length - 1] & 0xf;
            int code = ((h[o] & 0x7f) << 24 | (h[o + 1] & 0xff) << 16 | (h[o + 2] & 0xff) << 8 | (h[o + 3] & 0xff)) % 1_000_000;
            return String.format("%06d", code);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** RFC 4648 Base32 decoding (a printed or shown TOTP secret). */
    public static byte[] base32(String s) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var out = new java.io.ByteArrayOutputStream();
        int buffer = 0;
        int bits = 0;
        for (char c : s.toCharArray()) {
            buffer = (buffer << 5) | alphabet.indexOf(c);
            bits += 5;
            if (bits >= 8) {
                out.write((buffer >> (bits - 8)) & 0xff);
                bits -= 8;
            }
        }
        return out.toByteArray();
    }

    /** What an app's login leaves: the app's access token and the secret of the authenticator the person enrolled. */
    public record AppLogin(String accessToken, byte[] totpSecret, String tokenResponse) {
        /** A code of the person's authenticator that the server has not seen yet (the next 30-second step). */
        public String nextCode() {
            return totp(totpSecret, System.currentTimeMillis() / 30_000 + 1);
        }
    }

    /** {@link #appLogin}'s access token. */
    public static String appToken(String root, String clientId, String scope, String username, String oneTimePassword) {
        return appLogin(root, clientId, scope, username, oneTimePassword).accessToken();
    }

    /**
     * The person's first login, started by a public app's authorization request (PKCE); returns the access token the
     * app gets. The app must be registered with {@code root + "/callback"} as its redirect URI.
     */
    public static AppLogin appLogin(String root, String clientId, String scope, String username, String oneTimePassword) {
        TokenResponse token = tokenResponse(root, clientId, scope, username, oneTimePassword);
        assertThat(token.status()).as(token.body()).isEqualTo(200);
        Matcher access = Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"").matcher(token.body());
        assertThat(access.find()).isTrue();
        return new AppLogin(access.group(1), token.totpSecret(), token.body());
    }

    /** The token endpoint's answer at the end of {@link #appLogin}'s flow, whatever it is. */
    public record TokenResponse(int status, String body, byte[] totpSecret) {
    }

    public static TokenResponse tokenResponse(String root, String clientId, String scope, String username,
                                              String oneTimePassword) {
        return tokenResponse(new WebSession(root), root, clientId, scope, username, oneTimePassword);
    }

    /** {@link #tokenResponse(String, String, String, String, String)} in a given browser (e.g. an enrolled terminal's). */
    public static TokenResponse tokenResponse(WebSession browser, String root, String clientId, String scope,
                                              String username, String oneTimePassword) {
        try {
            String callback = root + "/callback";
            byte[] v = new byte[32];
            new SecureRandom().nextBytes(v);
            String verifier = Base64.getUrlEncoder().withoutPadding().encodeToString(v);
            String challenge = Base64.getUrlEncoder().withoutPadding().encodeToString(
                    MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
            String authorize = "/oauth2/authorize?response_type=code&client_id=" + clientId + "&redirect_uri=" + enc(callback)
                    + "&scope=" + enc(scope) + "&state=s1&code_challenge=" + challenge + "&code_challenge_method=S256";
            assertThat(browser.get(authorize).redirect()).isEqualTo("/login");
            FirstLogin first = firstLogin(browser, username, oneTimePassword);
            Page codes = first.codesPage();
            Matcher next = Pattern.compile("class=\"button\" href=\"([^\"]+)\"").matcher(codes.body());
            assertThat(next.find()).isTrue();
            Page granted = browser.get(next.group(1).replace("&amp;", "&"));
            Matcher code = Pattern.compile("[?&]code=([^&]+)").matcher(String.valueOf(granted.location()));
            assertThat(code.find()).as(granted.location() + " " + granted.body()).isTrue();
            String form = "grant_type=authorization_code&code=" + code.group(1) + "&redirect_uri=" + enc(callback)
                    + "&code_verifier=" + verifier + "&client_id=" + enc(clientId);
            HttpResponse<String> token = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(root + "/oauth2/token"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
            return new TokenResponse(token.statusCode(), token.body(), first.secret());
        } catch (java.io.IOException | InterruptedException | java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** A katakana spelling of {@code text}: people are told apart by name, kana and birth date (one account each). */
    public static String katakana(String text) {
        StringBuilder out = new StringBuilder();
        text.chars().forEach(c -> out.append((char) ('ア' + (c % 40) * 2)));
        return out.toString();
    }

    /** A new person with the administrator role, and the agent they act as (for services called directly). */
    public static jp.kiroku.audit.Agent administrator(jp.kiroku.identity.Accounts accounts, String username) {
        accounts.create(new jp.kiroku.identity.NewAccount(username, "staff", java.util.List.of("admin"), "試験 " + username,
                "シケン " + katakana(username), null, java.time.LocalDate.of(1981, 2, 2), "system-administrator", null, null,
                null), jp.kiroku.audit.Agent.localOperator());
        return new jp.kiroku.audit.Agent(jp.kiroku.audit.Agent.Kind.USER, username, "127.0.0.1");
    }
}
