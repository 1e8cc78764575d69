package jp.kiroku.fhir;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;

import org.hl7.fhir.instance.model.api.IBaseReference;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.stereotype.Component;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.StrictErrorHandler;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import ca.uhn.fhir.util.FhirTerser;
import jp.kiroku.access.AccessPolicy;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.search.SearchIndex;
import jp.kiroku.store.ResourceKey;
import jp.kiroku.store.StoredVersion;
import jp.kiroku.store.Write;

/**
 * FHIR-side work around the store: strict parsing, validation, finding a resource's patient and local references,
 * and rendering the exact bytes that are stored (JSON, with id, versionId and lastUpdated set).
 */
@Component
class FhirRecords {

    private final FhirContext ctx;
    private final ProfileValidator validator;
    private final KirokuProperties props;
    private final SearchIndex search;
    private final AccessPolicy access;

    FhirRecords(FhirContext ctx, ProfileValidator validator, KirokuProperties props, SearchIndex search, AccessPolicy access) {
        this.ctx = ctx;
        this.access = access;
        this.validator = validator;
        this.props = props;
        this.search = search;
    }

    FhirContext context() {
        return ctx;
    }

    IParser strictParser(EncodingEnum encoding) {
        IParser p = encoding == EncodingEnum.XML ? ctx.newXmlParser() : ctx.newJsonParser();
        p.setParserErrorHandler(new StrictErrorHandler());
        p.setOverrideResourceIdWithBundleEntryFullUrl(false);
        return p;
    }

    /** Parses a request body strictly: unknown elements, malformed primitives and wrong types are 400s. */
    IBaseResource parse(String body, EncodingEnum encoding) {
        if (body == null || body.isBlank()) {
            throw new InvalidRequestException("The request has no body; a FHIR resource was expected");
        }
        EncodingEnum enc = encoding != null ? encoding : body.stripLeading().startsWith("<") ? EncodingEnum.XML : EncodingEnum.JSON;
        try {
            return strictParser(enc).parseResource(body);
        } catch (DataFormatException e) {
            throw new InvalidRequestException("Invalid " + enc.getFormatContentType() + " body: " + e.getMessage());
        }
    }

    /** Parses and checks that the body is of the type the URL names. */
    Resource parseAs(String type, String body, EncodingEnum encoding) {
        IBaseResource r = parse(body, encoding);
        String actual = ctx.getResourceType(r);
        if (!actual.equals(type)) {
            throw new InvalidRequestException("The body is a " + actual + " but the URL names " + type);
        }
        return (Resource) r;
    }

    /**
     * Full instance validation when the resource claims a profile, or always with kiroku.validation=full; errors
     * become 422 with the validator's OperationOutcome.
     */
    void validateIfRequired(Resource resource) {
        boolean claimsProfile = resource.hasMeta() && resource.getMeta().hasProfile();
        if (!claimsProfile && props.getValidation() != KirokuProperties.ValidationLevel.FULL) {
            return;
        }
        OperationOutcome outcome = validate(resource, null);
        if (ProfileValidator.hasErrors(outcome)) {
            outcome.getIssue().removeIf(i -> i.getSeverity() != OperationOutcome.IssueSeverity.ERROR
                    && i.getSeverity() != OperationOutcome.IssueSeverity.FATAL);
            throw new UnprocessableEntityException(ctx, outcome);
        }
    }

    /** Full validation; a validator that cannot process the resource at all is reported as a 422 too. */
    OperationOutcome validate(Resource resource, String profile) {
        try {
            return validator.validate(resource, profile);
        } catch (RuntimeException e) {
            throw new UnprocessableEntityException("The validator could not process this resource: " + e.getMessage());
        }
    }

