package jp.kiroku.fhir;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.Bundle.BundleEntryRequestComponent;
import org.hl7.fhir.r4.model.Bundle.HTTPVerb;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.stereotype.Component;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import jp.kiroku.access.Permission;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.identity.Caller;
import jp.kiroku.store.ResourceKey;
import jp.kiroku.store.StoreException;
import jp.kiroku.store.StoredVersion;
import jp.kiroku.store.Write;
import jp.kiroku.store.Written;

/**
 * transaction and batch Bundles. A transaction is all-or-nothing: every entry is checked (scopes, parsing,
 * validation, references) before anything is written, and all writes plus their audit events commit in one database
 * transaction. {@code urn:uuid:} (and other fullUrl) references between entries are rewritten to the server ids.
 * A batch runs each entry on its own and reports each entry's outcome.
 */
@Component
class TransactionProcessor {

    private final FhirServices services;

    private final Searches searches;

    TransactionProcessor(FhirServices services, Searches searches) {
        this.services = services;
        this.searches = searches;
    }


    /**
     * {@code base} is the server's base URL, for the links of searches inside the bundle; {@code by} (the request's
     * X-Provenance) applies to every entry written.
     */
    Bundle process(Caller caller, RecordStatus.Attribution by, Bundle bundle, String base) {
        if (bundle.getType() == Bundle.BundleType.TRANSACTION) {
            return transaction(caller, by, bundle, base);
        }
        if (bundle.getType() == Bundle.BundleType.BATCH) {
            return batch(caller, by, bundle, base);
        }
        throw new InvalidRequestException("Bundle.type must be 'transaction' or 'batch' to be processed at the base URL, not '"
                + (bundle.getType() == null ? "missing" : bundle.getType().toCode()) + "'");
    }

    /**
     * One entry, understood: what it does to which resource. {@code version} is set for a GET of a version;
     * {@code matched} means a condition decided that nothing is written (a conditional create that found its resource,
     * whose key is then that resource's, or a conditional delete that found none, whose key is null).
     */
    private record Planned(int index, HTTPVerb verb, ResourceKey key, Integer version, Resource resource, Integer ifMatch,
                           boolean matched, String search) {
        Planned(int index, HTTPVerb verb, ResourceKey key, Integer version, Resource resource, Integer ifMatch) {
            this(index, verb, key, version, resource, ifMatch, false, null);
        }

        Planned(int index, HTTPVerb verb, ResourceKey key, Integer version, Resource resource, Integer ifMatch,
                boolean matched) {
            this(index, verb, key, version, resource, ifMatch, matched, null);
        }
    }

    private Bundle transaction(Caller caller, RecordStatus.Attribution by, Bundle bundle, String base) {
        List<BundleEntryComponent> entries = bundle.getEntry();
        List<Planned> plan = new ArrayList<>(entries.size());
        Map<String, String> fullUrlToId = new HashMap<>();
        for (int i = 0; i < entries.size(); i++) {
            int index = i;
            Planned p = at(index, () -> plan(caller, entries.get(index), index));
            String fullUrl = entries.get(i).getFullUrl();
            String ifNoneExist = entries.get(i).getRequest().getIfNoneExist();
            if (p.verb() == HTTPVerb.POST && ifNoneExist != null && !ifNoneExist.isBlank()) {
                // "Type?query" of a conditional create: conditional references to it resolve to this entry
                String condition = p.key().type() + "?" + ifNoneExist.replaceFirst("^[A-Za-z]*\\?", "");
                if (fullUrlToId.put(condition, p.key().toString()) != null) {
                    throw new InvalidRequestException("Bundle.entry[" + i + "]: two conditional creates in one transaction"
                            + " use the same condition " + condition + "; they would create the same resource twice");
                }
            }
            if (fullUrl != null && !fullUrl.isBlank() && p.key() != null && (p.resource() != null || p.matched())) {
                if (fullUrlToId.put(fullUrl, p.key().toString()) != null) {
                    throw new InvalidRequestException("Bundle.entry[" + i + "]: fullUrl " + fullUrl + " appears more than once");
                }
            }
            plan.add(p);
        }
        // FHIR's processing order: DELETE, POST, PUT, then GET (reads see the transaction's result)
        List<Planned> writes = plan.stream().filter(p -> p.verb() != HTTPVerb.GET && !p.matched())
                .sorted(Comparator.comparingInt(p -> order(p.verb()))).toList();
        List<FhirServices.Change> changes = new ArrayList<>(writes.size());
        for (Planned p : writes) {
            changes.add(at(p.index(), () -> toChange(caller, p, fullUrlToId)));
        }
        List<Written> written;
        try {
            written = services.commit(caller, by, changes, "transaction");
        } catch (StoreException | org.springframework.dao.DuplicateKeyException e) {
            services.audit().record(AuditRecord.of(caller.agent(), "transaction", AuditRecord.Outcome.FAILED)
                    .withDetail(e instanceof StoreException s ? s.reason().name() : "concurrent change"));
            throw StoreErrors.toFhir(e);
        }
        Map<Integer, Written> byIndex = new HashMap<>();
        for (int i = 0; i < writes.size(); i++) {
            byIndex.put(writes.get(i).index(), written.get(i));
        }
        Bundle response = new Bundle().setType(Bundle.BundleType.TRANSACTIONRESPONSE);
        for (Planned p : plan) {
            BundleEntryComponent entry = response.addEntry();
            if (p.verb() == HTTPVerb.GET) {
                readInto(caller, p, entry, base);
            } else if (p.matched()) {
                describeMatched(p, entry);
            } else {
                describe(byIndex.get(p.index()), entry);
            }
        }
        return response;
    }

