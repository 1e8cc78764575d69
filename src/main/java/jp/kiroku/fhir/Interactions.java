package jp.kiroku.fhir;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.stereotype.Component;

import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import jp.kiroku.access.BreakGlass;
import jp.kiroku.access.Permission;
import jp.kiroku.access.View;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.Caller;
import jp.kiroku.store.Placement;
import jp.kiroku.store.RecordStore;
import jp.kiroku.store.ResourceKey;
import jp.kiroku.store.StoredVersion;

/**
 * FHIR interactions for callers inside Kiroku — the web pages (issue 11) — with exactly the checks of the REST API:
 * the person's roles, facility, care relationships and consent restrictions (403 as
 * {@link ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException}, audited), and the same audit events.
 * Nothing here goes around the guard; the REST providers use the same code.
 */
@Component
public class Interactions {

    /** A person signed in to the web pages acts with their roles alone: no app's scopes narrow them. */
    private static final List<String> PERSON_SCOPES = List.of("user/*.cruds");

    private final FhirServices services;
    private final Searches searches;
    private final BreakGlass breakGlass;
    private final Accounts accounts;
    private final TransactionProcessor transactions;

    Interactions(FhirServices services, Searches searches, BreakGlass breakGlass, Accounts accounts,
                 TransactionProcessor transactions) {
        this.services = services;
        this.searches = searches;
        this.breakGlass = breakGlass;
        this.accounts = accounts;
        this.transactions = transactions;
    }

    /** The caller for a person signed in to the web pages. */
    public static Caller person(String username, String address) {
        return new Caller(new Agent(Agent.Kind.USER, username, address), PERSON_SCOPES);
    }

    /**
     * The patients the person has opened by break-glass and may still read so (the page shows a banner); while any
     * are open, every event of this request is audited with purpose BTG, as over the REST API.
     */
    public Set<String> breakGlassPatients(Caller caller) {
        Set<String> opened = services.guard().subject(caller).emergencyPatients();
        if (!opened.isEmpty()) {
            org.slf4j.MDC.put(AuditTrail.PURPOSE, "BTG");
        }
        return opened;
    }

    /**
     * A transaction or batch Bundle, as {@code POST [base]} with no X-Provenance: the same scope checks, validation,
     * reference rules, ledger leaves and audit events as over REST (used by demo mode to load its examples).
     */
    public Bundle transaction(Caller caller, Bundle bundle) {
        return transactions.process(caller, RecordStatus.Attribution.NONE, bundle, null);
    }

    /** The current version (404, 410, 403 as HAPI's exceptions). */
    public Resource read(Caller caller, String type, String id) {
        return services.records().toResource(readVersion(caller, type, id, null));
    }

    /** One version (vread). */
    public Resource vread(Caller caller, String type, String id, int version) {
        return services.records().toResource(readVersion(caller, type, id, Integer.toString(version)));
    }

    /** A search of one type, as {@code GET [type]?params} (hidden records are neither matched nor counted). */
    public Bundle search(Caller caller, String type, Map<String, List<String>> params) {
        services.guard().require(caller, type, Permission.SEARCH, "search");
        return searches.search(caller, Searches.SearchRequest.internal(params), type, null, type);
    }

    /**
     * A patient's chart: {@code Patient/[id]/$everything} with {@code _type}, {@code _since}, {@code _count} (at most
     * 1000 a page) and {@code _snapshot}/{@code _offset} for the next page, audited as {@code chart} (a reading, not an
     * export: the export-spike rule does not count it; mass-access does).
     */
    public Bundle chart(Caller caller, String patientId, Map<String, List<String>> params) {
        services.guard().require(caller, "Patient", Permission.READ, "chart");
        return searches.everything(caller, Searches.SearchRequest.internal(params), patientId, "chart");
    }

    /**
     * Everything of the patient the caller may read, as for the chart, audited as {@code download}: a person taking
     * their records with them (PHR-03), which the export-spike rule does not count as staff exports.
     */
    public Bundle download(Caller caller, String patientId, Map<String, List<String>> params) {
        services.guard().require(caller, "Patient", Permission.READ, "download");
        return searches.everything(caller, Searches.SearchRequest.internal(params), patientId, "download");
    }

