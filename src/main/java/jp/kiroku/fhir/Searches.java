package jp.kiroku.fhir;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.stereotype.Component;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import jp.kiroku.access.Permission;
import jp.kiroku.access.SmartScopes;
import jp.kiroku.access.View;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.identity.Caller;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.search.Query;
import jp.kiroku.search.SearchException;
import jp.kiroku.search.SearchIndex;
import jp.kiroku.search.SearchSnapshots;
import jp.kiroku.store.RecordStore;
import jp.kiroku.store.ResourceKey;
import jp.kiroku.store.StoredVersion;

/**
 * Runs searches (type, compartment, Patient/$everything) and answers them as searchset Bundles. Every Bundle has an
 * accurate total. A search whose matches fit on the requested page needs nothing more; otherwise the ordered keys of
 * all matches are saved as a snapshot and the next/previous links page through it ({@code _snapshot} + {@code _offset}).
 * {@code _include}/{@code _revinclude} are resolved per page, from the current versions.
 */
@Component
class Searches {

    /** Most included resources per page (a _revinclude can fan out; the caller can page smaller). */
    static final int MAX_INCLUDES = 1000;

    /** Output parameters that are carried into the paging links unchanged (they do not change what matches). */
    private static final Set<String> CARRIED = Set.of("_include", "_revinclude", "_elements", "_summary", "_format",
            "_pretty");

    private final FhirServices services;
    private final SearchSnapshots snapshots;
    private final KirokuProperties props;

    Searches(FhirServices services, SearchSnapshots snapshots, KirokuProperties props) {
        this.services = services;
        this.snapshots = snapshots;
        this.props = props;
    }

    /**
     * What a search needs from its request: parameters, strict handling, the server base, the URL as sent, and
     * whether the answer may be the stored JSON ({@link StoredJson}; never inside another Bundle).
     */
    record SearchRequest(Map<String, List<String>> params, boolean strict, String base, String completeUrl,
                         boolean storedJson) {

        static SearchRequest of(RequestDetails request) {
            String prefer = request.getHeader("Prefer");
            return new SearchRequest(Http.parameters(request), prefer != null && prefer.replace(" ", "").contains("handling=strict"),
                    request.getFhirServerBase(), request.getCompleteUrl(), StoredJson.applies(request));
        }

        /** A search made inside Kiroku (the web pages): lenient, links relative to the FHIR base. */
        static SearchRequest internal(Map<String, List<String>> params) {
            return new SearchRequest(params, false, "fhir", "fhir", false);
        }

        /** A search inside a batch or transaction: {@code Type?query}, lenient, answered as a nested Bundle. */
        static SearchRequest ofEntry(String base, String url) {
            String query = url.contains("?") ? url.substring(url.indexOf('?') + 1) : "";
            Map<String, List<String>> params = Http.parseQuery(query, "the bundle entry's search " + url);
            return new SearchRequest(params, false, base, base + "/" + url, false);
        }
    }

    /** An include request: {@code _include=Source:param[:Target]} or {@code _revinclude=...}, possibly :iterate. */
    private record Include(String source, String param, String target, boolean reverse, boolean iterate) {
    }

    /**
     * The one patient a search is limited to by its compartment or a single patient/subject value (a plain id), or
     * null.
     */
    private static String onePatient(Map<String, List<String>> params, SearchIndex.Compartment compartment) {
        String id = namedPatient(params, compartment);
        return id != null && Http.FHIR_ID.matcher(id).matches() ? id : null;
    }

    private static String namedPatient(Map<String, List<String>> params, SearchIndex.Compartment compartment) {
        if (compartment != null) {
            return compartment.type().equals("Patient") ? compartment.id() : null;
        }
        String found = null;
        for (String name : SearchIndex.PATIENT_PARAMS) {
            List<String> values = params.get(name);
            if (values == null) {
                continue;
            }
            for (String v : values) {
                if (v.contains(",") || v.contains("://")) {
                    return null;
                }
                String id = v.startsWith("Patient/") ? v.substring("Patient/".length()) : v.contains("/") ? null : v;
                if (id == null || id.isEmpty() || (found != null && !found.equals(id))) {
                    return null;
                }
                found = id;
            }
        }
        return found;
    }

