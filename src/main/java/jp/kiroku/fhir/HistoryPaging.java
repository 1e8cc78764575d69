package jp.kiroku.fhir;

import java.util.ArrayList;
import java.util.Date;
import java.util.List;

import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IPrimitiveType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.stereotype.Component;

import ca.uhn.fhir.model.api.ResourceMetadataKeyEnum;
import ca.uhn.fhir.model.valueset.BundleEntryTransactionMethodEnum;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.Caller;
import jp.kiroku.store.HistoryQuery;
import jp.kiroku.store.RecordStore;
import jp.kiroku.store.StoredVersion;

/**
 * History listings, paged statelessly with HAPI's {@code _offset} links (HAPI's history binding always pages by
 * offset): each page request runs the query again for its own slice, so any server instance can serve any page, and
 * every page is checked against the caller's scopes (by the provider method) and audited.
 */
@Component
class HistoryPaging {

    static final int DEFAULT_PAGE = 50;
    static final int MAX_PAGE = 1000;

    private final RecordStore store;
    private final FhirRecords records;
    private final AuditTrail audit;

    HistoryPaging(RecordStore store, FhirRecords records, AuditTrail audit) {
        this.store = store;
        this.records = records;
        this.audit = audit;
    }

    IBundleProvider open(Caller caller, String type, String id, Date since, RequestDetails request) {
        int offset = intParam(request, "_offset", 0);
        int count = intParam(request, "_count", DEFAULT_PAGE);
        if (count > MAX_PAGE) {
            throw new InvalidRequestException("_count may be at most " + MAX_PAGE + " for history");
        }
        HistoryQuery q = new HistoryQuery(type, id, since == null ? null : since.toInstant());
        return new Listing(caller, q, offset, count);
    }

    private static int intParam(RequestDetails request, String name, int fallback) {
        String[] values = request.getParameters().get(name);
        if (values == null || values.length == 0 || values[0].isBlank()) {
            return fallback;
        }
        try {
            int v = Integer.parseInt(values[0]);
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new InvalidRequestException(name + " must be a non-negative whole number, not '" + values[0] + "'");
        }
    }

    /** One page of a history listing. */
    private final class Listing implements IBundleProvider {
        private final Caller caller;
        private final HistoryQuery query;
        private final int offset;
        private final int count;
        private Integer size;

        Listing(Caller caller, HistoryQuery query, int offset, int count) {
            this.caller = caller;
            this.query = query;
            this.offset = offset;
            this.count = count;
        }

        @Override
        public IPrimitiveType<Date> getPublished() {
            return InstantType.now();
        }

        @Override
        public Integer getCurrentPageOffset() {
            return offset;
        }

        @Override
        public Integer getCurrentPageSize() {
            return count;
        }

        /** HAPI asks for (0, MAX) since this listing is already the page; honour narrower slices too. */
        @Override
        public List<IBaseResource> getResources(int from, int to) {
            int n = Math.min(count, Math.max(0, to - from));
            List<StoredVersion> versions = store.history(query, offset + from, n);
            List<IBaseResource> out = new ArrayList<>(versions.size());
            List<AuditRecord> events = new ArrayList<>();
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
                events.add(AuditRecord.of(caller.agent(), "history", AuditRecord.Outcome.SUCCESS)
                        .on(v.type(), v.id(), v.versionId(), v.patientKey()));
            }
            if (events.isEmpty()) {
                events.add(AuditRecord.of(caller.agent(), "history", AuditRecord.Outcome.SUCCESS)
                        .on(query.type(), query.id(), null, null).withDetail("empty page"));
            }
            audit.recordAll(events);
            return out;
        }

        @Override
        public String getUuid() {
            return null;
        }

        @Override
        public Integer preferredPageSize() {
            return count;
        }

        @Override
        public Integer size() {
            if (size == null) {
                size = (int) Math.min(Integer.MAX_VALUE, store.historyCount(query));
            }
            return size;
        }
    }
}
