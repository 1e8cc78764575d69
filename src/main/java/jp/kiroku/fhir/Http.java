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

    /** The request's query (or form) parameters, in their order, each with all its values. */
    static java.util.Map<String, java.util.List<String>> parameters(RequestDetails request) {
        java.util.Map<String, java.util.List<String>> params = new java.util.LinkedHashMap<>();
        request.getParameters().forEach((name, values) -> params.put(name, java.util.List.of(values)));
        return params;
    }

    /** Parses {@code a=1&b=x%7Cy} (URL-decoded, repeated names kept in order); a pair without '=' is a 400. */
    /** The first value of a parameter; absent and blank alike are null (FHIR ignores empty parameters). */
    static String first(java.util.Map<String, java.util.List<String>> params, String name) {
        java.util.List<String> v = params.get(name);
        return v == null || v.isEmpty() || v.get(0).isBlank() ? null : v.get(0);
    }

    static java.util.Map<String, java.util.List<String>> parseQuery(String query, String what) {
        java.util.Map<String, java.util.List<String>> params = new java.util.LinkedHashMap<>();
        for (String pair : query.split("&")) {
            if (pair.isBlank()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new InvalidRequestException("Invalid parameter '" + pair + "' in " + what);
            }
            String name = java.net.URLDecoder.decode(pair.substring(0, eq), java.nio.charset.StandardCharsets.UTF_8);
            String value = java.net.URLDecoder.decode(pair.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8);
            params.computeIfAbsent(name, k -> new java.util.ArrayList<>()).add(value);
        }
        return params;
    }

    static String checkId(String id) {
        if (id == null || !FHIR_ID.matcher(id).matches()) {
            throw new InvalidRequestException("'" + id + "' is not a valid FHIR id (1-64 of A-Z a-z 0-9 - .)");
        }
        return id;
    }
}