    /**
     * Everything of the patient the caller may read, as for the chart, audited as {@code export}: data leaving
     * Kiroku in an exchange format (JP-CLINS), which the export-spike rule counts.
     */
    public Bundle export(Caller caller, String patientId, Map<String, List<String>> params) {
        services.guard().require(caller, "Patient", Permission.READ, "export");
        return searches.everything(caller, Searches.SearchRequest.internal(params), patientId, "export");
    }

    /**
     * Validation only (no write, no audit): base R4, the profiles the resource declares, {@code profileUrl} when not
     * null, JP Core and JP-CLINS, with Kiroku's JP-CLINS checks; codes from unavailable code systems are warnings.
     */
    public org.hl7.fhir.r4.model.OperationOutcome validate(Resource resource, String profileUrl) {
        return services.records().validate(resource, profileUrl);
    }

    /** The caller of a REST request (the token's client or person), for operation providers outside this module. */
    public Caller caller(ca.uhn.fhir.rest.api.server.RequestDetails request) {
        return services.guard().caller(request);
    }

    /** Every version of one resource, newest first (at most {@code limit}), as {@code [type]/[id]/_history}. */
    public List<Resource> history(Caller caller, String type, String id, int limit) {
        services.guard().require(caller, type, Permission.READ, "history");
        ResourceKey key = new ResourceKey(type, id);
        if (services.store().current(key).isEmpty()) {
            throw new ResourceNotFoundException(new IdType(type, id));
        }
        services.guard().requireReach(caller, services.guard().view(caller, Permission.READ), List.of(key), "history");
        return services.history().versions(caller, type, id, 0, limit).stream().map(r -> (Resource) r).toList();
    }

    /**
     * Opens a patient outside the person's care (ACL-04): {@code reason} one of {@link BreakGlass#REASONS}, {@code text}
     * why in words, {@code otp} a current code of the person's authenticator (re-authentication). Refusals are
     * audited; a malformed request is refused before the code is checked, so that it does not spend the code.
     */
    public BreakGlass.Use openBreakGlass(Caller caller, String patientId, String reason, String text, String otp) {
        Agent agent = caller.agent();
        if (agent.kind() != Agent.Kind.USER) {
            refuseBreakGlass(agent, patientId, "not-a-person", "Break-glass is for people, not for systems");
        }
        services.guard().require(caller, "Patient", Permission.READ, "break-glass.open");
        String patient = Http.checkId(patientId);
        ResourceKey key = new ResourceKey("Patient", patient);
        if (services.store().current(key).filter(v -> !v.deleted()).isEmpty()) {
            throw new ResourceNotFoundException("Patient/" + patient + " is not known");
        }
        List<String> problems = BreakGlass.problems(reason, text);
        if (!problems.isEmpty()) {
            throw new InvalidRequestException("Break-glass refused: " + String.join("; ", problems));
        }
        if (!accounts.confirmSecondFactor(agent.id(), otp, agent.address())) {
            refuseBreakGlass(agent, patient, "reauthentication-failed", Accounts.REAUTHENTICATION_REFUSED);
        }
        View view = services.guard().view(caller, Permission.READ);
        if (Boolean.TRUE.equals(view.check(List.of(key)).get(key))) {
            throw new InvalidRequestException("Patient/" + patient + " is already within your reach: break-glass is not needed");
        }
        try {
            return breakGlass.open(services.guard().subject(caller), view, patient, reason, text, agent);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("Break-glass refused: " + e.getMessage());
        } catch (IllegalStateException e) {
            refuseBreakGlass(agent, patient, "not-a-clinician", "Break-glass refused: " + e.getMessage());
            throw e;
        }
    }

    private void refuseBreakGlass(Agent agent, String patient, String why, String message) {
        services.audit().record(AuditRecord.of(agent, "break-glass.open", AuditRecord.Outcome.DENIED)
                .on("Patient", patient, null, patient).withDetail(why));
        throw new ForbiddenOperationException(message);
    }

    /** A confirmation made (or found made already): the version that is the confirmation, by whom, when. */
    public record Confirmation(String type, String id, int version, String by, java.time.Instant at, String outcome) {
    }

    /** The most entries one worklist lists (the oldest first). */
    public static final int WORKLIST_LIMIT = 500;

