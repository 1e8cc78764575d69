package jp.kiroku.fhir;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Set;

import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Resource;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.ResponseDetails;
import ca.uhn.fhir.rest.server.RestfulServerUtils;
import jakarta.servlet.http.HttpServletResponse;
import jp.kiroku.store.StoredVersion;

/**
 * Answers reads and searches with the stored JSON bytes themselves when the client wants plain JSON: the stored body
 * already is the resource as served (id, versionId, lastUpdated set at write), so parsing it into HAPI objects and
 * encoding it again only cost CPU (about a quarter of a read, measured with JFR; see bench/RESULTS.md). Any other
 * output (XML, _pretty, _summary, _elements) goes through HAPI as before.
 * <p>
 * The providers return a "stand-in": an empty resource of the right type with id and meta (for HAPI's checks and
 * headers) that carries the stored bytes; {@link #write} sends them, or a searchset Bundle of them.
 */
final class StoredJson {

    /**
     * RFC 9110 IMF-fixdate, as HAPI writes it: a two-digit day ("Sun, 06 Dec 2026 ..."). The JDK's RFC_1123_DATE_TIME
     * writes one digit on days 1-9, so the two encodings disagreed on those days.
     */
    private static final java.time.format.DateTimeFormatter HTTP_DATE =
            java.time.format.DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", java.util.Locale.US);

    private static final String BYTES = StoredJson.class.getName() + ".bytes";
    private static final String BUNDLE = StoredJson.class.getName() + ".bundle";
    private static final Set<String> REFORMATTING = Set.of(Constants.PARAM_SUMMARY, Constants.PARAM_ELEMENTS,
            Constants.PARAM_ELEMENTS + Constants.PARAM_ELEMENTS_EXCLUDE_MODIFIER, Constants.PARAM_PRETTY);
    private static final JsonFactory JSON = new JsonFactory();

    private StoredJson() {
    }

    /** Whether this request's response can be the stored bytes: JSON, not pretty-printed, no element filters. */
    static boolean applies(RequestDetails request) {
        for (String p : REFORMATTING) {
            if (request.getParameters().containsKey(p)) {
                return false;
            }
        }
        var encoding = RestfulServerUtils.determineResponseEncodingNoDefault(request, EncodingEnum.JSON);
        return encoding == null || encoding.getEncoding() == EncodingEnum.JSON;
    }

    /** The stand-in for a stored version: type, id, version and time, and the bytes. */
    static Resource standIn(FhirContext ctx, StoredVersion v) {
        Resource r = (Resource) ctx.getResourceDefinition(v.type()).newInstance();
        r.setId(new IdType(v.type(), v.id(), Integer.toString(v.versionId())));
        r.getMeta().setVersionId(Integer.toString(v.versionId())).setLastUpdated(java.util.Date.from(v.lastUpdated()));
        r.setUserData(BYTES, v.body());
        return r;
    }

    /** Marks a searchset Bundle whose entries are stand-ins (or real resources, e.g. an OperationOutcome). */
    static Bundle mark(Bundle b) {
        b.setUserData(BUNDLE, Boolean.TRUE);
        return b;
    }

    /** Registered with HAPI's server: writes stand-ins and marked Bundles itself; everything else is HAPI's. */
    static final class Writer {
        private final FhirContext ctx;

        Writer(FhirContext ctx) {
            this.ctx = ctx;
        }

        @Hook(Pointcut.SERVER_OUTGOING_RESPONSE)
        public boolean write(RequestDetails request, ResponseDetails details, HttpServletResponse response) throws IOException {
            IBaseResource resource = details.getResponseResource();
            if (resource == null || response == null) {
                return true;
            }
            byte[] bytes = (byte[]) ((Resource) resource).getUserData(BYTES);
            boolean bundle = resource instanceof Bundle b && b.getUserData(BUNDLE) != null;
            if (bytes == null && !bundle) {
                return true;
            }
            response.setStatus(details.getResponseCode());
            response.setContentType(Constants.CT_FHIR_JSON_NEW + Constants.CHARSET_UTF8_CTSUFFIX);
            if (bytes != null) {
                Resource r = (Resource) resource;
                response.setHeader(Constants.HEADER_ETAG, "W/\"" + r.getMeta().getVersionId() + "\"");
                response.setHeader(Constants.HEADER_LAST_MODIFIED, HTTP_DATE
                        .format(r.getMeta().getLastUpdated().toInstant().atZone(java.time.ZoneOffset.UTC)));
                response.setHeader(Constants.HEADER_CONTENT_LOCATION, request.getFhirServerBase() + "/"
                        + r.getIdElement().getValue());
                response.setContentLength(bytes.length);
                response.getOutputStream().write(bytes);
            } else {
                writeBundle((Bundle) resource, response.getOutputStream());
            }
            return false;
        }

        private void writeBundle(Bundle b, OutputStream out) throws IOException {
            try (JsonGenerator g = JSON.createGenerator(out, JsonEncoding.UTF8)
                    .disable(JsonGenerator.Feature.FLUSH_PASSED_TO_STREAM)) {
                g.writeStartObject();
                g.writeStringField("resourceType", "Bundle");
                g.writeStringField("id", b.getIdElement().getIdPart());
                g.writeObjectFieldStart("meta");
                g.writeStringField("lastUpdated", b.getMeta().getLastUpdatedElement().getValueAsString());
                g.writeEndObject();
                g.writeStringField("type", b.getType().toCode());
                if (b.hasTotal()) {
                    g.writeNumberField("total", b.getTotal());
                }
                g.writeArrayFieldStart("link");
                for (Bundle.BundleLinkComponent l : b.getLink()) {
                    g.writeStartObject();
                    g.writeStringField("relation", l.getRelation());
                    g.writeStringField("url", l.getUrl());
                    g.writeEndObject();
                }
                g.writeEndArray();
                if (b.hasEntry()) {
                    g.writeArrayFieldStart("entry");
                    for (Bundle.BundleEntryComponent e : b.getEntry()) {
                        g.writeStartObject();
                        if (e.hasFullUrl()) {
                            g.writeStringField("fullUrl", e.getFullUrl());
                        }
                        byte[] bytes = (byte[]) e.getResource().getUserData(BYTES);
                        g.writeFieldName("resource");
                        if (bytes != null) {
                            // the stored UTF-8 goes out as it is: an empty raw value writes the separator, the flush
                            // hands Jackson's buffer to the stream (not further), then the bytes follow
                            g.writeRawValue("");
                            g.flush();
                            out.write(bytes);
                        } else {
                            g.writeRawValue(ctx.newJsonParser().encodeResourceToString(e.getResource()));
                        }
                        g.writeObjectFieldStart("search");
                        g.writeStringField("mode", e.getSearch().getMode().toCode());
                        g.writeEndObject();
                        g.writeEndObject();
                    }
                    g.writeEndArray();
                }
                g.writeEndObject();
            }
        }
    }
}
