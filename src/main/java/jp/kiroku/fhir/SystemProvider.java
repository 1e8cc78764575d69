package jp.kiroku.fhir;

import java.util.Date;

import org.hl7.fhir.r4.model.Bundle;

import ca.uhn.fhir.rest.annotation.History;
import ca.uhn.fhir.rest.annotation.Since;
import ca.uhn.fhir.rest.annotation.Transaction;
import ca.uhn.fhir.rest.annotation.TransactionParam;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import jp.kiroku.access.Permission;
import jp.kiroku.identity.Caller;

/** System-level interactions: transaction and batch Bundles, and history across all types. */
final class SystemProvider {

    private final FhirServices services;
    private final TransactionProcessor transactions;

    SystemProvider(FhirServices services, TransactionProcessor transactions) {
        this.services = services;
        this.transactions = transactions;
    }

    @Transaction
    public Bundle transaction(@TransactionParam Bundle bundle, RequestDetails request) {
        Caller caller = services.guard().caller(request);
        return transactions.process(caller, services.status().attribution(request), bundle, request.getFhirServerBase());
    }

    @History
    public IBundleProvider systemHistory(@Since Date since, RequestDetails request) {
        Caller caller = services.guard().caller(request);
        services.guard().require(caller, null, Permission.SEARCH, "history");
        return services.history().open(caller, null, null, since, request);
    }
}
