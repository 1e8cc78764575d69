package jp.kiroku.fhir;

import java.util.ArrayList;
import java.util.Date;
import java.util.List;

import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.stereotype.Component;

import ca.uhn.fhir.model.api.ResourceMetadataKeyEnum;
import ca.uhn.fhir.model.valueset.BundleEntryTransactionMethodEnum;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.Caller;
import jp.kiroku.store.HistoryQuery;
import jp.kiroku.store.RecordStore;
import jp.kiroku.store.StoredVersion;

/**
 * History listings (HAPI's history binding always pages by {@code _offset}): every page is checked against the
 * caller's scopes (by the provider method) and every version served is audited.
 */
@Component
class HistoryPaging {

    private final RecordStore store;
    private final FhirRecords records;
    private final AuditTrail audit;
    private final jp.kiroku.platform.ReadReplica replica;

    HistoryPaging(RecordStore store, FhirRecords records, AuditTrail audit, jp.kiroku.platform.ReadReplica replica) {
        this.store = store;
        this.records = records;
        this.audit = audit;
        this.replica = replica;
    }

    IBundleProvider open(Caller caller, String type, String id, Date since, RequestDetails request) {
        HistoryQuery q = new HistoryQuery(type, id, since == null ? null : since.toInstant());
        return new Page(Page.offset(request), Page.count(request), (offset, count) -> page(caller, q, offset, count),
                () -> (int) Math.min(Integer.MAX_VALUE, replica.read(FhirServices.reader(caller), () -> store.historyCount(q))));
    }

    /** Versions of one resource (or a type, or all, for null), newest first, from {@code offset}; audited as history. */
    List<IBaseResource> versions(Caller caller, String type, String id, int offset, int count) {
        return page(caller, new HistoryQuery(type, id, null), offset, count);
    }

    private List<IBaseResource> page(Caller caller, HistoryQuery query, int offset, int count) {
        List<StoredVersion> versions = replica.read(FhirServices.reader(caller), () -> store.history(query, offset, count));
        List<IBaseResource> out = new ArrayList<>(versions.size());
        List<AuditRecord.Touched> touched = new ArrayList<>();
        for (StoredVersion v : versions) {
            Resource r;
            if (v.deleted()) {
                r = (Resource) records.context().getResourceDefinition(v.type()).newInstance();
                r.setId(new IdType(v.type(), v.id(), Integer.toString(v.versionId())));
                r.getMeta().setLastUpdated(Date.from(v.lastUpdated()));
                ResourceMetadataKeyEnum.ENTRY_TRANSACTION_METHOD.put(r, BundleEntryTransactionMethodEnum.DELETE);
            } else {
                r = records.toResource(v);
                ResourceMetadataKeyEnum.ENTRY_TRANSACTION_METHOD.put(r, v.versionId() == 1
                        ? BundleEntryTransactionMethodEnum.POST : BundleEntryTransactionMethodEnum.PUT);
            }
            out.add(r);
            touched.add(new AuditRecord.Touched(v.type(), v.id(), v.versionId(), v.patientKey()));
        }
        AuditRecord event = AuditRecord.of(caller.agent(), "history", AuditRecord.Outcome.SUCCESS);
        if (touched.isEmpty()) {
            event = event.withDetail("empty page");
            if (query.type() != null) {
                event = event.on(query.type(), query.id(), null, null);
            }
        }
        audit.record(event.onAll(touched).withQuery(offset > 0 ? "_offset=" + offset : null));
        return out;
    }
}