    /** GET [type]?params or [compartment]/[id]/[type]?params. */
    Bundle search(Caller caller, SearchRequest request, String type, SearchIndex.Compartment compartment, String path) {
        Map<String, List<String>> params = request.params();
        int count = Page.count(params);
        int offset = Page.offset(params);
        List<String> ignored = new ArrayList<>();
        List<Include> includes = includes(params, request.strict(), ignored);
        String snapshot = Http.first(params, "_snapshot");
        View view = services.guard().view(caller, Permission.SEARCH);
        Query q = null;
        if (snapshot == null) {
            String patient = onePatient(params, compartment);
            try {
                q = services.search().query(type, params, request.strict(), compartment, patient);
            } catch (SearchException e) {
                throw new InvalidRequestException(e.getMessage());
            }
            // hidden records are neither matched nor counted (Bundle.total)
            View.Condition reach = view.condition("c", patient);
            q = reach == null ? q : q.and(reach.sql(), reach.args());
            ignored.addAll(q.ignored());
            if (isCountOnly(params)) {
                Query counted = q;
                long n = services.onReplica(caller, () -> services.search().count(counted));
                audit(caller, "search", type, List.of(), "count " + n, request);
                return bundle(request, path, selfQuery(params, ignored, q.sortUsed()),
                        new Window(List.of(), (int) Math.min(Integer.MAX_VALUE, n), null, null, null), List.of(), List.of(),
                        offset, count, path);
            }
        }
        Query query = q;
        Window w = window(caller, type, snapshot, offset, count, () -> matches(caller, query, offset, count));
        // a snapshot page is checked again: a care relationship may have ended since the search
        List<ResourceKey> keys = snapshot == null ? w.keys() : services.guard().visibleOnly(view, w.keys(), k -> k);
        List<Found> matches = w.page() != null ? found(w.page(), request.storedJson())
                : load(caller, keys, request.storedJson());
        List<Found> included = included(caller, view, matches, includes, request.storedJson());
        audit(caller, "search", type, concat(matches, included), null, request);
        return bundle(request, path, q == null ? null : selfQuery(params, ignored, q.sortUsed()), w, matches, included,
                offset, count, type);
    }

    /** Patient/[id]/$everything, with _type, _since and _count; paged like a search. */
    Bundle everything(Caller caller, SearchRequest request, String patientId) {
        return everything(caller, request, patientId, "everything");
    }

    /** $everything audited as {@code action}: an export over the API, {@code chart} when a page shows the chart. */
    Bundle everything(Caller caller, SearchRequest request, String patientId, String action) {
        Map<String, List<String>> params = request.params();
        int count = Page.count(params);
        int offset = Page.offset(params);
        String snapshot = Http.first(params, "_snapshot");
        View view = services.guard().view(caller, Permission.READ);
        services.guard().requireReach(caller, view, List.of(new ResourceKey("Patient", patientId)),
                action.equals("everything") ? "$everything" : action);
        View.Condition reach = view.condition("c", patientId); // access data from the primary, before the replica read
        Window w = window(caller, "Patient/$everything", snapshot, offset, count,
                () -> services.onReplica(caller, () -> everythingMatches(patientId, params, reach)));
        // everything spans types: every type returned must be readable with the caller's scopes
        SmartScopes scopes = SmartScopes.of(caller.scopes());
        for (ResourceKey k : w.keys()) {
            if (!scopes.permits(k.type(), Permission.READ)) {
                services.guard().deny(caller, k.type(), "$everything", Permission.READ);
            }
        }
        List<ResourceKey> keys = snapshot == null ? w.keys() : services.guard().visibleOnly(view, w.keys(), k -> k);
        List<Found> resources = load(caller, keys, request.storedJson());
        audit(caller, action, "Patient", resources, null, request);
        String path = "Patient/" + patientId + "/$everything";
        return bundle(request, path, snapshot != null ? null : selfQuery(params, List.of(), null), w, resources, List.of(),
                offset, count, path);
    }

