package jp.kiroku.fhir;

import java.util.Date;

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

    private final FhirServices services;
    private final Interactions interactions;

    ConfirmationProvider(FhirServices services, Interactions interactions) {
        this.services = services;
        this.interactions = interactions;
    }

    @Operation(name = "$confirm", idempotent = false, global = true)
    public Parameters confirm(@IdParam IdType id, @OperationParam(name = "version", min = 1, max = 1) IntegerType version,
                              RequestDetails request) {
        Interactions.Confirmation c = interactions.confirm(services.guard().caller(request), id.getResourceType(),
                id.getIdPart(), version == null ? null : version.getValue());
        Parameters out = new Parameters();
        out.addParameter().setName("outcome").setValue(new StringType(c.outcome()));
        out.addParameter().setName("confirmed").setValue(new Reference(c.type() + "/" + c.id() + "/_history/" + c.version()));
        out.addParameter().setName("confirmedBy").setValue(new StringType(c.by()));
        out.addParameter().setName("confirmedAt").setValue(new InstantType(Date.from(c.at())));
        return out;
    }

    @Operation(name = "$unapproved", idempotent = true)
    public Bundle unapproved(RequestDetails request) {
        Bundle bundle = new Bundle().setType(Bundle.BundleType.SEARCHSET);
        String base = request.getFhirServerBase();
        for (Resource r : interactions.unapproved(services.guard().caller(request))) {
            bundle.addEntry().setFullUrl(base + "/" + r.fhirType() + "/" + r.getIdElement().getIdPart()).setResource(r)
                    .getSearch().setMode(Bundle.SearchEntryMode.MATCH);
        }
        bundle.setTotal(bundle.getEntry().size());
        return bundle;
    }
}
