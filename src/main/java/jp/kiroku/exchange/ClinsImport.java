package jp.kiroku.exchange;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.stereotype.Component;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import jp.kiroku.fhir.Interactions;
import jp.kiroku.identity.Caller;

/**
 * Stores incoming JP-CLINS data (SHARE-02): a document Bundle (referral letter, discharge summary, patient summary), a
 * JP_Bundle_CLINS collection, or a single JP-CLINS resource.
 *
 * <p>How a Bundle is kept: <b>the Bundle itself</b> as a {@code Bundle} resource at its own id, exactly as received
 * (its entries still reference each other by {@code urn:uuid:} fullUrls: a stored Bundle is self-contained, see
 * {@code fhir.FhirRecords#localReferences}), so that reading it back gives the same content; and <b>a copy of every
 * entry</b> as a resource of its own at the entry's id, with the {@code urn:uuid:} references between entries
 * rewritten to those ids (except the document's Composition, which stays only inside the stored Bundle: its section
 * slices are defined by resolving entries in the document), so that the patient's conditions, allergies, results and prescriptions are searchable and in
 * the chart. Both are written in one transaction through {@link Interactions#transaction} (validated against JP Core and
 * JP-CLINS, indexed, ledgered, audited); if anything is refused, nothing is stored.
 *
 * <p>The whole Bundle is validated first, so a refusal names the fault in the Bundle's terms (422 with the
 * OperationOutcome). Entries are matched by id only: importing the same Bundle again writes new versions of the same
 * resources; a patient already known under another id is not merged (no patient matching yet).
 */
@Component
public class ClinsImport {

    /** What an import stored: the Bundle's id (null for a single resource) and every resource written, as Type/id. */
    public record Imported(String bundleId, List<String> resources, OperationOutcome outcome) {
    }

    private final Interactions interactions;
    private final FhirContext ctx;

    ClinsImport(Interactions interactions, FhirContext ctx) {
        this.interactions = interactions;
        this.ctx = ctx;
    }

    /** Parses JSON (or XML) and stores it (see the class comment). */
    public Imported importText(Caller caller, String body) {
        Resource resource;
        try {
            String trimmed = body.stripLeading();
            resource = (Resource) (trimmed.startsWith("<") ? ctx.newXmlParser() : ctx.newJsonParser()).parseResource(body);
        } catch (RuntimeException e) {
            throw new InvalidRequestException("Not a FHIR resource: " + e.getMessage());
        }
        return importResource(caller, resource);
    }

    /** Stores a JP-CLINS Bundle or resource (see the class comment); 422 with the validator's outcome if invalid. */
    public Imported importResource(Caller caller, Resource incoming) {
        OperationOutcome outcome = interactions.validate(incoming, null);
        if (ClinsOutcomes.hasErrors(outcome)) {
            throw new UnprocessableEntityException(ctx, outcome);
        }
        Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        List<String> written = new ArrayList<>();
        String bundleId = null;
        if (incoming instanceof Bundle bundle && (bundle.getType() == Bundle.BundleType.DOCUMENT
                || bundle.getType() == Bundle.BundleType.COLLECTION)) {
            bundleId = bundle.hasIdElement() && bundle.getIdElement().hasIdPart() ? bundle.getIdElement().getIdPart()
                    : UUID.nameUUIDFromBytes(ctx.newJsonParser().encodeResourceToString(bundle).getBytes(StandardCharsets.UTF_8)).toString();
            put(tx, bundle.copy(), "Bundle", bundleId, "Bundle/" + bundleId);
            written.add("Bundle/" + bundleId);
            Map<String, String> ids = new LinkedHashMap<>();
            for (Bundle.BundleEntryComponent e : bundle.getEntry()) {
                Resource r = e.getResource();
                if (r == null || r instanceof org.hl7.fhir.r4.model.Composition) {
                    continue; // the Composition is the document itself: kept only inside the stored Bundle
                }
                String id = jp.kiroku.fhir.StoredBundles.entryId(e);
                if (id == null) {
                    throw new InvalidRequestException("A Bundle entry has neither a resource id nor a fullUrl");
                }
                String key = r.fhirType() + "/" + id;
                if (ids.containsValue(key)) {
                    throw new InvalidRequestException("Two entries of the Bundle are " + key);
                }
                ids.put(e.getFullUrl(), key);
                put(tx, r.copy(), r.fhirType(), id, e.hasFullUrl() ? e.getFullUrl() : key);
                written.add(key);
            }
        } else if (incoming instanceof Bundle b) {
            throw new InvalidRequestException("A JP-CLINS import is a document or collection Bundle, not a " + b.getType().toCode()
                    + " Bundle (post transactions to the FHIR base)");
        } else {
            if (!incoming.getIdElement().hasIdPart()) {
                throw new InvalidRequestException("The resource needs an id to be imported");
            }
            String id = incoming.getIdElement().getIdPart();
            put(tx, incoming.copy(), incoming.fhirType(), id, incoming.fhirType() + "/" + id);
            written.add(incoming.fhirType() + "/" + id);
        }
        interactions.transaction(caller, tx);
        return new Imported(bundleId, written, outcome);
    }

    private static void put(Bundle tx, Resource r, String type, String id, String fullUrl) {
        r.setId(type + "/" + id);
        tx.addEntry().setFullUrl(fullUrl).setResource(r).getRequest().setMethod(Bundle.HTTPVerb.PUT).setUrl(type + "/" + id);
    }
}