    /** The patient's compartment and what it references, in order, after checking the patient and _type/_since. */
    private Matches everythingMatches(String patientId, Map<String, List<String>> params, View.Condition reach) {
        if (services.store().current(new ResourceKey("Patient", patientId)).filter(v -> !v.deleted()).isEmpty()) {
            throw new ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException("Patient/" + patientId + " is not known");
        }
        Set<String> types = new LinkedHashSet<>();
        for (String v : params.getOrDefault("_type", List.of())) {
            for (String t : v.split(",")) {
                if (!services.records().context().getResourceTypes().contains(t.trim())) {
                    throw new InvalidRequestException("_type: '" + t + "' is not an R4 resource type");
                }
                types.add(t.trim());
            }
        }
        Instant since = null;
        String sinceValue = Http.first(params, "_since");
        if (sinceValue != null) {
            try {
                since = new InstantType(sinceValue).getValue().toInstant();
            } catch (RuntimeException e) {
                throw new InvalidRequestException("_since must be an instant (e.g. 2024-04-01T00:00:00+09:00), not '"
                        + sinceValue + "'");
            }
        }
        int max = props.getSearch().getMaxResults();
        String condition = reach == null ? null : reach.sql();
        List<Object> args = reach == null ? List.of() : reach.args();
        List<ResourceKey> all = services.search().everything(patientId, types, since, condition, args, max + 1);
        if (all.size() > max) { // rare: count them all for an exact total, page the first max
            int total = services.search().everything(patientId, types, since, condition, args, Integer.MAX_VALUE).size();
            return new Matches(all.subList(0, max), total);
        }
        return new Matches(all, all.size());
    }

    /**
     * One page of a paged listing, its exact total, the snapshot id its links use (null when one page holds it all),
     * the warning of a truncated listing, and the page's versions when they were read with the matches (else null).
     */
    private record Window(List<ResourceKey> keys, int total, String pagingId, String warning, List<StoredVersion> page) {
    }

    /**
     * The page at {@code offset}: a slice of the snapshot the links name, or of fresh matches, which are saved as a
     * snapshot when they span more than one page.
     */
    private Window window(Caller caller, String scope, String snapshot, int offset, int count,
                          java.util.function.Supplier<Matches> fresh) {
        if (snapshot != null) {
            SearchSnapshots.Slice slice = snapshots.slice(snapshot, caller.agent().id(), scope, offset, count)
                    .orElseThrow(() -> new ResourceGoneException("The paged search " + snapshot + " has expired or is not"
                            + " yours; run the search again"));
            return new Window(slice.keys(), slice.total(), snapshot,
                    slice.total() > slice.size() ? truncation(slice.size(), slice.total()) : null, null);
        }
        Matches m = fresh.get();
        List<ResourceKey> all = m.keys();
        String pagingId = m.total() > count || offset > 0 ? snapshots.save(caller.agent().id(), scope, all, m.total()) : null;
        return new Window(all.subList(Math.min(offset, all.size()), Math.min(offset + count, all.size())), m.total(), pagingId,
                m.truncated() ? truncation(all.size(), m.total()) : null, m.page());
    }

    /**
     * The ordered keys of the matches (when there are more than can be paged, the first ones and the exact total), and
     * the versions of the requested page when they were read with them (else null).
     */
    private record Matches(List<ResourceKey> keys, int total, List<StoredVersion> page) {
        Matches(List<ResourceKey> keys, int total) {
            this(keys, total, null);
        }

        boolean truncated() {
            return total > keys.size();
        }
    }

