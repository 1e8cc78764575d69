package jp.kiroku.fhir;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
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
import ca.uhn.fhir.rest.server.IPagingProvider;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import jp.kiroku.access.Permission;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.Caller;
import jp.kiroku.store.HistoryQuery;
import jp.kiroku.store.RecordStore;
import jp.kiroku.store.StoredVersion;

/**
 * History listings with stateless paging: the "page id" HAPI puts in next links encodes the query itself (type, id,
 * _since and the sequence number that pins the listing), so any server instance can serve any page, and every page
 * is checked against the caller's scopes and audited like the first.
 */
@Component
class HistoryPaging implements IPagingProvider {

    static final int DEFAULT_PAGE = 50;
    static final int MAX_PAGE = 500;

    private final RecordStore store;
    private final FhirRecords records;
    private final AuditTrail audit;
    private final Guard guard;

    HistoryPaging(RecordStore store, FhirRecords records, AuditTrail audit, Guard guard) {
        this.store = store;
        this.records = records;
        this.audit = audit;
        this.guard = guard;
    }

    IBundleProvider open(Caller caller, String type, String id, Date since) {
        HistoryQuery q = new HistoryQuery(type, id, since == null ? null : since.toInstant(), store.latestSeq());
        return new Listing(caller, q);
    }

    @Override
    public int getDefaultPageSize() {
        return DEFAULT_PAGE;
    }

    @Override
    public int getMaximumPageSize() {
        return MAX_PAGE;
    }

    @Override
    public String storeResultList(RequestDetails request, IBundleProvider list) {
        if (list instanceof Listing l) {
            return encode(l.query);
        }
        throw new IllegalStateException("only history listings are paged");
    }

    @Override
    public IBundleProvider retrieveResultList(RequestDetails request, String pageId) {
        HistoryQuery q = decode(pageId);
        Caller caller = guard.caller(request);
        if (q.id() != null) {
            guard.require(caller, q.type(), Permission.READ, "history");
        } else {
            guard.require(caller, q.type(), Permission.SEARCH, "history");
        }
        return new Listing(caller, q);
    }

    private static String encode(HistoryQuery q) {
        String s = String.join("\n", q.type() == null ? "" : q.type(), q.id() == null ? "" : q.id(),
                q.since() == null ? "" : q.since().toString(), Long.toString(q.upToSeq()));
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static HistoryQuery decode(String pageId) {
        try {
            String[] p = new String(Base64.getUrlDecoder().decode(pageId), StandardCharsets.UTF_8).split("\n", -1);
            return new HistoryQuery(p[0].isEmpty() ? null : p[0], p[1].isEmpty() ? null : p[1],
                    p[2].isEmpty() ? null : Instant.parse(p[2]), Long.parseLong(p[3]));
        } catch (RuntimeException e) {
            throw new InvalidRequestException("Invalid or expired page link");
        }
    }

    /** One history listing; HAPI asks it for the slice of the page being served. */
    private final class Listing implements IBundleProvider {
        private final Caller caller;
        private final HistoryQuery query;
        private Integer size;

        Listing(Caller caller, HistoryQuery query) {
            this.caller = caller;
            this.query = query;
        }

        @Override
        public IPrimitiveType<Date> getPublished() {
            return InstantType.now();
        }

        @Override
        public List<IBaseResource> getResources(int from, int to) {
            List<StoredVersion> versions = store.history(query, from, Math.max(0, to - from));
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
            return null;
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
