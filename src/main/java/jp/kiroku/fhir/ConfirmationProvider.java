package jp.kiroku.fhir;

import java.util.ArrayList;
import java.util.Date;
import java.util.List;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.exceptions.ResourceVersionConflictException;
import jp.kiroku.access.Permission;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.identity.Caller;
import jp.kiroku.store.Placement;
import jp.kiroku.store.RecordStore;
import jp.kiroku.store.ResourceKey;
import jp.kiroku.store.StoreException;
import jp.kiroku.store.StoredVersion;
import jp.kiroku.store.Write;
import jp.kiroku.store.Written;

/**
 * Record confirmation (確定, INTEG-02) and the approval of proxy entries (INTEG-04).
 * <ul>
 * <li>{@code POST [type]/[id]/$confirm} with {@code version} (the version the person checked): the person confirms
 * it. The confirmation is a new version with the same content, tagged confirmed, whose row names the confirming
 * person and the server's time, plus a Provenance. A proxy entry is confirmed (approved) only by the person on whose
 * behalf it was entered.</li>
 * <li>{@code GET [base]/$unapproved}: the person's worklist, the proxy entries awaiting their approval.</li>
 * </ul>
 */
final class ConfirmationProvider {

    /** The most entries one worklist answer lists (the oldest first). */
    static final int WORKLIST_LIMIT = 500;

    private final FhirServices services;

    ConfirmationProvider(FhirServices services) {
        this.services = services;
    }

    @Operation(name = "$confirm", idempotent = false, global = true)
    public Parameters confirm(@IdParam IdType id, @OperationParam(name = "version", min = 1, max = 1) IntegerType version,
                              RequestDetails request) {
        Caller caller = services.guard().caller(request);
        String type = id.getResourceType();
        ResourceKey key = new ResourceKey(type, Http.checkId(id.getIdPart()));
        if (caller.agent().kind() != Agent.Kind.USER) {
            services.guard().refuseBecause(caller, key, "confirm", "confirmation (確定) is a person's act: a system"
                    + " token cannot confirm records");
        }
        services.guard().requireScopes(caller, type, Permission.UPDATE, "confirm");
        if (version == null || version.getValue() == null) {
            throw new InvalidRequestException("$confirm needs 'version': the version you checked");
        }
        RecordStore.Placed placed = services.store().currentPlaced(key).filter(p -> !p.version().deleted())
                .orElseThrow(() -> new ResourceNotFoundException(key + " is not known"));
        int current = placed.version().versionId();
        if (current != version.getValue()) {
            throw new ResourceVersionConflictException(key + " is at version " + current + ", not " + version.getValue()
                    + ": check the current version and confirm that one");
        }
        Placement placement = placed.placement();
        services.guard().requireConfirmable(caller, key, placement);
        RecordStore.Authored authored = services.store().authored(key, current).orElseThrow();
        if (placement.unapproved() && !caller.agent().id().equalsIgnoreCase(authored.onBehalfOf())) {
            services.guard().refuseBecause(caller, key, "confirm", key + " is a proxy entry on behalf of "
                    + authored.onBehalfOf() + ": only they approve it");
        }
        if (placement.confirmed()) {
            return answer(key, current, authored.confirmedBy(), authored.confirmedAt(), "already confirmed");
        }
        Resource resource = services.records().toResource(placed.version());
        FhirServices.Change change = services.records().tagged(
                services.records().change(Write.Kind.UPDATE, resource, key.id(), current, "confirm"), Placement.CONFIRMED);
        Written w;
        try {
            w = services.commit(caller, RecordStatus.Attribution.CONFIRMING, List.of(change), null, placement.status()).get(0);
        } catch (StoreException | org.springframework.dao.DuplicateKeyException e) {
            services.audit().record(AuditRecord.of(caller.agent(), "confirm", AuditRecord.Outcome.FAILED)
                    .on(type, key.id(), null, placed.version().patientKey())
                    .withDetail(e instanceof StoreException s ? s.reason().name() : "concurrent change"));
            throw StoreErrors.toFhir(e);
        }
        return answer(key, w.versionId(), caller.agent().id(), w.lastUpdated(), placement.unapproved() ? "approved" : "confirmed");
    }

    private static Parameters answer(ResourceKey key, int version, String by, java.time.Instant at, String outcome) {
        Parameters out = new Parameters();
        out.addParameter().setName("outcome").setValue(new StringType(outcome));
        out.addParameter().setName("confirmed").setValue(new Reference(key.type() + "/" + key.id() + "/_history/" + version));
        out.addParameter().setName("confirmedBy").setValue(new StringType(by));
        out.addParameter().setName("confirmedAt").setValue(new InstantType(Date.from(at)));
        return out;
    }

    @Operation(name = "$unapproved", idempotent = true)
    public Bundle unapproved(RequestDetails request) {
        Caller caller = services.guard().caller(request);
        if (caller.agent().kind() != Agent.Kind.USER) {
            throw new InvalidRequestException("$unapproved is a person's worklist: call it with a token acting for the"
                    + " responsible clinician");
        }
        var view = services.guard().view(caller, Permission.READ);
        List<StoredVersion> entries = services.guard().visibleOnly(view,
                services.store().unapproved(caller.agent().id(), WORKLIST_LIMIT), v -> new ResourceKey(v.type(), v.id()));
        Bundle bundle = new Bundle().setType(Bundle.BundleType.SEARCHSET);
        bundle.setTotal(entries.size());
        List<AuditRecord.Touched> touched = new ArrayList<>(entries.size());
        String base = request.getFhirServerBase();
        for (StoredVersion v : entries) {
            bundle.addEntry().setFullUrl(base + "/" + v.type() + "/" + v.id()).setResource(services.records().toResource(v))
                    .getSearch().setMode(Bundle.SearchEntryMode.MATCH);
            touched.add(new AuditRecord.Touched(v.type(), v.id(), v.versionId(), v.patientKey()));
        }
        services.audit().record(AuditRecord.of(caller.agent(), "search", AuditRecord.Outcome.SUCCESS).onAll(touched)
                .withDetail("$unapproved"));
        return bundle;
    }
}