    /**
     * All matches in order, as keys (up to kiroku.search.max-results, with the exact total beyond), and the versions of
     * the page at {@code offset}. String sorts load the matches and sort them in memory.
     */
    private Matches matches(Caller caller, Query q, int offset, int count) {
        return services.onReplica(caller, () -> matches(q, offset, count));
    }

    /** Only index and store reads (it runs on the replica when that is fresh enough). */
    private Matches matches(Query q, int offset, int count) {
        SearchIndex index = services.search();
        if (q.sortsInMemory()) {
            int max = props.getSearch().getMaxStringSort();
            List<ResourceKey> keys = index.keys(q, 0, max + 1);
            if (keys.size() > max) {
                throw new InvalidRequestException("Sorting by a string parameter is done in memory and allowed for at most "
                        + max + " matches (string indexes hold keyed hashes under encryption); narrow the search or sort"
                        + " by a date, number or _lastUpdated");
            }
            List<IBaseResource> resources = new ArrayList<>();
            load(keys, false).forEach(f -> resources.add(f.resource()));
            List<ResourceKey> sorted = index.sortInMemory(q, resources);
            return new Matches(sorted, sorted.size());
        }
        // one statement for the snapshot's keys and the page's versions: asking for the page first ran the search twice
        // whenever it spans pages, and loading the page apart took a second round trip
        int max = props.getSearch().getMaxResults();
        RecordStore.KeysAndPage found = index.keysAndPage(q, max + 1, offset, Math.min(offset + count, max));
        List<ResourceKey> all = found.keys();
        if (all.size() > max) {
            return new Matches(all.subList(0, max), (int) Math.min(Integer.MAX_VALUE, index.count(q)), found.page());
        }
        return new Matches(all, all.size(), found.page());
    }

    private static String truncation(int max, int total) {
        return "This search matches " + total + " resources; only the first " + max + " can be paged"
                + " (kiroku.search.max-results). Narrow it (by patient or date; $everything by _type or _since) to see the rest.";
    }

    /** A resource as returned, with what its audit record needs. */
    private record Found(Resource resource, StoredVersion version) {
    }

    /**
     * Current versions in key order; keys deleted since the snapshot are left out. With {@code stored}, resources are
     * stand-ins that carry the stored JSON ({@link StoredJson}), else parsed.
     */
    private List<Found> load(Caller caller, List<ResourceKey> keys, boolean stored) {
        List<StoredVersion> versions = services.onReplica(caller, () -> services.store().currentAll(keys));
        if (versions.size() < keys.size() && services.replica().configured()) {
            versions = services.store().currentAll(keys); // matched on the primary, not on the replica yet: the primary
        }
        return found(versions, stored);
    }

    private List<Found> load(List<ResourceKey> keys, boolean stored) {
        return found(services.store().currentAll(keys), stored);
    }

    private List<Found> found(List<StoredVersion> versions, boolean stored) {
        List<Found> out = new ArrayList<>(versions.size());
        for (StoredVersion v : versions) {
            if (!v.deleted()) {
                out.add(new Found(stored ? StoredJson.standIn(services.records().context(), v)
                        : services.records().toResource(v), v));
            }
        }
        return out;
    }

