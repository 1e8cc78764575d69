package jp.kiroku.fhir;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.hl7.fhir.r4.model.Resource;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

import jp.kiroku.access.Permission;
import jp.kiroku.access.View;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.Caller;
import jp.kiroku.search.IndexRows;
import jp.kiroku.search.SearchIndex;
import jp.kiroku.store.Authorship;
import jp.kiroku.store.Placement;
import jp.kiroku.store.RecordStore;
import jp.kiroku.store.ResourceKey;
import jp.kiroku.store.Write;
import jp.kiroku.store.Written;

/** What the providers need, in one place (the providers are plain objects, one per resource type). */
@Component
record FhirServices(RecordStore store, AuditTrail audit, Guard guard, FhirRecords records, TransactionTemplate tx,
                    HistoryPaging history, SearchIndex search, Conditions conditions, jp.kiroku.access.AccessRows accessRows,
                    RecordStatus status, jp.kiroku.incidents.OperatingMode mode,
                    jp.kiroku.devices.Lendings lendings, jp.kiroku.platform.ReadReplica replica) {

    /** Whose writes a replica read must have seen (read-your-writes, {@link jp.kiroku.platform.ReadReplica}). */
    static String reader(Caller caller) {
        return caller.agent().kind().code() + ":" + caller.agent().id();
    }

    /** A read-only piece of a read, search, history or $everything: on the replica when it is fresh enough. */
    <T> T onReplica(Caller caller, java.util.function.Supplier<T> work) {
        return replica.read(reader(caller), work);
    }

    /** A write together with its new version as a resource and that version's search-index values (null for a delete). */
    record Change(Write write, Resource resource, IndexRows rows, String action) {
    }

    /**
     * Refuses (403) changes outside a person's reach: updates and deletes of records they do not reach, and new
     * versions whose patient and category they may not write. Systems are limited by their scopes only.
     */
    private View checkWritable(Caller caller, List<Change> changes) {
        View view = guard.view(caller, Permission.CREATE);
        if (view.unrestricted()) {
            return view;
        }
        // the records as they are, in one look-up for all the changes
        Map<ResourceKey, Placement> existing = store.placements(changes.stream().map(Change::write)
                .filter(w -> w.kind() != Write.Kind.CREATE).map(Write::key).toList());
        for (Change c : changes) {
            Write w = c.write();
            Placement now = existing.get(w.key());
            if (now != null) {
                guard.requireReach(caller, view, w.key(), now, c.action());
            }
            if (w.kind() != Write.Kind.DELETE) {
                guard.requireWritable(caller, view, w.key(), new Placement(w.patientKey(), view.subject().facility(),
                        w.category(), false), c.action());
            }
        }
        return view;
    }

    /**
     * A lent IoT device writes only its own patient's measurements, and only while the patient's consent stands
     * (IOT-02); a refusal is audited and answered 403.
     */
    private void checkLentDevice(Caller caller, List<Change> changes) {
        for (Change c : changes) {
            String device = c.resource() instanceof org.hl7.fhir.r4.model.Observation o && o.hasDevice()
                    ? o.getDevice().getReference() : null;
            String refusal = lendings.refusal(caller.agent().id(), c.write().patientKey(), device);
            if (refusal != null) {
                audit.record(AuditRecord.of(caller.agent(), c.action(), AuditRecord.Outcome.DENIED)
                        .on(c.write().key().type(), null, null, c.write().patientKey()).withDetail("device: not accepted"));
                throw new ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException("Not accepted: " + refusal);
            }
        }
    }

    /**
     * Stores the changes, re-indexes the resources and records one audit event naming every version written, all in
     * one database transaction. A single change is audited under its own action ({@code detail} says how it came,
     * e.g. "batch"); several (a transaction) as one "transaction" event. {@code by} says on whose behalf (proxy input:
     * the versions are unapproved until that person confirms them), why, and whether this is a confirmation; the
     * Provenance resources that record it are written in the same transaction.
     */
    List<Written> commit(Caller caller, RecordStatus.Attribution by, List<Change> changes, String detail) {
        return commit(caller, by, changes, detail, null);
    }

    /** {@code priorStatus}: for a confirmation, the status of the version confirmed (an approval if unapproved). */
    List<Written> commit(Caller caller, RecordStatus.Attribution by, List<Change> given, String detail, String priorStatus) {
        String refusal = mode.writeRefusal(); // business continuity: read-only or isolated
        if (refusal != null) {
            audit.record(AuditRecord.of(caller.agent(), "write", AuditRecord.Outcome.DENIED).withDetail("read-only mode"));
            throw new ca.uhn.fhir.rest.server.exceptions.UnclassifiedServerFailureException(503, refusal);
        }
        if (caller.agent().kind() == jp.kiroku.audit.Agent.Kind.CLIENT && jp.kiroku.devices.Lendings.isDeviceClient(
                caller.agent().id())) {
            checkLentDevice(caller, given);
        }
        View view;
        if (by.confirming()) { // the confirm reach was checked by $confirm; the version's content does not change
            view = guard.view(caller, Permission.CREATE);
        } else {
            view = checkWritable(caller, given);
            status.check(view.subject(), by, given);
        }
        List<Change> changes = by.onBehalfOf() == null ? given : given.stream()
                .map(c -> c.resource() == null ? c : records.tagged(c, Placement.UNAPPROVED)).toList();
        String agentKind = caller.agent().kind().code();
        Authorship who = new Authorship(agentKind, caller.agent().id(), by.onBehalfOfName(),
                by.confirming() ? caller.agent().id() : null, view.subject().facility(), by.reason());
        // what this commit changes for everybody's reads (who may see what): no replica read until it is replayed
        boolean everyone = given.stream().map(c -> c.write().key().type()).anyMatch(jp.kiroku.access.AccessRows::carried);
        try {
            return inTransaction(caller, by, changes, detail, priorStatus, view, agentKind, who);
        } finally {
            // also after a failure: the commit's outcome may be unknown, so read it from the primary
            replica.wrote(reader(caller), everyone);
        }
    }

    private List<Written> inTransaction(Caller caller, RecordStatus.Attribution by, List<Change> changes, String detail,
                                        String priorStatus, View view, String agentKind, Authorship who) {
        return tx.execute(txStatus -> {
            List<Written> out = store.write(changes.stream().map(Change::write).toList(), who);
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
                    accessRows.replace(w.key(), patient, w.deleted() ? null : changes.get(i).resource(), w.lastUpdated());
                }
                touched.add(new AuditRecord.Touched(w.key().type(), w.key().id(), w.versionId(), patient));
            }
            // how each version came to be, for other systems (INTEG-01, -02, -04): written as the caller, never a proxy entry
            List<Change> provenances = status.provenances(caller, by, out, java.util.Optional.ofNullable(priorStatus));
            if (!provenances.isEmpty()) {
                List<Written> recorded = store.write(provenances.stream().map(Change::write).toList(),
                        new Authorship(agentKind, caller.agent().id(), null, null, view.subject().facility(), null));
                for (int i = 0; i < recorded.size(); i++) {
                    Written w = recorded.get(i);
                    index.add(new SearchIndex.Entry(w.key(), w.patientKey(), provenances.get(i).rows(), true));
                    touched.add(new AuditRecord.Touched(w.key().type(), w.key().id(), w.versionId(), w.patientKey()));
                }
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
