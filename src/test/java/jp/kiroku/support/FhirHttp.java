package jp.kiroku.support;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

import org.hl7.fhir.instance.model.api.IBaseResource;

import ca.uhn.fhir.context.FhirContext;

/** A small real-HTTP FHIR client for tests: token from /oauth2/token, then JSON requests to /fhir. */
public final class FhirHttp {

    public record Response(int status, String body, java.net.http.HttpHeaders headers) {
        public String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        public <T extends IBaseResource> T as(Class<T> type) {
            return CTX.newJsonParser().parseResource(type, body);
        }
    }

    public static final FhirContext CTX = FhirContext.forR4Cached();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final String root;
    private String token;

    public FhirHttp(String root) {
        this.root = root;
    }

    public static String fetchToken(String root, String clientId, String secret, String scope) {
        String form = "grant_type=client_credentials" + (scope == null ? "" : "&scope=" + java.net.URLEncoder.encode(scope, StandardCharsets.UTF_8));
        Response r = send(HttpRequest.newBuilder(URI.create(root + "/oauth2/token"))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(StandardCharsets.UTF_8)))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)));
        if (r.status() != 200) {
            throw new IllegalStateException("token request failed: " + r.status() + " " + r.body());
        }
        String body = r.body();
        int i = body.indexOf("\"access_token\":\"") + 16;
        return body.substring(i, body.indexOf('"', i));
    }

    public FhirHttp withToken(String token) {
        FhirHttp c = new FhirHttp(root);
        c.token = token;
        return c;
    }

    public String root() {
        return root;
    }

    public Response get(String path) {
        return get(path, Map.of());
    }

    public Response get(String path, Map<String, String> headers) {
        return send(request(path, headers).GET());
    }

    public Response post(String path, String body) {
        return post(path, body, Map.of());
    }

    public Response post(String path, String body, Map<String, String> headers) {
        return send(request(path, headers).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    public Response put(String path, String body) {
        return put(path, body, Map.of());
    }

    public Response put(String path, String body, Map<String, String> headers) {
        return send(request(path, headers).header("Content-Type", "application/fhir+json")
                .PUT(HttpRequest.BodyPublishers.ofString(body)));
    }

    public Response delete(String path) {
        return delete(path, Map.of());
    }

    public Response delete(String path, Map<String, String> headers) {
        return send(request(path, headers).DELETE());
    }

    public Response send(String method, String path, String contentType, String body) {
        return send(request(path, Map.of()).header("Content-Type", contentType)
                .method(method, HttpRequest.BodyPublishers.ofString(body)));
    }

    public static String json(IBaseResource r) {
        return CTX.newJsonParser().encodeResourceToString(r);
    }

    private HttpRequest.Builder request(String path, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(path.startsWith("http") ? path : root + "/fhir/" + path.replaceFirst("^/", "")));
        if (path.startsWith("http") ? path.contains("/fhir/") : true) {
            b.header("Accept", "application/fhir+json");
        }
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        headers.forEach(b::header);
        return b;
    }

    private static Response send(HttpRequest.Builder b) {
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return new Response(r.statusCode(), r.body(), r.headers());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
