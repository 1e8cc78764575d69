package jp.kiroku.fhir;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.RestfulServerUtils;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;

/** Small HTTP helpers shared by the providers. */
final class Http {

    private static final Pattern ETAG = Pattern.compile("(?:W/)?\"?(\\d{1,9})\"?");
    static final Pattern FHIR_ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");

    private Http() {
    }

    /** The version an If-Match header names, or null when there is none. */
    static Integer ifMatch(RequestDetails request) {
        return parseEtag(request.getHeader(Constants.HEADER_IF_MATCH), "If-Match");
    }

    static Integer parseEtag(String value, String what) {
        if (value == null || value.isBlank()) {
            return null;
        }
        Matcher m = ETAG.matcher(value.trim());
        if (!m.matches()) {
            throw new InvalidRequestException(what + " must name a version, e.g. W/\"3\"; got '" + value + "'");
        }
        return Integer.valueOf(m.group(1));
    }

    static EncodingEnum requestEncoding(RequestDetails request) {
        return RestfulServerUtils.determineRequestEncodingNoDefault(request);
    }

    static String checkId(String id) {
        if (id == null || !FHIR_ID.matcher(id).matches()) {
            throw new InvalidRequestException("'" + id + "' is not a valid FHIR id (1-64 of A-Z a-z 0-9 - .)");
        }
        return id;
    }
}