    private Bundle batch(Caller caller, RecordStatus.Attribution by, Bundle bundle, String base) {
        Bundle response = new Bundle().setType(Bundle.BundleType.BATCHRESPONSE);
        List<BundleEntryComponent> entries = bundle.getEntry();
        for (int i = 0; i < entries.size(); i++) {
            BundleEntryComponent out = response.addEntry();
            try {
                Planned p = plan(caller, entries.get(i), i);
                if (p.verb() == HTTPVerb.GET) {
                    readInto(caller, p, out, base);
                    continue;
                }
                if (p.matched()) {
                    describeMatched(p, out);
                    continue;
                }
                FhirServices.Change change = toChange(caller, p, Map.of());
                Written done;
                try {
                    done = services.commit(caller, by, List.of(change), "batch").get(0);
                } catch (StoreException | org.springframework.dao.DuplicateKeyException e) {
                    throw StoreErrors.toFhir(e);
                }
                describe(done, out);
            } catch (BaseServerResponseException e) {
                out.getResponse().setStatus(e.getStatusCode() + " " + reason(e.getStatusCode()));
                OperationOutcome oo = e.getOperationOutcome() instanceof OperationOutcome o ? o : new OperationOutcome();
                if (oo.getIssue().isEmpty()) {
                    oo.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR)
                            .setCode(OperationOutcome.IssueType.PROCESSING).setDiagnostics(e.getMessage());
                }
                out.getResponse().setOutcome(oo);
            }
        }
        return response;
    }

    private Planned plan(Caller caller, BundleEntryComponent e, int index) {
        BundleEntryRequestComponent req = e.getRequest();
        if (req == null || req.getMethod() == null || req.getMethod() == HTTPVerb.NULL) {
            throw new InvalidRequestException("entry.request.method is required");
        }
        String url = req.getUrl();
        if (url == null || url.isBlank()) {
            throw new InvalidRequestException("entry.request.url is required");
        }
        if (req.hasIfNoneMatch() || req.hasIfModifiedSince()) {
            throw new InvalidRequestException("ifNoneMatch and ifModifiedSince are not supported in bundles");
        }
        String path = url.replaceFirst("^/", "");
        String condition = path.contains("?") ? path.substring(path.indexOf('?') + 1) : null;
        String[] parts = (condition == null ? path : path.substring(0, path.indexOf('?'))).split("/");
        String type = parts[0];
        if (!services.records().context().getResourceTypes().contains(type)) {
            throw new InvalidRequestException("entry.request.url names an unknown resource type: " + url);
        }
        if (type.equals("AuditEvent")) {
            throw new InvalidRequestException("AuditEvent is Kiroku's access log: it is recorded by Kiroku, never written by"
                    + " clients, and read with GET [base]/AuditEvent outside bundles (" + url + ")");
        }
        Integer ifMatch = Http.parseEtag(req.getIfMatch(), "entry.request.ifMatch");
        Resource resource = e.getResource();
        switch (req.getMethod()) {
            case POST -> {
                services.guard().require(caller, type, Permission.CREATE, "create");
                requireBody(resource, type);
                if (req.hasIfNoneExist()) {
                    List<ResourceKey> found = oneAtMost(services.conditions().match(caller, type, req.getIfNoneExist()),
                            "ifNoneExist " + req.getIfNoneExist());
                    if (!found.isEmpty()) {
                        return new Planned(index, HTTPVerb.POST, found.get(0), null, null, null, true);
                    }
                }
                String id = UUID.randomUUID().toString();
                return new Planned(index, HTTPVerb.POST, new ResourceKey(type, id), null, resource, null);
            }
            case PUT -> {
                services.guard().require(caller, type, Permission.UPDATE, "update");
                requireBody(resource, type);
                String id;
                if (condition != null) {
                    List<ResourceKey> found = oneAtMost(services.conditions().match(caller, type, condition), url);
                    String bodyId = resource.hasIdElement() ? resource.getIdElement().getIdPart() : null;
                    id = !found.isEmpty() ? found.get(0).id() : bodyId != null ? bodyId : UUID.randomUUID().toString();
                    resource.setId(type + "/" + id);
                    return new Planned(index, HTTPVerb.PUT, new ResourceKey(type, Http.checkId(id)), null, resource, ifMatch);
                }
                id = Http.checkId(idFrom(parts, url));
                if (resource.hasIdElement() && resource.getIdElement().hasIdPart()
                        && !id.equals(resource.getIdElement().getIdPart())) {
                    throw new InvalidRequestException("resource id " + resource.getIdElement().getIdPart()
                            + " does not match entry.request.url " + url);
                }
                return new Planned(index, HTTPVerb.PUT, new ResourceKey(type, id), null, resource, ifMatch);
            }
            case DELETE -> {
                services.guard().require(caller, type, Permission.DELETE, "delete");
                if (condition != null) {
                    List<ResourceKey> found = oneAtMost(services.conditions().match(caller, type, condition), url);
                    return found.isEmpty() ? new Planned(index, HTTPVerb.DELETE, null, null, null, null, true)
                            : new Planned(index, HTTPVerb.DELETE, found.get(0), null, null, ifMatch);
                }
                return new Planned(index, HTTPVerb.DELETE, new ResourceKey(type, idFrom(parts, url)), null, null, ifMatch);
            }
            case GET -> {
                if (condition != null || parts.length == 1) { // a search: answered with a searchset Bundle
                    services.guard().require(caller, type, Permission.SEARCH, "search");
                    return new Planned(index, HTTPVerb.GET, new ResourceKey(type, null), null, null, null, false, path);
                }
                services.guard().require(caller, type, Permission.READ, "read");
                Integer version = null;
                if (parts.length == 4 && parts[2].equals("_history")) {
                    try {
                        version = Integer.valueOf(parts[3]);
                    } catch (NumberFormatException nfe) {
                        throw new InvalidRequestException("invalid version in " + url);
                    }
                } else if (parts.length != 2) {
                    throw new InvalidRequestException("Only reads (Type/id, Type/id/_history/n) are supported in bundles: " + url);
                }
                return new Planned(index, HTTPVerb.GET, new ResourceKey(type, parts[1]), version, null, null);
            }
            default -> throw new InvalidRequestException(req.getMethod().toCode() + " is not supported in bundles");
        }
    }

    /** The change for a planned POST, PUT or DELETE, its references rewritten and its body validated. */
    private FhirServices.Change toChange(Caller caller, Planned p, Map<String, String> fullUrlToId) {
        if (p.resource() != null) {
            rewriteReferences(caller, p.resource(), fullUrlToId);
            services.records().validateIfRequired(p.resource());
        }
        return switch (p.verb()) {
            case POST -> services.records().change(Write.Kind.CREATE, p.resource(), p.key().id(), null, "create");
            case PUT -> services.records().change(Write.Kind.UPDATE, p.resource(), p.key().id(), p.ifMatch(), "update");
            default -> new FhirServices.Change(Write.delete(p.key(), p.ifMatch()), null, null, "delete");
        };
    }

    private static List<ResourceKey> oneAtMost(List<ResourceKey> found, String what) {
        if (found.size() > 1) {
            throw new ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException(what + " matches more than one resource");
        }
        return found;
    }

    /** The response of an entry whose condition meant nothing was written. */
    private void describeMatched(Planned p, BundleEntryComponent entry) {
        if (p.key() == null) {
            entry.getResponse().setStatus("204 No Content");
            return;
        }
        StoredVersion v = services.store().current(p.key()).orElseThrow();
        entry.getResponse().setStatus("200 OK").setLocation(p.key() + "/_history/" + v.versionId())
                .setEtag("W/\"" + v.versionId() + "\"").setLastModified(java.util.Date.from(v.lastUpdated()));
    }

    private String idFrom(String[] parts, String url) {
        if (parts.length != 2) {
            throw new InvalidRequestException("entry.request.url must be Type/id here: " + url);
        }
        return parts[1];
    }

    private void requireBody(Resource resource, String type) {
        if (resource == null) {
            throw new InvalidRequestException("entry.resource is required for POST and PUT");
        }
        if (!resource.fhirType().equals(type)) {
            throw new InvalidRequestException("entry.resource is a " + resource.fhirType() + " but the url names " + type);
        }
    }

    /** Rewrites references to other entries' fullUrls into their server ids; a urn: left over cannot resolve. */
    private void rewriteReferences(Caller caller, Resource resource, Map<String, String> fullUrlToId) {
        if (resource instanceof Bundle) { // self-contained: see FhirRecords#localReferences
            return;
        }
        for (var info : services.records().context().newTerser().getAllResourceReferences(resource)) {
            var ref = info.getResourceReference();
            String value = ref.getReferenceElement().getValue();
            if (value == null) {
                continue;
            }
            String target = fullUrlToId.get(value);
            if (target != null) {
                ref.setReference(target);
            } else if (value.startsWith("urn:")) {
                throw new InvalidRequestException("Unresolvable reference '" + value + "' at " + info.getName()
                        + ": no entry in this Bundle has that fullUrl");
            } else if (value.contains("?")) { // conditional reference: exactly one existing resource must match
                String type = value.substring(0, value.indexOf('?'));
                if (!services.records().context().getResourceTypes().contains(type)) {
                    throw new InvalidRequestException("Conditional reference '" + value + "' names no resource type");
                }
                List<ResourceKey> found = services.conditions().match(caller, type, value);
                if (found.size() != 1) {
                    throw new ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException("Conditional reference '" + value
                            + "' at " + info.getName() + " matches " + (found.isEmpty() ? "no" : "more than one") + " resource");
                }
                ref.setReference(found.get(0).toString());
            }
        }
    }

    private void readInto(Caller caller, Planned p, BundleEntryComponent entry, String base) {
        if (p.search() != null) {
            entry.setResource(searches.search(caller, Searches.SearchRequest.ofEntry(base, p.search()), p.key().type(), null,
                    p.key().type()));
            entry.getResponse().setStatus("200 OK");
            return;
        }
        StoredVersion v = (p.version() == null ? services.store().current(p.key())
                : services.store().version(p.key(), p.version())).orElse(null);
        if (v == null) {
            throw new ResourceNotFoundException(new IdType(p.key().type(), p.key().id()));
        }
        services.guard().requireReach(caller, services.guard().view(caller, Permission.READ), List.of(p.key()),
                p.version() == null ? "read" : "vread");
        services.audit().record(AuditRecord.of(caller.agent(), p.version() == null ? "read" : "vread", AuditRecord.Outcome.SUCCESS)
                .on(v.type(), v.id(), v.versionId(), v.patientKey()));
        if (v.deleted()) {
            throw new ResourceGoneException("Resource " + p.key() + " was deleted");
        }
        entry.setResource(services.records().toResource(v));
        entry.getResponse().setStatus("200 OK").setEtag("W/\"" + v.versionId() + "\"")
                .setLastModified(java.util.Date.from(v.lastUpdated()));
    }

    private static void describe(Written w, BundleEntryComponent entry) {
        var r = entry.getResponse();
        if (w.deleted()) {
            r.setStatus("204 No Content");
            if (!w.noop()) {
                r.setEtag("W/\"" + w.versionId() + "\"");
            }
        } else {
            r.setStatus(w.created() ? "201 Created" : "200 OK")
                    .setLocation(w.key().type() + "/" + w.key().id() + "/_history/" + w.versionId())
                    .setEtag("W/\"" + w.versionId() + "\"");
        }
        r.setLastModified(java.util.Date.from(w.lastUpdated()));
    }

    private static int order(HTTPVerb verb) {
        return switch (verb) {
            case DELETE -> 0;
            case POST -> 1;
            case PUT -> 2;
            default -> 3;
        };
    }

    private static String reason(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 409 -> "Conflict";
            case 410 -> "Gone";
            case 412 -> "Precondition Failed";
            case 422 -> "Unprocessable Entity";
            default -> "Error";
        };
    }

    /** Runs one entry's step, naming the entry in any error. */
    private static <T> T at(int index, Supplier<T> work) {
        try {
            return work.get();
        } catch (UnprocessableEntityException e) {
            throw e;
        } catch (BaseServerResponseException e) {
            throw BaseServerResponseException.newInstance(e.getStatusCode(), "Bundle.entry[" + index + "]: " + e.getMessage());
        }
    }
}
