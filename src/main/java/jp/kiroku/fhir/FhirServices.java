package jp.kiroku.fhir;

import java.util.ArrayList;
import java.util.List;

import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.Caller;
import jp.kiroku.search.IndexRows;
import jp.kiroku.search.SearchIndex;
import jp.kiroku.store.Authorship;
import jp.kiroku.store.RecordStore;
import jp.kiroku.store.Write;
import jp.kiroku.store.Written;

/** What the providers need, in one place (the providers are plain objects, one per resource type). */
@Component
record FhirServices(RecordStore store, AuditTrail audit, Guard guard, FhirRecords records, TransactionTemplate tx,
                    HistoryPaging history, SearchIndex search, Conditions conditions) {

    /** A write together with the search-index values of its new version (null for a delete). */
    record Change(Write write, IndexRows rows, String action) {
    }

    Authorship authorship(Caller caller) {
        return new Authorship(caller.agent().kind().code(), caller.agent().id(), null);
    }

    /** Stores the changes, re-indexes the resources and audits each change, all in one database transaction. */
    List<Written> commit(Caller caller, List<Change> changes, String detail) {
        return tx.execute(status -> {
            List<Written> out = store.write(changes.stream().map(Change::write).toList(), authorship(caller));
            List<SearchIndex.Entry> index = new ArrayList<>(out.size());
            List<AuditRecord> events = new ArrayList<>(out.size());
            for (int i = 0; i < out.size(); i++) {
                Written w = out.get(i);
                Change c = changes.get(i);
                String patient = w.patientKey(); // the store carries it for every version, tombstones included
                if (!w.noop()) {
                    index.add(new SearchIndex.Entry(w.key(), patient, w.deleted() ? null : c.rows(), w.created()));
                }
                events.add(AuditRecord.of(caller.agent(), c.action(), AuditRecord.Outcome.SUCCESS)
                        .on(w.key().type(), w.key().id(), w.versionId(), patient)
                        .withDetail(w.noop() ? joined(detail, "noop") : detail));
            }
            search.replace(index);
            audit.recordAll(events);
            return out;
        });
    }

    private static String joined(String a, String b) {
        return a == null ? b : a + " " + b;
    }
}