    /** The Patient whose compartment holds this resource: its own id for a Patient; null when none. */
    String patientKey(Resource resource, String id) {
        String type = resource.fhirType();
        if (type.equals("Patient")) {
            return id;
        }
        if (resource instanceof org.hl7.fhir.r4.model.Bundle bundle) {
            // FHIR puts no Bundle in the Patient compartment, but a stored document or collection holds the patient's
            // data: it is placed, sealed and access-checked as theirs (whoever writes it must reach that patient)
            return StoredBundles.patient(bundle);
        }
        if (ctx.getResourceDefinition(type).getSearchParamsForCompartmentName("Patient").isEmpty()) {
            return null;
        }
        FhirTerser terser = ctx.newTerser();
        return terser.getCompartmentReferencesForResource("Patient", resource, Set.of())
                .map(IBaseReference::getReferenceElement)
                .filter(ref -> "Patient".equals(ref.getResourceType()) && ref.hasIdPart() && !ref.isAbsolute())
                .map(IIdType::getIdPart)
                .findFirst().orElse(null);
    }

    /**
     * Local references (Type/id) in the resource, which must resolve; absolute URLs and #contained are not local. A
     * stored Bundle (a JP-CLINS document or collection kept as received) is self-contained: the references of its
     * entries resolve inside it by fullUrl (FHIR's Bundle resolution rules), so none are checked or rewritten.
     */
    List<ResourceKey> localReferences(Resource resource) {
        List<ResourceKey> refs = new ArrayList<>();
        if (resource instanceof org.hl7.fhir.r4.model.Bundle) {
            return refs;
        }
        for (var info : ctx.newTerser().getAllResourceReferences(resource)) {
            String value = info.getResourceReference().getReferenceElement().getValue();
            if (value == null || value.startsWith("#")) {
                continue;
            }
            if (value.startsWith("urn:uuid:") || value.startsWith("urn:oid:")) {
                throw new InvalidRequestException("Unresolvable reference '" + value + "' in " + info.getName()
                        + ": urn: references resolve only to entries of the same transaction Bundle");
            }
            IdType id = new IdType(value);
            if (id.isAbsolute() || !id.hasResourceType() || !id.hasIdPart()) {
                continue;
            }
            if (!ctx.getResourceTypes().contains(id.getResourceType())) {
                throw new InvalidRequestException("Invalid reference '" + value + "': " + id.getResourceType()
                        + " is not an R4 resource type");
            }
            refs.add(new ResourceKey(id.getResourceType(), id.getIdPart()));
        }
        return refs;
    }

    /**
     * A create or update with the search-index values of the new version. A record-status tag the client sent is
     * dropped: only the server says what is confirmed ({@link RecordStatus}).
     */
    FhirServices.Change change(Write.Kind kind, Resource resource, String id, Integer expectedVersion, String action) {
        RecordStatus.stripTags(resource);
        Write write = toWrite(kind, resource, id, expectedVersion);
        return new FhirServices.Change(write, resource, search.extract(resource), action);
    }

    /** The change with its resource tagged with a record status ({@link RecordStatus#SYSTEM}), indexed anew. */
    FhirServices.Change tagged(FhirServices.Change change, String status) {
        RecordStatus.tag(change.resource(), status);
        return new FhirServices.Change(change.write(), change.resource(), search.extract(change.resource()), change.action());
    }

    /** The search-index values of a resource. */
    jp.kiroku.search.IndexRows index(Resource resource) {
        return search.extract(resource);
    }

    /** A store write for a create or update; the body is rendered once the store has fixed version and time. */
    Write toWrite(Write.Kind kind, Resource resource, String id, Integer expectedVersion) {
        String type = resource.fhirType();
        ResourceKey key = new ResourceKey(type, id);
        String patient = patientKey(resource, id);
        String category = access.categoryOf(resource);
        List<ResourceKey> refs = localReferences(resource);
        Write.BodyRenderer render = (version, lastUpdated) -> {
            resource.setId(new IdType(type, id, Integer.toString(version)));
            resource.getMeta().setVersionId(Integer.toString(version));
            resource.getMeta().setLastUpdated(Date.from(lastUpdated));
            return ctx.newJsonParser().encodeResourceToString(resource).getBytes(StandardCharsets.UTF_8);
        };
        return kind == Write.Kind.CREATE ? Write.create(key, patient, category, refs, render)
                : Write.update(key, expectedVersion, patient, category, refs, render);
    }

    /** A stored version as a resource; a tombstone has no body and is represented by the caller. */
    Resource toResource(StoredVersion v) {
        return (Resource) ctx.newJsonParser().parseResource(new String(v.body(), StandardCharsets.UTF_8));
    }
}
