import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Gets a clinician's access token for the search benchmark's "access checks on" runs (bench/run-search.sh
 * --as-person). With a system client it first puts every patient on the server in the clinician's care (one active
 * CareTeam per patient naming Practitioner/bench-doctor), so that the person's searches return what the system
 * client's return and the difference is the cost of the checks. Then it does what a person and an app do: the app
 * sends the person to /oauth2/authorize (PKCE), the person logs in for the first time (one-time password → own
 * password → TOTP enrolment), the app exchanges the code for a token. The token is written to --out.
 *
 *   java bench/PersonToken.java --base URL --client-id ID --client-secret S --app-id APP --username U
 *        --one-time-password P --out FILE
 */
public class PersonToken {

    static final String PRACTITIONER = "bench-doctor";
    static final String PASSWORD = "Qz8!pL3#xW6$tN2";  // no part of the user name: the password rules refuse that

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        for (String need : List.of("base", "client-id", "client-secret", "app-id", "username", "one-time-password", "out")) {
            if (!o.containsKey(need)) {
                System.err.println("PersonToken: --" + need + " is required");
                System.exit(2);
            }
        }
        String base = o.get("base").replaceAll("/+$", "");
        HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
        String system = systemToken(http, base, o.get("client-id"), o.get("client-secret"));
        int patients = putAllInCare(http, base, system);
        System.out.println("PersonToken: " + patients + " patients in the care of Practitioner/" + PRACTITIONER);
        String token = login(base, o.get("app-id"), o.get("username"), o.get("one-time-password"), o.get("device"));
        Files.writeString(Path.of(o.get("out")), token);
        System.out.println("PersonToken: token for " + o.get("username") + " written to " + o.get("out"));
    }

    static String systemToken(HttpClient http, String base, String id, String secret) throws Exception {
        String basic = Base64.getEncoder().encodeToString((URLEncoder.encode(id, StandardCharsets.UTF_8) + ":"
                + URLEncoder.encode(secret, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded").header("Authorization", "Basic " + basic)
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")).build(),
                HttpResponse.BodyHandlers.ofString());
        return field(check(r, "system token"), "access_token");
    }

    /** One active CareTeam per patient naming the bench practitioner; returns how many patients. */
    static int putAllInCare(HttpClient http, String base, String token) throws Exception {
        fhir(http, base, token, "PUT", "Practitioner/" + PRACTITIONER,
                "{\"resourceType\":\"Practitioner\",\"id\":\"" + PRACTITIONER + "\",\"name\":[{\"text\":\"Bench Doctor\"}]}");
        List<String> ids = new ArrayList<>();
        String next = base + "/fhir/Patient?_count=500&_elements=id";
        Pattern id = Pattern.compile("\"fullUrl\"\\s*:\\s*\"[^\"]*/Patient/([^\"]+)\"");
        Pattern nextLink = Pattern.compile("\"relation\"\\s*:\\s*\"next\"\\s*,\\s*\"url\"\\s*:\\s*\"([^\"]+)\"");
        while (next != null) {
            String page = check(http.send(HttpRequest.newBuilder(URI.create(next)).header("Authorization", "Bearer " + token)
                    .header("Accept", "application/fhir+json").GET().build(), HttpResponse.BodyHandlers.ofString()), "Patient list");
            Matcher m = id.matcher(page);
            while (m.find()) {
                ids.add(m.group(1));
            }
            Matcher n = nextLink.matcher(page);
            next = n.find() ? n.group(1) : null;
        }
        for (int from = 0; from < ids.size(); from += 100) {
            String entries = ids.subList(from, Math.min(ids.size(), from + 100)).stream().map(p -> "{\"resource\":"
                    + "{\"resourceType\":\"CareTeam\",\"status\":\"active\",\"subject\":{\"reference\":\"Patient/" + p + "\"},"
                    + "\"participant\":[{\"member\":{\"reference\":\"Practitioner/" + PRACTITIONER + "\"}}]},"
                    + "\"request\":{\"method\":\"POST\",\"url\":\"CareTeam\"}}").collect(Collectors.joining(","));
            fhir(http, base, token, "POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + entries + "]}");
        }
        return ids.size();
    }

    static String fhir(HttpClient http, String base, String token, String method, String path, String body) throws Exception {
        return check(http.send(HttpRequest.newBuilder(URI.create(base + "/fhir/" + path))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/fhir+json")
                .method(method, HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()),
                method + " " + path);
    }

    /** The person's first login through the app's authorization request; returns the app's access token. */
    static String login(String base, String appId, String username, String oneTimePassword, String device) throws Exception {
        Browser b = new Browser(base);
        if (device != null) { // the enrolled terminal's credential, as /device/enroll would have left it (BYOD-01)
            java.net.HttpCookie c = new java.net.HttpCookie("KIROKU_DEVICE", device);
            c.setPath("/");
            c.setVersion(0);
            b.cookies.getCookieStore().add(URI.create(base), c);
        }
        String callback = base + "/callback";
        byte[] v = new byte[32];
        new SecureRandom().nextBytes(v);
        String verifier = Base64.getUrlEncoder().withoutPadding().encodeToString(v);
        String challenge = Base64.getUrlEncoder().withoutPadding().encodeToString(
                MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
        b.get("/oauth2/authorize?response_type=code&client_id=" + enc(appId) + "&redirect_uri=" + enc(callback)
                + "&scope=" + enc("openid user/*.rs") + "&state=bench&code_challenge=" + challenge + "&code_challenge_method=S256");
        firstLogin(b, username, oneTimePassword);
        Matcher code = Pattern.compile("[?&]code=([^&]+)").matcher(String.valueOf(b.location));
        if (!code.find()) {
            throw new IllegalStateException("no authorization code: " + b.location);
        }
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=authorization_code&code=" + code.group(1)
                        + "&redirect_uri=" + enc(callback) + "&code_verifier=" + verifier + "&client_id=" + enc(appId)))
                .build(), HttpResponse.BodyHandlers.ofString());
        return field(check(r, "code exchange"), "access_token");
    }

    /**
     * A person's first login in {@code b}: one-time password, own password, TOTP enrolment, then the page the login
     * continues to (the app's authorization request, or the start page); the session cookie stays in {@code b}.
     */
    static void firstLogin(Browser b, String username, String oneTimePassword) throws Exception {
        b.get("/login");
        b.post("/login", Map.of("username", username, "password", oneTimePassword));
        expect(b, "/login/password", "the one-time password was refused");
        b.get("/login/password");
        b.post("/login/password", Map.of("password", PASSWORD, "confirm", PASSWORD));
        expect(b, "/login/totp/enroll", "the new password was refused");
        String enroll = b.get("/login/totp/enroll");
        Matcher secret = Pattern.compile("id=\"totp-secret\">([A-Z2-7 ]+)<").matcher(enroll);
        if (!secret.find()) {
            throw new IllegalStateException("no TOTP enrolment page (is this the person's first login?)");
        }
        String codes = b.post("/login/totp/enroll", Map.of("code", totp(base32(secret.group(1).replace(" ", "")))));
        Matcher next = Pattern.compile("class=\"button\" href=\"([^\"]+)\"").matcher(codes);
        if (!next.find()) {
            throw new IllegalStateException("the login did not finish (no continue link)");
        }
        b.get(next.group(1).replace("&amp;", "&"));
    }

    static void expect(Browser b, String path, String otherwise) {
        if (b.location == null || !b.location.endsWith(path)) {
            throw new IllegalStateException(otherwise + " (sent to " + b.location + ")");
        }
    }

    /** Cookies, no redirects followed, the CSRF token of the last page sent back with each form. */
    static final class Browser {
        final String base;
        final CookieManager cookies = new CookieManager();
        final HttpClient http = HttpClient.newBuilder().cookieHandler(cookies)
                .followRedirects(HttpClient.Redirect.NEVER).build();
        String csrf;
        String location;

        Browser(String base) {
            this.base = base;
        }

        String get(String path) throws Exception {
            return remember(http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Accept", "text/html").GET().build(),
                    HttpResponse.BodyHandlers.ofString()));
        }

        String post(String path, Map<String, String> fields) throws Exception {
            Map<String, String> all = new LinkedHashMap<>(fields);
            all.put("_csrf", csrf);
            String form = all.entrySet().stream().map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
                    .collect(Collectors.joining("&"));
            return remember(http.send(HttpRequest.newBuilder(URI.create(base + path))
                    .header("Content-Type", "application/x-www-form-urlencoded").header("Accept", "text/html")
                    .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString()));
        }

        private String remember(HttpResponse<String> r) {
            Matcher m = Pattern.compile("name=\"_csrf\"[^>]*value=\"([^\"]+)\"").matcher(r.body());
            if (m.find()) {
                csrf = m.group(1);
            }
            location = r.headers().firstValue("Location").orElse(null);
            return r.body();
        }
    }

    static String totp(byte[] secret) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA1");
        mac.init(new SecretKeySpec(secret, "HmacSHA1"));
        byte[] h = mac.doFinal(ByteBuffer.allocate(8).putLong(System.currentTimeMillis() / 30_000).array());
        int o = h[h.length - 1] & 0xf;
        int code = ((h[o] & 0x7f) << 24 | (h[o + 1] & 0xff) << 16 | (h[o + 2] & 0xff) << 8 | (h[o + 3] & 0xff)) % 1_000_000;
        return String.format("%06d", code);
    }

    static byte[] base32(String s) {
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

    static String check(HttpResponse<String> r, String what) {
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException(what + ": HTTP " + r.statusCode() + ": "
                    + r.body().substring(0, Math.min(400, r.body().length())));
        }
        return r.body();
    }

    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]+)\"").matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no " + name + " in " + json);
        }
        return m.group(1);
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
