package jp.kiroku.fhir;

import java.util.Date;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Supplier;

import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IPrimitiveType;
import org.hl7.fhir.r4.model.InstantType;

import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;

/**
 * One page of a listing (history or search), paged statelessly with HAPI's {@code _offset} links: each page request
 * runs its query again for its own slice, so any server instance can serve any page.
 */
final class Page implements IBundleProvider {

    static final int DEFAULT_COUNT = 50;
    static final int MAX_COUNT = 1000;

    private final int offset;
    private final int count;
    private final BiFunction<Integer, Integer, List<IBaseResource>> fetch;
    private final Supplier<Integer> total;
    private Integer size;

    Page(int offset, int count, BiFunction<Integer, Integer, List<IBaseResource>> fetch, Supplier<Integer> total) {
        this.offset = offset;
        this.count = count;
        this.fetch = fetch;
        this.total = total;
    }

    static int offset(RequestDetails request) {
        return offset(Http.parameters(request));
    }

    static int count(RequestDetails request) {
        return count(Http.parameters(request));
    }

    static int offset(java.util.Map<String, List<String>> params) {
        return intParam(params, "_offset", 0);
    }

    static int count(java.util.Map<String, List<String>> params) {
        int count = intParam(params, "_count", DEFAULT_COUNT);
        if (count > MAX_COUNT) {
            throw new InvalidRequestException("_count may be at most " + MAX_COUNT);
        }
        return count;
    }

    private static int intParam(java.util.Map<String, List<String>> params, String name, int fallback) {
        List<String> values = params.get(name);
        if (values == null || values.isEmpty() || values.get(0).isBlank()) {
            return fallback;
        }
        try {
            int v = Integer.parseInt(values.get(0));
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new InvalidRequestException(name + " must be a non-negative whole number, not '" + values.get(0) + "'");
        }
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

    /** HAPI asks for (0, MAX) since this is already the page; narrower slices are honoured too. */
    @Override
    public List<IBaseResource> getResources(int from, int to) {
        return fetch.apply(offset + from, Math.min(count, Math.max(0, to - from)));
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
            size = total.get();
        }
        return size;
    }
}
