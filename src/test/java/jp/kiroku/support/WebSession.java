package jp.kiroku.support;

import java.io.IOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A person at a browser, without the browser: real HTTP with a cookie jar, redirects not followed (so that tests see
 * where each step sends them), and the CSRF token of the last page sent back with each form, as a browser would.
 */
public final class WebSession {

    public record Page(int status, String body, String location) {
        /** The path a redirect points to, without scheme and host. */
        public String redirect() {
            return location == null ? null : URI.create(location).getRawPath()
                    + (URI.create(location).getRawQuery() == null ? "" : "?" + URI.create(location).getRawQuery());
        }
    }

    private static final Pattern CSRF = Pattern.compile("name=\"_csrf\"[^>]*value=\"([^\"]+)\"");

    private final String root;
    private final CookieManager cookies = new CookieManager();
    private final HttpClient http;
    private String csrf;

    public WebSession(String root) {
        this(root, null);
    }

    /** A browser for an https root, with its own TLS settings (e.g. a client certificate). */
    public WebSession(String root, javax.net.ssl.SSLContext tls) {
        this.root = root;
        HttpClient.Builder b = HttpClient.newBuilder().cookieHandler(cookies).followRedirects(HttpClient.Redirect.NEVER);
        this.http = (tls == null ? b : b.sslContext(tls)).build();
    }

    public Page get(String path) {
        return remember(send(HttpRequest.newBuilder(URI.create(root + path)).header("Accept-Language", "ja")
                .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8").GET()));
    }

    /** The bytes a GET answers (a PDF), with the status; the page's CSRF token is not read from it. */
    public HttpResponse<byte[]> download(String path) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(root + path)).header("Accept-Language", "ja").GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Posts a form with the CSRF token of the last page (fetch the form first, as a person would). */
    public Page post(String path, Map<String, String> fields) {
        Map<String, String> all = new LinkedHashMap<>(fields);
        if (csrf != null) {
            all.put("_csrf", csrf);
        }
        return postRaw(path, all);
    }

    /** Posts exactly these fields (no CSRF token unless given). */
    public Page postRaw(String path, Map<String, String> fields) {
        String form = fields.entrySet().stream().map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
                .collect(Collectors.joining("&"));
        return remember(send(HttpRequest.newBuilder(URI.create(root + path)).header("Accept-Language", "ja")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form))));
    }

    /** Follows redirects from {@code page} with GETs, as a browser would, and returns the final page. */
    public Page follow(Page page) {
        Page p = page;
        for (int i = 0; i < 10 && p.location() != null; i++) {
            p = get(p.redirect());
        }
        return p;
    }

    /** The value of the session cookie, or null. */
    public String sessionCookie() {
        return cookies.getCookieStore().getCookies().stream().filter(c -> c.getName().equals("SESSION"))
                .map(java.net.HttpCookie::getValue).findFirst().orElse(null);
    }

    /** Sets a cookie as an earlier response would have (e.g. a terminal's device credential). */
    public void setCookie(String name, String value) {
        java.net.HttpCookie c = new java.net.HttpCookie(name, value);
        c.setPath("/");
        c.setVersion(0);
        cookies.getCookieStore().add(URI.create(root), c);
    }

    public void forgetCookies() {
        cookies.getCookieStore().removeAll();
        csrf = null;
    }

    private Page remember(Page p) {
        Matcher m = CSRF.matcher(p.body());
        if (m.find()) {
            csrf = m.group(1);
        }
        return p;
    }

    private Page send(HttpRequest.Builder b) {
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return new Page(r.statusCode(), r.body(), r.headers().firstValue("Location").orElse(null));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
