package jp.kiroku.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.LocalDate;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.ServerTest;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.WebSession;
import jp.kiroku.support.WebSession.Page;

/**
 * Apps acting for a person (ACL-06, AUTH-07, AUTH-10): OAuth2 authorization code with PKCE after the person's full
 * login, OpenID Connect, SMART user/ scopes limiting the token, refresh tokens that rotate, revocation, introspection,
 * and a disabled account whose tokens stop at once. Real HTTP throughout.
 */
@Tag("ACL-06")
class AppAuthorizationTest extends ServerTest {

    record Http(int status, String body, String location) {
    }

    @Autowired
    Accounts accounts;
    @Autowired
    JdbcTemplate jdbc;

    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    String root;
    String callback;
    WebSession browser;

    @BeforeEach
    void setUp() {
        root = "http://127.0.0.1:" + port;
        callback = root + "/callback";
        browser = new WebSession(root);
    }

    private String newPerson(String username) {
        var issued = accounts.create(new NewAccount(username, "staff", List.of("physician"), "医師 " + username,
                "イシ " + "ア".repeat(username.length()),
                null, LocalDate.of(1970, 1, 2), "physician", "内科", null, "Practitioner/dr-" + username.replace('.', '-')),
                Agent.localOperator());
        return issued.oneTimePassword();
    }

