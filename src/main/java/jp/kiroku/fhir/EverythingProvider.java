package jp.kiroku.fhir;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Patient;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import jp.kiroku.access.Permission;
import jp.kiroku.identity.Caller;

/** {@code Patient/[id]/$everything} (with {@code _type}, {@code _since}, {@code _count}, paged): see {@link Searches}. */
final class EverythingProvider {

    private final FhirServices services;
    private final Searches searches;

    EverythingProvider(FhirServices services, Searches searches) {
        this.services = services;
        this.searches = searches;
    }

    @Operation(name = "$everything", type = Patient.class, idempotent = true)
    public Bundle everything(@IdParam IdType id, RequestDetails request) {
        Caller caller = services.guard().caller(request);
        services.guard().require(caller, "Patient", Permission.READ, "$everything");
        return searches.everything(caller, Searches.SearchRequest.of(request), Http.checkId(id.getIdPart()));
    }
}
