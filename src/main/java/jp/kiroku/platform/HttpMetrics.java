package jp.kiroku.platform;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.stream.Collectors;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.servlet.HandlerMapping;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Times every HTTP request as {@code http.server.requests} (method, uri, status, outcome), with the URI as a template
 * only: a path never becomes a tag as sent, because FHIR paths carry ids ({@code /fhir/Patient/123}) and could carry
 * anything a caller typed. Spring MVC requests use the handler's pattern ({@code /admin/incidents/{id}}); FHIR requests
 * are reduced to the interaction's shape ({@code /fhir/Patient/{id}}, {@code /fhir/Observation/_search},
 * {@code /fhir/Patient/{id}/$everything}) with R4 resource type names and known operation names only; everything else is
 * a fixed prefix ({@code /oauth2/token}, {@code /console/**}) or {@code UNKNOWN}. Spring's own request observation
 * stays off (application.properties): it cannot see HAPI's paths and costs more per request.
 */
final class HttpMetrics extends OncePerRequestFilter {

    static final String NAME = "http.server.requests";

    /** R4 resource type names: the only type names that reach a tag. */
    private static final Set<String> TYPES = Arrays.stream(org.hl7.fhir.r4.model.ResourceType.values())
            .map(Enum::name).collect(Collectors.toUnmodifiableSet());

    /** Operations Kiroku and HAPI serve; any other name is {@code $other}. */
    private static final Set<String> OPERATIONS = Set.of("$everything", "$unapproved", "$confirm", "$clins-import",
            "$clins-export", "$break-glass", "$validate", "$meta", "$meta-add", "$meta-delete", "$document", "$summary",
            "$lastn", "$expand", "$lookup", "$translate", "$validate-code", "$process-message", "$export");

    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");

    /** Fixed paths outside Spring MVC and FHIR (Spring Security's and the authorization server's filters answer them). */
    private static final Set<String> FIXED = Set.of("/", "/oauth2/token", "/oauth2/authorize", "/oauth2/jwks",
            "/oauth2/introspect", "/oauth2/revoke", "/userinfo", "/connect/register", "/login", "/logout",
            "/actuator/health", "/actuator/health/liveness", "/actuator/health/readiness", "/actuator/prometheus",
            "/admin/openapi.json");

    /** First path segments whose other paths are counted together as {@code /<segment>/**}. */
    private static final Set<String> PREFIXES = Set.of("admin", "console", "patients", "my", "worklist", "rights",
            "account", "device", "exchange", "assets", "login", "logout", "oauth2", ".well-known", "actuator", "print");

    /** Latency buckets (seconds) for histograms: enough to see the brief's targets, few series per URI. */
    private static final Duration[] BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
            Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)};

    private final MeterRegistry registry;
    private final ConcurrentMap<String, Timer> timers = new ConcurrentHashMap<>();

    HttpMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        long start = System.nanoTime();
        try {
            chain.doFilter(request, response);
        } finally {
            int status = response.getStatus();
            String method = METHODS.contains(request.getMethod()) ? request.getMethod() : "OTHER";
            String uri = template(request, status);
            String key = method + ' ' + status + ' ' + uri;
            timers.computeIfAbsent(key, k -> Timer.builder(NAME)
                    .description("HTTP requests by method, URI template, status and outcome")
                    .tag("method", method).tag("uri", uri).tag("status", Integer.toString(status))
                    .tag("outcome", outcome(status)).serviceLevelObjectives(BUCKETS).register(registry))
                    .record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
        }
    }

    @Override
    protected boolean shouldNotFilterAsyncDispatch() {
        return true;
    }

    @Override
    protected boolean shouldNotFilterErrorDispatch() {
        return true;
    }

    static String outcome(int status) {
        return switch (status / 100) {
            case 1 -> "INFORMATIONAL";
            case 2 -> "SUCCESS";
            case 3 -> "REDIRECTION";
            case 4 -> "CLIENT_ERROR";
            case 5 -> "SERVER_ERROR";
            default -> "UNKNOWN";
        };
    }

    private static String template(HttpServletRequest request, int status) {
        String path = request.getRequestURI().substring(request.getContextPath().length());
        if (path.equals("/fhir") || path.startsWith("/fhir/")) {
            return fhir(path.substring(5));
        }
        if (request.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE) instanceof String pattern
                && !pattern.equals("/**")) {
            return pattern;
        }
        return fixed(path, status);
    }

    /** A path outside FHIR and Spring MVC's patterns. */
    static String fixed(String path, int status) {
        if (FIXED.contains(path)) {
            return path;
        }
        int slash = path.indexOf('/', 1);
        String first = slash < 0 ? path.substring(1) : path.substring(1, slash);
        if (PREFIXES.contains(first)) {
            return "/" + first + "/**";
        }
        if (status == 404) {
            return "NOT_FOUND";
        }
        return status / 100 == 3 ? "REDIRECTION" : "UNKNOWN";
    }

    /** The template of a FHIR path ({@code rest} is what follows {@code /fhir}). */
    static String fhir(String rest) {
        String[] s = Arrays.stream(rest.split("/")).filter(x -> !x.isEmpty()).toArray(String[]::new);
        if (s.length == 0) {
            return "/fhir";
        }
        if (s.length == 1) {
            return switch (s[0]) {
                case "metadata", "_history", "_search" -> "/fhir/" + s[0];
                default -> "/fhir/" + (s[0].startsWith("$") ? operation(s[0]) : type(s[0]));
            };
        }
        if (s[0].equals(".well-known")) {
            return "/fhir/.well-known/**";
        }
        String type = "/fhir/" + type(s[0]);
        if (s.length == 2) {
            return switch (s[1]) {
                case "_search", "_history" -> type + "/" + s[1];
                default -> type + "/" + (s[1].startsWith("$") ? operation(s[1]) : "{id}");
            };
        }
        String id = type + "/{id}/";
        if (s.length == 3) {
            if (s[2].equals("_history")) {
                return id + "_history";
            }
            return id + (s[2].startsWith("$") ? operation(s[2]) : type(s[2]));
        }
        if (s.length == 4 && s[2].equals("_history")) {
            return id + "_history/{vid}";
        }
        if (s.length == 4 && s[3].equals("_search")) {
            return id + type(s[2]) + "/_search";
        }
        return "/fhir/**";
    }

    private static String type(String segment) {
        return TYPES.contains(segment) ? segment : "{type}";
    }

    private static String operation(String segment) {
        return OPERATIONS.contains(segment) ? segment : "$other";
    }
}
