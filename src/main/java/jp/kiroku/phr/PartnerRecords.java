package jp.kiroku.phr;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.hl7.fhir.r4.model.Bundle;
import org.springframework.stereotype.Service;

import ca.uhn.fhir.context.FhirContext;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;

/**
 * The receiving side of sharing with another Kiroku (issue 12, item 4): reads what a patient has shared with this
 * facility from the source installation's FHIR API with the partner client it registered for us ({@code kiroku client
 * create-partner} there), and audits the fetch here — the source audits every read of its own, so the access is on
 * record on both sides. The source decides what is shared (the patient's consent); this side only asks.
 */
@Service
public class PartnerRecords {

    /** Where the records are and the credentials the source issued to this facility. */
    public record Source(URI base, String clientId, String secret) {
        public Source {
            boolean loopback = base != null && List.of("127.0.0.1", "localhost", "[::1]").contains(base.getHost());
            if (base == null || base.getHost() == null || !("https".equals(base.getScheme())
                    || "http".equals(base.getScheme()) && loopback)) {
                throw new IllegalArgumentException("the source's address must be https (plain http only on loopback)");
            }
            base = URI.create(base.toString().endsWith("/") ? base.toString() : base + "/");
        }
    }

    /** What was fetched: every shared resource of the patient at the source, as one collection Bundle. */
    public record Fetched(String sourcePatient, Bundle records) {
    }

    /** The largest page the source serves; pages are followed by their next links. */
    private static final int PAGE = 1000;
    private static final int MAX_PAGES = 1000;

    private final FhirContext ctx;
    private final AuditTrail audit;
    private final jp.kiroku.fhir.Interactions fhir;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    PartnerRecords(FhirContext ctx, AuditTrail audit, jp.kiroku.fhir.Interactions fhir) {
        this.ctx = ctx;
        this.audit = audit;
        this.fhir = fhir;
    }

    /**
     * Fetches the records a patient shared with this facility at the source: the patient named by an identifier
     * ({@code system|value}, e.g. their patient number or insurance number there) or by their id at the source.
     */
    public Fetched fetch(Source source, String identifier, String sourcePatientId, Agent by) {
        if ((identifier == null) == (sourcePatientId == null)) {
            throw new IllegalArgumentException("name the patient by --identifier SYSTEM|VALUE or by --patient ID (at the source)");
        }
        String token = token(source, by);
        String patient = sourcePatientId;
        if (identifier != null) {
            Bundle found = get(source, token, "Patient?identifier=" + URLEncoder.encode(identifier, StandardCharsets.UTF_8));
            if (found.getEntry().stream().filter(e -> e.getResource() instanceof org.hl7.fhir.r4.model.Patient).count() != 1) {
                failed(by, source, "no shared patient");
                throw new IllegalArgumentException("the source shares no patient with identifier " + identifier + " with this"
                        + " facility (or their personal details are not in what they shared: then name them by --patient ID)");
            }
            patient = found.getEntry().stream().filter(e -> e.getResource() instanceof org.hl7.fhir.r4.model.Patient)
                    .findFirst().orElseThrow().getResource().getIdElement().getIdPart();
        }
        Bundle out = new Bundle().setType(Bundle.BundleType.COLLECTION);
        Set<String> seen = new HashSet<>();
        String next = source.base().resolve("fhir/Patient/" + URLEncoder.encode(patient, StandardCharsets.UTF_8)
                + "/$everything?_count=" + PAGE).toString();
        for (int pages = 0; next != null && pages < MAX_PAGES; pages++) {
            Bundle page = getAbsolute(source, token, next);
            for (Bundle.BundleEntryComponent e : page.getEntry()) {
                if (e.getResource() != null && !"OperationOutcome".equals(e.getResource().fhirType())
                        && seen.add(e.getResource().fhirType() + "/" + e.getResource().getIdElement().getIdPart())) {
                    out.addEntry().setFullUrl(e.getFullUrl()).setResource(e.getResource());
                }
            }
            next = page.getLink(Bundle.LINK_NEXT) == null ? null : page.getLink(Bundle.LINK_NEXT).getUrl();
        }
        // here: who fetched which patient's records from where (the local patient, if one has the identifier)
        String local = identifier == null ? null : localPatient(identifier, by);
        AuditRecord event = AuditRecord.of(by, "sharing.fetch", AuditRecord.Outcome.SUCCESS)
                .withDetail("source=" + source.base().getHost() + " client=" + source.clientId() + " resources=" + out.getEntry().size());
        audit.record(local == null ? event : event.on("Patient", local, null, local));
        return new Fetched(patient, out);
    }

    /** The patient here with the same identifier, if exactly one (looked up as the one who fetched, audited). */
    private String localPatient(String identifier, Agent by) {
        Bundle here = fhir.search(new jp.kiroku.identity.Caller(by, List.of("system/Patient.rs")), "Patient",
                java.util.Map.of("identifier", List.of(identifier)));
        List<String> ids = here.getEntry().stream().filter(e -> e.getResource() instanceof org.hl7.fhir.r4.model.Patient)
                .map(e -> e.getResource().getIdElement().getIdPart()).toList();
        return ids.size() == 1 ? ids.get(0) : null;
    }

    private void failed(Agent by, Source source, String why) {
        audit.record(AuditRecord.of(by, "sharing.fetch", AuditRecord.Outcome.FAILED)
                .withDetail("source=" + source.base().getHost() + " client=" + source.clientId() + " " + why));
    }

    private String token(Source source, Agent by) {
        String basic = Base64.getEncoder().encodeToString((URLEncoder.encode(source.clientId(), StandardCharsets.UTF_8) + ":"
                + URLEncoder.encode(source.secret(), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
        HttpRequest request = HttpRequest.newBuilder(source.base().resolve("oauth2/token")).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Basic " + basic).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&scope="
                        + URLEncoder.encode("system/*.rs", StandardCharsets.UTF_8))).build();
        HttpResponse<String> r = send(source, request);
        if (r.statusCode() != 200) {
            failed(by, source, "token refused (" + r.statusCode() + ")");
            throw new IllegalArgumentException("the source refused the partner credentials (HTTP " + r.statusCode() + ")");
        }
        var json = tools.jackson.databind.json.JsonMapper.builder().build().readTree(r.body());
        return json.path("access_token").asString();
    }

    private Bundle get(Source source, String token, String path) {
        return getAbsolute(source, token, source.base().resolve("fhir/" + path).toString());
    }

    private Bundle getAbsolute(Source source, String token, String url) {
        URI uri = URI.create(url);
        if (!uri.getHost().equals(source.base().getHost()) || uri.getPort() != source.base().getPort()) {
            throw new IllegalArgumentException("the source sent a link to another server: " + uri.getHost());
        }
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(2)).header("Authorization", "Bearer " + token)
                .header("Accept", "application/fhir+json").GET().build();
        HttpResponse<String> r = send(source, request);
        if (r.statusCode() != 200) {
            throw new IllegalArgumentException("the source answered HTTP " + r.statusCode() + " for " + uri.getPath()
                    + (r.statusCode() == 403 ? " (nothing of this patient is shared with this facility)" : ""));
        }
        return ctx.newJsonParser().parseResource(Bundle.class, r.body());
    }

    private HttpResponse<String> send(Source source, HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot reach the source " + source.base() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
