package jp.kiroku.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import jp.kiroku.ledger.Ledgers;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;
import jp.kiroku.support.WebSession;

/**
 * Observability (issue 13, item 2): Prometheus metrics after real traffic, with URI templates and no patient data;
 * who may scrape them; liveness and readiness probes; the admin API's OpenAPI description; no PHI, password or token in
 * the server's log output.
 */
@ExtendWith(OutputCaptureExtension.class)
class ObservabilityTest extends ServerTest {

    @Autowired
    Ledgers ledgers;

    @Autowired
    jp.kiroku.incidents.Detection detection;

    @Autowired
    @Qualifier("requestMappingHandlerMapping")
    RequestMappingHandlerMapping mappings;

    private String root() {
        return anonymous.root();
    }

    private FhirHttp scraper() {
        return clientWith("system/metrics.read");
    }

    @Test
    @Tag("LOG-01")
    void metricsArePresentAfterTrafficAndNameNoPatient(CapturedOutput output) {
        String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String id = "obs-" + suffix;
        String family = "観測" + suffix;
        String mrn = "MRN" + suffix;
        String password = "Obs-Password-" + suffix + "!";
        String token = "obs-token-" + suffix;
        String patient = "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":"
                + "\"urn:oid:1.2.392.100495.20.3.51.11311234567\",\"value\":\"" + mrn + "\"}],\"name\":[{\"family\":\""
                + family + "\",\"given\":[\"太郎\"]}]}";
        assertThat(admin.put("Patient/" + id, patient).status()).isEqualTo(201);
        assertThat(admin.post("Patient", patient.replace("\"id\":\"" + id + "\",", "")).status()).isEqualTo(201);
        assertThat(admin.get("Patient/" + id).status()).isEqualTo(200);
        assertThat(admin.get("Patient?family=" + URLEncoder.encode(family, StandardCharsets.UTF_8) + "&identifier=" + mrn
                + "&password=" + password + "&access_token=" + token).status()).isIn(200, 400);
        assertThat(admin.get("Patient/" + id + "/_history/1").status()).isEqualTo(200);
        assertThat(admin.get("Patient/" + id + "/$everything").status()).isEqualTo(200);
        assertThat(admin.get("Patient/" + mrn).status()).isEqualTo(404);
        assertThat(anonymous.get("Patient?name=" + URLEncoder.encode(family, StandardCharsets.UTF_8)).status())
                .isEqualTo(401);
        // a made-up type in the path ("/fhir/<a name>/<an id>") must not become a tag either
        admin.get(URLEncoder.encode(family, StandardCharsets.UTF_8) + "/" + mrn);
        // a failed login by a person: counted, its password nowhere
        PersonLogin.passwordStep(new WebSession(root()), "obs-" + suffix, password);
        // a request line with raw UTF-8 in its query: Tomcat refuses it (400) and must not log the request target
        assertThat(rawRequest("GET /fhir/Patient?name=" + family + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Connection: close\r\n\r\n")).startsWith("HTTP/1.1 400");
        ledgers.sequenceNow();

        FhirHttp.Response scrape = scraper().get(root() + "/actuator/prometheus");
        assertThat(scrape.status()).isEqualTo(200);
        String text = scrape.body();
        assertThat(series(text, "http_server_requests_seconds_count"))
                .anyMatch(s -> s.contains("uri=\"/fhir/Patient/{id}\"") && s.contains("method=\"GET\"")
                        && s.contains("status=\"200\""))
                .anyMatch(s -> s.contains("uri=\"/fhir/Patient/{id}\"") && s.contains("method=\"PUT\""))
                .anyMatch(s -> s.contains("uri=\"/fhir/Patient\"") && s.contains("method=\"POST\""))
                .anyMatch(s -> s.contains("uri=\"/fhir/Patient\"") && s.contains("method=\"GET\"")
                        && s.contains("status=\"401\""))
                .anyMatch(s -> s.contains("uri=\"/fhir/Patient/{id}/_history/{vid}\""))
                .anyMatch(s -> s.contains("uri=\"/fhir/Patient/{id}/$everything\""))
                .anyMatch(s -> s.contains("uri=\"/fhir/{type}/{id}\""))
                .anyMatch(s -> s.contains("uri=\"/oauth2/token\""))
                .allMatch(s -> !s.contains("/fhir/") || s.contains("uri=\"/fhir"));
        assertThat(text).contains("http_server_requests_seconds_bucket{");
        assertThat(value(text, "kiroku_ledger_batch_size_leaves_count", "log=\"kiroku/record\"")).isPositive();
        assertThat(value(text, "kiroku_ledger_batch_size_leaves_count", "log=\"kiroku/audit\"")).isPositive();
        assertThat(value(text, "kiroku_ledger_pending", "log=\"kiroku/record\"")).isNotNegative();
        assertThat(value(text, "kiroku_ledger_entries", "log=\"kiroku/record\"")).isPositive();
        assertThat(text).containsPattern("(?m)^kiroku_backup_age_seconds\\{[^}]*} ");
        assertThat(series(text, "kiroku_alerts_open")).anyMatch(s -> s.contains("rule=\"brute-force\""));
        assertThat(series(text, "kiroku_alerts_raised_total")).anyMatch(s -> s.contains("rule=\"break-glass\""));
        assertThat(value(text, "kiroku_audit_events_total", "action=\"read\"")).isPositive();
        assertThat(value(text, "kiroku_login_failures_total", "outcome=\"failed\"")).isPositive();
        // no patient, no search value, no secret anywhere in the scrape
        assertThat(text).doesNotContain(id).doesNotContain(suffix).doesNotContain(family).doesNotContain(mrn)
                .doesNotContain("観測").doesNotContain(password).doesNotContain(token);

        // nor in what the server logged while serving all that
        assertThat(output.getAll()).doesNotContain(suffix).doesNotContain(family).doesNotContain(password)
                .doesNotContain(token).doesNotContain(ADMIN_SECRET);
    }

    @Test
    void anAlertIsCountedByItsRule() {
        double before = value(scraper().get(root() + "/actuator/prometheus").body(), "kiroku_alerts_raised_total",
                "rule=\"brute-force\"");
        String account = "obs-brute-" + UUID.randomUUID().toString().substring(0, 8);
        for (int i = 0; i < 10; i++) { // the brute-force rule's threshold (10 failed logins for one account in 10 min)
            PersonLogin.passwordStep(new WebSession(root()), account, "wrong-" + i);
        }
        detection.scan(); // or the server's own scan got there first: either way this process raised it
        String text = scraper().get(root() + "/actuator/prometheus").body();
        assertThat(value(text, "kiroku_alerts_raised_total", "rule=\"brute-force\"")).isGreaterThan(before);
        assertThat(value(text, "kiroku_login_failures_total", "outcome=")).isGreaterThanOrEqualTo(10);
        assertThat(text).doesNotContain(account); // the alert's subject is no tag
    }

    @Test
    void metricsNeedTheirOwnScope() {
        assertThat(anonymous.get(root() + "/actuator/prometheus").status()).isEqualTo(401);
        assertThat(admin.get(root() + "/actuator/prometheus").status()).as("system/*.* is not the metrics scope")
                .isEqualTo(403);
        assertThat(clientWith("system/Patient.read").get(root() + "/actuator/prometheus").status()).isEqualTo(403);
        // the metrics scope reads no record, and other actuator endpoints stay closed to it
        FhirHttp scraper = scraper();
        assertThat(scraper.get("Patient").status()).isEqualTo(403);
        assertThat(scraper.get(root() + "/actuator/metrics").status()).isIn(403, 404);
        assertThat(anonymous.get(root() + "/actuator/env").status()).isIn(401, 403, 404);
    }

    @Test
    void livenessAndReadinessArePublicAndSayOnlyTheStatus() {
        for (String probe : List.of("liveness", "readiness")) {
            FhirHttp.Response r = anonymous.get(root() + "/actuator/health/" + probe);
            assertThat(r.status()).as(probe).isEqualTo(200);
            assertThat(r.body().replaceAll("\\s", "")).as(probe).isEqualTo("{\"status\":\"UP\"}");
        }
    }

    @Test
    void theOpenApiDescriptionListsEveryAdminEndpoint() throws Exception {
        assertThat(anonymous.get(root() + "/admin/openapi.json").status()).isEqualTo(401);
        FhirHttp.Response r = admin.get(root() + "/admin/openapi.json");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode doc = new ObjectMapper().readTree(r.body());
        assertThat(doc.path("openapi").asText()).startsWith("3.");
        assertThat(doc.path("info").path("title").asText()).isEqualTo("Kiroku admin API");
        assertThat(doc.path("components").path("securitySchemes").path("bearer").path("scheme").asText())
                .isEqualTo("bearer");
        JsonNode paths = doc.path("paths");
        List<String> described = new ArrayList<>();
        paths.fieldNames().forEachRemaining(described::add);
        assertThat(described).contains("/admin/ledger/verify", "/admin/incidents/{id}", "/admin/alerts",
                "/admin/break-glass").allMatch(p -> p.startsWith("/admin/"));
        List<String> served = new ArrayList<>();
        mappings.getHandlerMethods().forEach((info, method) -> info.getPatternValues().stream()
                .filter(p -> p.startsWith("/admin/") && !p.startsWith("/admin/openapi.json")).forEach(p -> served.add(p)));
        assertThat(served).isNotEmpty();
        assertThat(described).containsAll(served);
    }

    private String rawRequest(String request) {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The lines of a Prometheus scrape for {@code name} (its labels and value). */
    static List<String> series(String scrape, String name) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{.*$").matcher(scrape);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    /** The sum of the values of {@code name}'s series whose labels contain {@code label}. */
    static double value(String scrape, String name, String label) {
        List<String> lines = series(scrape, name).stream().filter(s -> s.contains(label)).toList();
        assertThat(lines).as(name + " " + label).isNotEmpty();
        return lines.stream().mapToDouble(s -> Double.parseDouble(s.substring(s.lastIndexOf(' ') + 1))).sum();
    }
}