    private List<Include> includes(Map<String, List<String>> params, boolean strict, List<String> ignored) {
        List<Include> out = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : params.entrySet()) {
            String key = e.getKey();
            boolean reverse = key.startsWith("_revinclude");
            if (!reverse && !key.startsWith("_include")) {
                continue;
            }
            String modifier = key.contains(":") ? key.substring(key.indexOf(':') + 1) : null;
            if (modifier != null && !modifier.equals("iterate") && !modifier.equals("recurse")) {
                if (strict) {
                    throw new InvalidRequestException("Unsupported modifier '" + key + "' (supported: :iterate)");
                }
                ignored.add(key);
                continue;
            }
            for (String v : e.getValue()) {
                String[] parts = v.split(":");
                String problem = null;
                if (parts.length < 2 || parts.length > 3) {
                    problem = "expected Type:parameter or Type:parameter:TargetType";
                } else if (!services.records().context().getResourceTypes().contains(parts[0])) {
                    problem = "'" + parts[0] + "' is not an R4 resource type";
                } else if (!services.search().isReference(parts[0], parts[1])) {
                    problem = "'" + parts[1] + "' is not a reference parameter of " + parts[0];
                } else if (parts.length == 3 && !services.records().context().getResourceTypes().contains(parts[2])) {
                    problem = "'" + parts[2] + "' is not an R4 resource type";
                }
                if (problem != null) {
                    throw new InvalidRequestException("Invalid " + key + "=" + v + ": " + problem);
                }
                out.add(new Include(parts[0], parts[1], parts.length == 3 ? parts[2] : null, reverse, modifier != null));
            }
        }
        return out;
    }

    /**
     * The included resources of one page: every include applied to the matches, then the :iterate ones once more to
     * what was included. Types the caller may not read are left out.
     */
    private List<Found> included(Caller caller, View view, List<Found> matches, List<Include> includes, boolean stored) {
        if (includes.isEmpty() || matches.isEmpty()) {
            return List.of();
        }
        Set<ResourceKey> seen = new LinkedHashSet<>();
        matches.forEach(f -> seen.add(key(f.resource())));
        List<ResourceKey> found = services.onReplica(caller, () -> apply(includes, List.copyOf(seen), false, seen));
        List<ResourceKey> second = services.onReplica(caller, () -> apply(includes, found, true, seen));
        List<ResourceKey> all = new ArrayList<>(found);
        all.addAll(second);
        SmartScopes scopes = SmartScopes.of(caller.scopes());
        all.removeIf(k -> !scopes.permits(k.type(), Permission.READ));
        return load(caller, services.guard().visibleOnly(view, all, k -> k), stored);
    }

    private List<ResourceKey> apply(List<Include> includes, List<ResourceKey> from, boolean iterateOnly, Set<ResourceKey> seen) {
        List<ResourceKey> out = new ArrayList<>();
        for (Include inc : includes) {
            if (iterateOnly && !inc.iterate()) {
                continue;
            }
            List<ResourceKey> sources = from.stream()
                    .filter(k -> inc.reverse() || k.type().equals(inc.source())).toList();
            if (sources.isEmpty()) {
                continue;
            }
            List<ResourceKey> keys = inc.reverse()
                    ? services.search().referring(sources, inc.source(), inc.param(), MAX_INCLUDES + 1)
                    : services.search().referencedBy(sources, inc.param(), inc.target(), MAX_INCLUDES + 1);
            for (ResourceKey k : keys) {
                if (seen.add(k)) {
                    out.add(k);
                }
            }
            if (seen.size() > MAX_INCLUDES + from.size()) {
                throw new InvalidRequestException("The includes of this page exceed " + MAX_INCLUDES + " resources; use a"
                        + " smaller _count");
            }
        }
        return out;
    }

    /** One event per search or page: every resource returned (matches and includes) and what was asked. */
    private void audit(Caller caller, String action, String type, List<Found> resources, String detail, SearchRequest request) {
        List<AuditRecord.Touched> touched = new ArrayList<>(resources.size());
        for (Found f : resources) {
            StoredVersion v = f.version();
            touched.add(new AuditRecord.Touched(v.type(), v.id(), v.versionId(), v.patientKey()));
        }
        AuditRecord event = AuditRecord.of(caller.agent(), action, AuditRecord.Outcome.SUCCESS);
        if (touched.isEmpty()) {
            event = event.on(type, null, null, null);
        }
        String asked = request.completeUrl();
        int q = asked == null ? -1 : asked.indexOf('?');
        services.audit().record(event.onAll(touched)
                .withDetail(detail != null ? detail : touched.isEmpty() ? "no matches" : resources.size() + " returned")
                .withQuery(q < 0 ? null : asked.substring(q + 1)));
    }

    private Bundle bundle(SearchRequest request, String path, String selfQuery, Window w, List<Found> matches,
                          List<Found> included, int offset, int count, String pagingPath) {
        String base = request.base();
        Bundle b = new Bundle().setType(Bundle.BundleType.SEARCHSET).setTotal(w.total());
        if (request.storedJson()) {
            StoredJson.mark(b);
        }
        b.setId(java.util.UUID.randomUUID().toString());
        b.getMeta().setLastUpdated(new java.util.Date());
        b.addLink().setRelation("self").setUrl(selfQuery != null ? base + "/" + path + selfQuery : request.completeUrl());
        if (w.pagingId() != null) {
            String carried = carried(request.params());
            String link = base + "/" + pagingPath + "?_snapshot=" + w.pagingId() + "&_count=" + count + carried + "&_offset=";
            b.addLink().setRelation("first").setUrl(link + 0);
            if (offset > 0) {
                b.addLink().setRelation("previous").setUrl(link + Math.max(0, offset - count));
            }
            if (offset + count < w.total()) {
                b.addLink().setRelation("next").setUrl(link + (offset + count));
            }
            b.addLink().setRelation("last").setUrl(link + (w.total() == 0 ? 0 : ((w.total() - 1) / count) * count));
        }
        matches.forEach(f -> entry(b, base, f.resource(), Bundle.SearchEntryMode.MATCH));
        included.forEach(f -> entry(b, base, f.resource(), Bundle.SearchEntryMode.INCLUDE));
        if (w.warning() != null) {
            org.hl7.fhir.r4.model.OperationOutcome oo = new org.hl7.fhir.r4.model.OperationOutcome();
            oo.addIssue().setSeverity(org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity.WARNING)
                    .setCode(org.hl7.fhir.r4.model.OperationOutcome.IssueType.TOOCOSTLY).setDiagnostics(w.warning());
            b.addEntry().setResource(oo).getSearch().setMode(Bundle.SearchEntryMode.OUTCOME);
        }
        return b;
    }

    private static void entry(Bundle b, String base, Resource r, Bundle.SearchEntryMode mode) {
        b.addEntry().setFullUrl(base + "/" + r.fhirType() + "/" + r.getIdElement().getIdPart()).setResource(r)
                .getSearch().setMode(mode);
    }

    /** The parameters actually used, for the self link (FHIR: ignored parameters are left out of it). */
    private static String selfQuery(Map<String, List<String>> params, List<String> ignored, String sortUsed) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, List<String>> e : params.entrySet()) {
            if (ignored.contains(e.getKey()) || e.getKey().equals("_sort")) {
                continue;
            }
            for (String v : e.getValue()) {
                append(sb, e.getKey(), v);
            }
        }
        if (sortUsed != null) {
            append(sb, "_sort", sortUsed);
        }
        return sb.length() == 0 ? "" : "?" + sb.substring(1);
    }

    private static String carried(Map<String, List<String>> params) {
        StringBuilder sb = new StringBuilder();
        params.forEach((name, values) -> {
            String base = name.contains(":") ? name.substring(0, name.indexOf(':')) : name;
            if (CARRIED.contains(base)) {
                for (String v : values) {
                    append(sb, name, v);
                }
            }
        });
        return sb.toString();
    }

    private static void append(StringBuilder sb, String name, String value) {
        sb.append('&').append(URLEncoder.encode(name, StandardCharsets.UTF_8).replace("%3A", ":")).append('=')
                .append(URLEncoder.encode(value, StandardCharsets.UTF_8).replace("%7C", "|").replace("%2C", ",")
                        .replace("%3A", ":").replace("%2F", "/"));
    }

    private static boolean isCountOnly(Map<String, List<String>> params) {
        return "count".equals(Http.first(params, "_summary")) || "0".equals(Http.first(params, "_count"));
    }

    private static ResourceKey key(Resource r) {
        return new ResourceKey(r.fhirType(), r.getIdElement().getIdPart());
    }

    private static List<Found> concat(List<Found> a, List<Found> b) {
        List<Found> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
