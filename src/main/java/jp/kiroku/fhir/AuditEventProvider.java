package jp.kiroku.fhir;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.IdType;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Read;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import jp.kiroku.access.Permission;
import jp.kiroku.audit.AuditQuery;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.FhirAuditEvents;
import jp.kiroku.audit.StoredEvent;
import jp.kiroku.identity.Caller;
import jp.kiroku.search.DateRanges;

/**
 * The access log as FHIR {@code AuditEvent} (LOG-01, LOG-05): read and search, newest first, for clients granted
 * {@code AuditEvent} explicitly (an auditor's scope; {@code system/*} does not reach it). Nothing can be written here:
 * events are recorded by Kiroku itself. Reading the log is itself audited.
 */
final class AuditEventProvider implements IResourceProvider {

    /** The search parameters served, and their FHIR types (the CapabilityStatement lists exactly these). */
    static final Map<String, String> SEARCH_PARAMS = orderedMap("patient", "reference", "agent", "reference", "altid",
            "token", "date", "date", "subtype", "token", "action", "token", "outcome", "token");
    private static final List<String> CONTROL = List.of("_count", "_before", "_format", "_pretty");

    private final FhirServices services;
    private final java.time.ZoneId zone;

    AuditEventProvider(FhirServices services, java.time.ZoneId zone) {
        this.services = services;
        this.zone = zone;
    }

    @Override
    public Class<? extends IBaseResource> getResourceType() {
        return AuditEvent.class;
    }

    @Read
    public AuditEvent read(@IdParam IdType id, RequestDetails request) {
        Caller caller = services.guard().caller(request);
        services.guard().require(caller, "AuditEvent", Permission.READ, "read");
        long seq;
        try {
            seq = Long.parseLong(id.getIdPart());
        } catch (NumberFormatException e) {
            throw new ResourceNotFoundException(id);
        }
        StoredEvent e = services.audit().event(seq).orElseThrow(() -> new ResourceNotFoundException(id));
        audit(caller, "read", List.of(e), null);
        return FhirAuditEvents.toFhir(e);
    }

