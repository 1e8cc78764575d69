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

    /**
     * Stores the changes, re-indexes the resources and records one audit event naming every version written, all in
     * one database transaction. A single change is audited under its own action ({@code detail} says how it came,
     * e.g. "batch"); several (a transaction) as one "transaction" event.
     */
    List<Written> commit(Caller caller, List<Change> changes, String detail) {
        return tx.execute(status -> {
            List<Written> out = store.write(changes.stream().map(Change::write).toList(), authorship(caller));
            List<SearchIndex.Entry> index = new ArrayList<>(out.size());
            List<AuditRecord.Touched> touched = new ArrayList<>(out.size());
            int unchanged = 0;
            for (int i = 0; i < out.size(); i++) {
                Written w = out.get(i);
                String patient = w.patientKey(); // the store carries it for every version, tombstones included
                if (w.noop()) {
                    unchanged++;
                } else {
                    index.add(new SearchIndex.Entry(w.key(), patient, w.deleted() ? null : changes.get(i).rows(), w.created()));
                }
                touched.add(new AuditRecord.Touched(w.key().type(), w.key().id(), w.versionId(), patient));
            }
            search.replace(index);
            String action = changes.size() == 1 && !"transaction".equals(detail) ? changes.get(0).action() : "transaction";
            String note = unchanged == 0 ? detail : joined(detail, unchanged == 1 && out.size() == 1 ? "noop" : "unchanged " + unchanged);
            audit.record(AuditRecord.of(caller.agent(), action, AuditRecord.Outcome.SUCCESS).onAll(touched).withDetail(note));
            return out;
        });
    }

    private static String joined(String a, String b) {
        return a == null ? b : a + " " + b;
    }
}
