package jp.kiroku.fhir;

import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.Caller;
import jp.kiroku.store.Authorship;
import jp.kiroku.store.RecordStore;

/** What the providers need, in one place (the providers are plain objects, one per resource type). */
@Component
record FhirServices(RecordStore store, AuditTrail audit, Guard guard, FhirRecords records, TransactionTemplate tx,
                    HistoryPaging history) {

    Authorship authorship(Caller caller) {
        return new Authorship(caller.agent().kind().code(), caller.agent().id(), null);
    }
}