    private static String verifier() {
        byte[] b = new byte[32];
        new java.security.SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private static String challenge(String verifier) throws Exception {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(
                MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
    }

    private String authorizePath(String clientId, String scope, String challenge) {
        return "/oauth2/authorize?response_type=code&client_id=" + clientId + "&redirect_uri=" + enc(callback)
                + "&scope=" + enc(scope) + "&state=st-123" + (challenge == null ? ""
                : "&code_challenge=" + challenge + "&code_challenge_method=S256");
    }

    private static String codeIn(String location) {
        Matcher m = Pattern.compile("[?&]code=([^&]+)").matcher(location);
        assertThat(m.find()).as(location).isTrue();
        assertThat(location).contains("state=st-123");
        return java.net.URLDecoder.decode(m.group(1), StandardCharsets.UTF_8);
    }

    /** The person logs in (first login) when the app sends them to authorize; returns the code the app receives. */
    private String codeAfterFirstLogin(String clientId, String scope, String challenge, String username) {
        Page toLogin = browser.get(authorizePath(clientId, scope, challenge));
        assertThat(toLogin.redirect()).isEqualTo("/login");
        Page codes = PersonLogin.firstLogin(browser, username, newPerson(username)).codesPage();
        Matcher next = Pattern.compile("class=\"button\" href=\"([^\"]+)\"").matcher(codes.body());
        assertThat(next.find()).as("the recovery-codes page continues to the app's request").isTrue();
        String back = next.group(1).replace("&amp;", "&");
        assertThat(back).startsWith("/oauth2/authorize?");
        Page granted = browser.get(back);
        assertThat(granted.location()).as(granted.body()).startsWith(callback + "?");
        return codeIn(granted.location());
    }

    private Http token(Map<String, String> form, String basicUser, String basicSecret) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(root + "/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form(form)));
        if (basicUser != null) {
            b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString((basicUser + ":" + basicSecret)
                    .getBytes(StandardCharsets.UTF_8)));
        }
        return send(b);
    }

    private Http post(String path, Map<String, String> form, String basicUser, String basicSecret) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(root + path)).header("Content-Type", "application/x-www-form-urlencoded")
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString((basicUser + ":" + basicSecret)
                        .getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofString(form(form))));
    }

    private Http send(HttpRequest.Builder b) throws Exception {
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Http(r.statusCode(), r.body(), r.headers().firstValue("Location").orElse(null));
    }

    private static String form(Map<String, String> form) {
        return form.entrySet().stream().map(e -> enc(e.getKey()) + "=" + enc(e.getValue())).collect(Collectors.joining("&"));
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        return m.find() ? m.group(1) : null;
    }

    private static String jwtPayload(String jwt) {
        return new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), StandardCharsets.UTF_8);
    }

    private Map<String, String> codeGrant(String code, String verifier, String clientId) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("grant_type", "authorization_code");
        f.put("code", code);
        f.put("redirect_uri", callback);
        f.put("code_verifier", verifier);
        if (clientId != null) {
            f.put("client_id", clientId);
        }
        return f;
    }

    @Test
    @Tag("AUTH-07")
    void aPublicAppGetsATokenForTheFullyLoggedInPersonOnlyWithPkceAndItsScopesLimitIt() throws Exception {
        var app = clients.createApp("ward viewer", List.of(root + "/callback"), List.of("openid", "fhirUser", "user/Patient.rs"),
                true, Agent.localOperator());
        assertThat(app.secret()).isNull();
        // no PKCE, no code
        Page noPkce = browser.get(authorizePath(app.clientId(), "openid user/Patient.rs", null));
        assertThat(noPkce.location()).contains("error=invalid_request").doesNotContain("code=");

        String verifier = verifier();
        String code = codeAfterFirstLogin(app.clientId(), "openid fhirUser user/Patient.rs", challenge(verifier), "ota.app");
        Map<String, String> grant = codeGrant(code, verifier(), app.clientId());
        Http wrongVerifier = token(grant, null, null);
        assertThat(wrongVerifier.status()).isEqualTo(400);
        assertThat(wrongVerifier.body()).contains("invalid_grant");
        // a code is spent by any attempt: a fresh authorization (the session is signed in now: no login page)
        String verifier2 = verifier();
        Page again = browser.get(authorizePath(app.clientId(), "openid fhirUser user/Patient.rs", challenge(verifier2)));
        String code2 = codeIn(again.location());
        grant = codeGrant(code2, verifier2, app.clientId());
        Http ok = token(grant, null, null);
        assertThat(ok.status()).as(ok.body()).isEqualTo(200);
        assertThat(ok.body()).doesNotContain("refresh_token"); // public apps get none
        String access = field(ok.body(), "access_token");
        String idToken = field(ok.body(), "id_token");
        assertThat(jwtPayload(idToken)).contains("\"sub\":\"ota.app\"").contains("\"fhirUser\":\"" + root
                + "/fhir/Practitioner/dr-ota-app\"");
        assertThat(jwtPayload(access)).contains("\"kiroku_kind\":\"person\"");

        FhirHttp asPerson = anonymous.withToken(access);
        assertThat(asPerson.get("Patient").status()).isEqualTo(200);
        assertThat(asPerson.get("Observation").status()).isEqualTo(403);
        assertThat(asPerson.post("Patient", "{\"resourceType\":\"Patient\"}").status()).isEqualTo(403);
        Map<String, Object> last = jdbc.queryForMap("SELECT agent_kind, agent_id FROM audit_log WHERE action = 'search'"
                + " ORDER BY seq DESC LIMIT 1");
        assertThat(last).containsEntry("agent_kind", "user").containsEntry("agent_id", "ota.app");
    }

    @Test
    @Tag("AUTH-10")
    void aConfidentialAppsRefreshTokensRotateCanBeRevokedAndDieWithTheAccount() throws Exception {
        var app = clients.createApp("clinic server", List.of(root + "/callback"), List.of("openid", "user/*.rs"),
                false, Agent.localOperator());
        String verifier = verifier();
        String code = codeAfterFirstLogin(app.clientId(), "openid user/*.rs", challenge(verifier), "nishi.app");
        Map<String, String> grant = codeGrant(code, verifier, null);
        Http first = token(grant, app.clientId(), app.secret());
        assertThat(first.status()).as(first.body()).isEqualTo(200);
        String refresh1 = field(first.body(), "refresh_token");
        assertThat(refresh1).isNotBlank();

        Http second = token(Map.of("grant_type", "refresh_token", "refresh_token", refresh1), app.clientId(), app.secret());
        assertThat(second.status()).as(second.body()).isEqualTo(200);
        String refresh2 = field(second.body(), "refresh_token");
        assertThat(refresh2).isNotBlank().isNotEqualTo(refresh1);
        Http reused = token(Map.of("grant_type", "refresh_token", "refresh_token", refresh1), app.clientId(), app.secret());
        assertThat(reused.status()).as("a used refresh token is spent").isEqualTo(400);

        String access = field(second.body(), "access_token");
        Http introspect = post("/oauth2/introspect", Map.of("token", access), app.clientId(), app.secret());
        assertThat(introspect.body()).contains("\"active\":true").contains("\"sub\":\"nishi.app\"");
        FhirHttp asPerson = anonymous.withToken(access);
        assertThat(asPerson.get("Patient").status()).isEqualTo(200);

        // revoked: the refresh token no longer works
        assertThat(post("/oauth2/revoke", Map.of("token", refresh2), app.clientId(), app.secret()).status()).isEqualTo(200);
        assertThat(token(Map.of("grant_type", "refresh_token", "refresh_token", refresh2), app.clientId(), app.secret())
                .status()).isEqualTo(400);

        // a new grant, then the person leaves: the access token stops at once, the refresh token too
        String verifier3 = verifier();
        String code3 = codeIn(browser.get(authorizePath(app.clientId(), "openid user/*.rs", challenge(verifier3))).location());
        grant = codeGrant(code3, verifier3, null);
        Http third = token(grant, app.clientId(), app.secret());
        String access3 = field(third.body(), "access_token");
        String refresh3 = field(third.body(), "refresh_token");
        assertThat(anonymous.withToken(access3).get("Patient").status()).isEqualTo(200);
        assertThat(accounts.disable("nishi.app", "left", Agent.localOperator())).isTrue();
        assertThat(anonymous.withToken(access3).get("Patient").status()).isEqualTo(401);
        assertThat(token(Map.of("grant_type", "refresh_token", "refresh_token", refresh3), app.clientId(), app.secret())
                .status()).isEqualTo(400);
    }

    @Test
    void appsAreRegisteredWithUserScopesAndSafeRedirectsOnly() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> clients.createApp("bad", List.of("http://example.com/cb"),
                List.of("system/*.read", "launch/patient"), true, Agent.localOperator()))
                .hasMessageContaining("redirect URIs must be https").hasMessageContaining("takes user/ or patient/ scopes")
                .hasMessageContaining("at least one user/ scope").hasMessageContaining("launch/patient goes with patient/");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> clients.createApp("mixed", List.of("https://app.example.jp/cb"),
                List.of("user/*.rs", "patient/*.rs"), true, Agent.localOperator())).hasMessageContaining("not both");
        var ok = clients.createApp("ok", List.of("https://app.example.jp/cb", "http://127.0.0.1:8765/cb"),
                List.of("user/Observation.rs"), true, Agent.localOperator());
        assertThat(ok.clientId()).startsWith("kiroku-app-");
        // a system client cannot be given user/ scopes either
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> clients.create("sys", List.of("user/*.read"),
                Agent.localOperator())).hasMessageContaining("system clients take system/ scopes only");
    }

    /**
     * A patient's app (SMART standalone launch with patient/ scopes): the token names the patient's own record as its
     * context and reaches nothing else; a staff account cannot get a patient-level token.
     */
    @Test
    @Tag("ACL-07")
    void aPatientsAppGetsTheirOwnRecordAsContextAndNothingElse() {
        String mine = "pat-app-" + java.util.UUID.randomUUID().toString().substring(0, 6);
        String other = mine + "-other";
        for (String id : List.of(mine, other)) {
            assertThat(admin.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"}").status())
                    .isIn(200, 201);
            assertThat(admin.post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":"
                    + "{\"text\":\"BP\"},\"subject\":{\"reference\":\"Patient/" + id + "\"}}").status()).isEqualTo(201);
        }
        var app = clients.createApp("patient portal", List.of(anonymous.root() + "/callback"),
                List.of("openid", "fhirUser", "launch/patient", "patient/*.rs"), true, Agent.localOperator());
        var issued = accounts.create(new NewAccount("kanja.app", "patient", List.of("patient"), "患者 一郎", "カンジャ イチロウ",
                null, LocalDate.of(1970, 1, 2), null, null, null, "Patient/" + mine), Agent.localOperator());
        var login = PersonLogin.appLogin(anonymous.root(), app.clientId(), "openid fhirUser launch/patient patient/*.rs",
                "kanja.app", issued.oneTimePassword());
        assertThat(login.tokenResponse()).contains("\"patient\":\"" + mine + "\"");
        FhirHttp portal = anonymous.withToken(login.accessToken());
        assertThat(portal.get("Patient/" + mine).status()).isEqualTo(200);
        assertThat(portal.get("Patient/" + other).status()).isEqualTo(403);
        assertThat(portal.get("Observation?patient=" + mine).as(org.hl7.fhir.r4.model.Bundle.class).getTotal()).isEqualTo(1);
        assertThat(portal.get("Observation?patient=" + other).as(org.hl7.fhir.r4.model.Bundle.class).getTotal()).isZero();
        assertThat(portal.post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":"
                + "{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/" + mine + "\"}}").status())
                .as("read and search only").isEqualTo(403);

        var staff = accounts.create(new NewAccount("kango.app", "staff", List.of("nurse"), "看護 二郎", "カンゴ ジロウ",
                null, LocalDate.of(1971, 1, 2), "nurse", null, null, null), Agent.localOperator());
        var refused = PersonLogin.tokenResponse(anonymous.root(), app.clientId(), "openid launch/patient patient/*.rs",
                "kango.app", staff.oneTimePassword());
        assertThat(refused.status()).as(refused.body()).isEqualTo(400);
        assertThat(refused.body()).contains("invalid_scope");
    }
}