    @Search(allowUnknownParams = true)
    public Bundle search(RequestDetails request) {
        Caller caller = services.guard().caller(request);
        services.guard().require(caller, "AuditEvent", Permission.SEARCH, "search");
        Map<String, List<String>> params = Http.parameters(request);
        for (String key : params.keySet()) {
            if (!SEARCH_PARAMS.containsKey(key) && !CONTROL.contains(key)) {
                throw new InvalidRequestException("AuditEvent search supports " + String.join(", ", SEARCH_PARAMS.keySet())
                        + ", _count; not '" + key + "'");
            }
        }
        int count = Page.count(params);
        Instant from = null;
        Instant to = null;
        for (String d : params.getOrDefault("date", List.of())) {
            boolean prefixed = d.length() > 2 && Character.isLetter(d.charAt(0)) && Character.isLetter(d.charAt(1));
            String prefix = prefixed ? d.substring(0, 2) : "eq";
            DateRanges.Range r;
            try {
                r = DateRanges.of(new DateTimeType(prefixed ? d.substring(2) : d), zone);
            } catch (RuntimeException e) {
                throw new InvalidRequestException("date: '" + d + "' is not a FHIR date or dateTime with an optional prefix");
            }
            switch (prefix) {
                case "eq" -> { from = later(from, r.lo()); to = earlier(to, r.hi()); }
                case "ge" -> from = later(from, r.lo());
                case "gt" -> from = later(from, r.hi());
                case "le" -> to = earlier(to, r.hi());
                case "lt" -> to = earlier(to, r.lo());
                default -> throw new InvalidRequestException("date: prefix '" + prefix + "' is not supported (eq ge gt le lt)");
            }
        }
        List<String> actions = new ArrayList<>();
        for (String v : params.getOrDefault("subtype", List.of())) {
            for (String code : v.split(",")) {
                actions.add(code.contains("|") ? code.substring(code.indexOf('|') + 1) : code);
            }
        }
        String actionCode = Http.first(params, "action");
        String outcome = Http.first(params, "outcome");
        String outcomeName = outcome == null ? null : switch (outcome) {
            case "0" -> "success";
            case "4" -> "denied";
            case "8" -> "failed";
            default -> throw new InvalidRequestException("outcome must be 0, 4 or 8, not '" + outcome + "'");
        };
        String patient = Http.first(params, "patient");
        if (patient != null && patient.startsWith("Patient/")) {
            patient = patient.substring("Patient/".length());
        }
        String agent = Http.first(params, "agent") != null ? Http.first(params, "agent") : Http.first(params, "altid");
        if (agent != null && agent.contains("|")) {
            agent = agent.substring(agent.indexOf('|') + 1);
        }
        Long before = null;
        String beforeValue = Http.first(params, "_before");
        if (beforeValue != null) {
            try {
                before = Long.parseLong(beforeValue);
            } catch (NumberFormatException e) {
                throw new InvalidRequestException("_before must be an AuditEvent id");
            }
        }
        // actionCode (C/R/U/D/E) is a property of the action names: filtered after the query, so ask for more
        List<StoredEvent> found = new ArrayList<>();
        Long cursor = before;
        boolean more = false;
        while (found.size() <= count) {
            List<StoredEvent> batch = services.audit().find(new AuditQuery(patient, agent, from, to, actions, outcomeName,
                    cursor, count + 1));
            for (StoredEvent e : batch) {
                if (actionCode == null || FhirAuditEvents.actionCode(e.action()).equals(actionCode)) {
                    found.add(e);
                }
            }
            if (batch.size() <= count) {
                break;
            }
            cursor = batch.get(batch.size() - 1).seq();
        }
        if (found.size() > count) {
            more = true;
            found = found.subList(0, count);
        }
        audit(caller, "search", found, request.getCompleteUrl());
        Bundle b = new Bundle().setType(Bundle.BundleType.SEARCHSET);
        String self = request.getCompleteUrl();
        b.addLink().setRelation("self").setUrl(self);
        if (more) {
            String query = self.contains("?") ? self.substring(self.indexOf('?') + 1).replaceAll("(^|&)_before=[^&]*", "") : "";
            b.addLink().setRelation("next").setUrl(request.getFhirServerBase() + "/AuditEvent?" + (query.isEmpty() ? ""
                    : query.replaceFirst("^&", "") + "&") + "_before=" + found.get(found.size() - 1).seq());
        }
        for (StoredEvent e : found) {
            AuditEvent a = FhirAuditEvents.toFhir(e);
            b.addEntry().setFullUrl(request.getFhirServerBase() + "/AuditEvent/" + e.seq()).setResource(a)
                    .getSearch().setMode(Bundle.SearchEntryMode.MATCH);
        }
        return b;
    }

    /** Reading the log is an access too: one event naming the events read and every patient they concern. */
    private void audit(Caller caller, String action, List<StoredEvent> read, String asked) {
        List<AuditRecord.Touched> touched = new ArrayList<>();
        for (StoredEvent e : read) {
            touched.add(new AuditRecord.Touched("AuditEvent", Long.toString(e.seq()), null, null));
            e.patients().forEach(p -> touched.add(new AuditRecord.Touched("Patient", p, null, p)));
        }
        AuditRecord event = AuditRecord.of(caller.agent(), action, AuditRecord.Outcome.SUCCESS)
                .on("AuditEvent", null, null, null).onAll(touched).withDetail(read.size() + " audit events");
        int q = asked == null ? -1 : asked.indexOf('?');
        services.audit().record(q < 0 ? event : event.withQuery(asked.substring(q + 1)));
    }

    private static Map<String, String> orderedMap(String... pairs) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    private static Instant later(Instant a, Instant b) {
        return a == null || b.isAfter(a) ? b : a;
    }

    private static Instant earlier(Instant a, Instant b) {
        return a == null || b.isBefore(a) ? b : a;
    }
}