    /**
     * A person confirms (確定, INTEG-02) the current version of a record, {@code version} being the one they checked;
     * a proxy entry is confirmed (approved, INTEG-04) only by the person it was entered for. The confirmation is a
     * new version with the same content, tagged confirmed, naming the person and the server's time.
     */
    public Confirmation confirm(Caller caller, String type, String id, Integer version) {
        ResourceKey key = new ResourceKey(type, Http.checkId(id));
        if (caller.agent().kind() != Agent.Kind.USER) {
            services.guard().refuseBecause(caller, key, "confirm", "confirmation (確定) is a person's act: a system"
                    + " token cannot confirm records");
        }
        services.guard().requireScopes(caller, type, Permission.UPDATE, "confirm");
        if (version == null) {
            throw new InvalidRequestException("$confirm needs 'version': the version you checked");
        }
        RecordStore.Placed placed = services.store().currentPlaced(key).filter(p -> !p.version().deleted())
                .orElseThrow(() -> new ResourceNotFoundException(key + " is not known"));
        int current = placed.version().versionId();
        if (current != version) {
            throw new ca.uhn.fhir.rest.server.exceptions.ResourceVersionConflictException(key + " is at version " + current
                    + ", not " + version + ": check the current version and confirm that one");
        }
        Placement placement = placed.placement();
        services.guard().requireConfirmable(caller, key, placement);
        RecordStore.Authored authored = services.store().authored(key, current).orElseThrow();
        if (placement.unapproved() && !caller.agent().id().equalsIgnoreCase(authored.onBehalfOf())) {
            services.guard().refuseBecause(caller, key, "confirm", key + " is a proxy entry on behalf of "
                    + authored.onBehalfOf() + ": only they approve it");
        }
        if (placement.confirmed()) {
            return new Confirmation(type, key.id(), current, authored.confirmedBy(), authored.confirmedAt(), "already confirmed");
        }
        Resource resource = services.records().toResource(placed.version());
        FhirServices.Change change = services.records().tagged(
                services.records().change(jp.kiroku.store.Write.Kind.UPDATE, resource, key.id(), current, "confirm"),
                Placement.CONFIRMED);
        jp.kiroku.store.Written w;
        try {
            w = services.commit(caller, RecordStatus.Attribution.CONFIRMING, List.of(change), null, placement.status()).get(0);
        } catch (jp.kiroku.store.StoreException | org.springframework.dao.DuplicateKeyException e) {
            services.audit().record(AuditRecord.of(caller.agent(), "confirm", AuditRecord.Outcome.FAILED)
                    .on(type, key.id(), null, placed.version().patientKey())
                    .withDetail(e instanceof jp.kiroku.store.StoreException s ? s.reason().name() : "concurrent change"));
            throw StoreErrors.toFhir(e);
        }
        return new Confirmation(type, key.id(), w.versionId(), caller.agent().id(), w.lastUpdated(),
                placement.unapproved() ? "approved" : "confirmed");
    }

    /** The person's worklist: the proxy entries awaiting their approval that they may see, oldest first (audited). */
    public List<Resource> unapproved(Caller caller) {
        if (caller.agent().kind() != Agent.Kind.USER) {
            throw new InvalidRequestException("$unapproved is a person's worklist: call it with a token acting for the"
                    + " responsible clinician");
        }
        var view = services.guard().view(caller, Permission.READ);
        List<StoredVersion> entries = services.guard().visibleOnly(view,
                services.store().unapproved(caller.agent().id(), WORKLIST_LIMIT), v -> new ResourceKey(v.type(), v.id()));
        services.audit().record(AuditRecord.of(caller.agent(), "search", AuditRecord.Outcome.SUCCESS)
                .onAll(entries.stream().map(v -> new AuditRecord.Touched(v.type(), v.id(), v.versionId(), v.patientKey()))
                        .toList()).withDetail("$unapproved"));
        return entries.stream().map(services.records()::toResource).toList();
    }

    /**
     * What a printout of the patient's chart may show the person (READ-01): every version of their records recorded
     * in [{@code from}, {@code to}) (either may be null), with who entered and confirmed each — only those the
     * person's roles, care relationships and the patient's consents let them read — audited as {@code print} with
     * every version. 403 (audited) when the patient is outside the person's reach.
     */
    public List<RecordStore.AuthoredVersion> printable(Caller caller, String patientId, java.time.Instant from,
                                                       java.time.Instant to) {
        services.guard().require(caller, "Patient", Permission.READ, "print");
        ResourceKey patient = new ResourceKey("Patient", Http.checkId(patientId));
        if (services.store().current(patient).filter(v -> !v.deleted()).isEmpty()) {
            throw new ResourceNotFoundException(patient + " is not known");
        }
        View view = services.guard().view(caller, Permission.READ);
        services.guard().requireReach(caller, view, List.of(patient), "print");
        return printed(caller, services.guard().visibleOnly(view, services.store().patientVersions(patient.id(), from, to,
                false), v -> new ResourceKey(v.version().type(), v.version().id())), patient.id());
    }

    /** Every version of one record for a printout, when the person may read it (403 otherwise); audited as print. */
    public List<RecordStore.AuthoredVersion> printable(Caller caller, String type, String id) {
        services.guard().require(caller, type, Permission.READ, "print");
        ResourceKey key = new ResourceKey(type, Http.checkId(id));
        List<RecordStore.AuthoredVersion> versions = services.store().versions(key);
        if (versions.isEmpty()) {
            throw new ResourceNotFoundException(key + " is not known");
        }
        services.guard().requireReach(caller, services.guard().view(caller, Permission.READ), List.of(key), "print");
        return printed(caller, versions, versions.get(versions.size() - 1).version().patientKey());
    }

    private List<RecordStore.AuthoredVersion> printed(Caller caller, List<RecordStore.AuthoredVersion> versions,
                                                      String patient) {
        List<AuditRecord.Touched> touched = new java.util.ArrayList<>(versions.stream().map(v -> new AuditRecord.Touched(
                v.version().type(), v.version().id(), v.version().versionId(), v.version().patientKey())).toList());
        if (touched.isEmpty() && patient != null) {
            touched.add(new AuditRecord.Touched("Patient", patient, null, patient));
        }
        services.audit().record(AuditRecord.of(caller.agent(), "print", AuditRecord.Outcome.SUCCESS).onAll(touched)
                .withDetail("versions=" + versions.size()));
        return versions;
    }

    /** Who entered each version, on whose behalf, and who confirmed it (for what the caller was just shown). */
    public Map<RecordStore.VersionKey, RecordStore.Authored> authored(java.util.Collection<RecordStore.VersionKey> versions) {
        return services.store().authored(versions);
    }

    /**
     * A read or vread ({@code version} as sent, null for the current one): the checks and the audit event of the
     * REST read. The REST provider answers with the stored bytes where it may; pages parse them.
     */
    StoredVersion readVersion(Caller caller, String type, String id, String version) {
        String action = version != null ? "vread" : "read";
        services.guard().require(caller, type, Permission.READ, action);
        ResourceKey key = new ResourceKey(type, id);
        StoredVersion v;
        Placement placement = null; // a plain read brings its placement along (no second query)
        if (version != null) {
            Integer number = parseVersion(version);
            v = number == null ? null : services.onReplica(caller, () -> services.store().version(key, number))
                    .or(() -> onPrimaryToo() ? services.store().version(key, number) : java.util.Optional.empty())
                    .orElse(null); // not on the replica (yet): the primary
        } else {
            var placed = services.onReplica(caller, () -> services.store().currentPlaced(key))
                    .or(() -> onPrimaryToo() ? services.store().currentPlaced(key) : java.util.Optional.empty());
            v = placed.map(RecordStore.Placed::version).orElse(null);
            placement = placed.map(RecordStore.Placed::placement).orElse(null);
        }
        if (v == null) {
            services.audit().record(AuditRecord.of(caller.agent(), action, AuditRecord.Outcome.FAILED)
                    .on(type, key.id(), null, null).withDetail("not found"));
            throw new ResourceNotFoundException(version == null ? new IdType(type, id) : new IdType(type, id, version));
        }
        var view = services.guard().view(caller, Permission.READ);
        if (placement != null) {
            services.guard().requireReach(caller, view, key, placement, action);
        } else {
            services.guard().requireReach(caller, view, List.of(key), action);
        }
        services.audit().record(AuditRecord.of(caller.agent(), action, AuditRecord.Outcome.SUCCESS)
                .on(type, key.id(), v.versionId(), v.patientKey()));
        if (v.deleted()) {
            throw new ResourceGoneException("Resource " + key + " was deleted (version " + v.versionId() + ")");
        }
        return v;
    }

    /** A read that found nothing on a replica asks the primary too (it may be younger than the staleness bound). */
    private boolean onPrimaryToo() {
        return services.replica().configured();
    }

    private static Integer parseVersion(String v) {
        try {
            return Integer.valueOf(v);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
