package jp.kiroku.fhir;

import java.util.Date;
import java.util.List;
import java.util.UUID;

import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Resource;

import ca.uhn.fhir.rest.annotation.ConditionalUrlParam;
import ca.uhn.fhir.rest.annotation.Create;
import ca.uhn.fhir.rest.annotation.Delete;
import ca.uhn.fhir.rest.annotation.History;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Read;
import ca.uhn.fhir.rest.annotation.ResourceParam;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.annotation.Since;
import ca.uhn.fhir.rest.annotation.Update;
import ca.uhn.fhir.rest.annotation.Validate;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import jp.kiroku.access.Permission;
import jp.kiroku.access.SmartScopes;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.identity.Caller;
import jp.kiroku.search.SearchIndex;
import jp.kiroku.store.ResourceKey;
import jp.kiroku.store.StoreException;
import jp.kiroku.store.StoredVersion;
import jp.kiroku.store.Write;
import jp.kiroku.store.Written;

/**
 * The REST interactions of one resource type. One instance per R4 resource type, so that every type HAPI's
 * FhirContext knows is served, and the CapabilityStatement (generated from these bindings) says exactly that.
 */
final class ResourceTypeProvider implements IResourceProvider {

    private final Class<? extends IBaseResource> resourceClass;
    private final String type;
    private final FhirServices services;
    private final Searches searches;
    private final Interactions interactions;

    ResourceTypeProvider(Class<? extends IBaseResource> resourceClass, String type, FhirServices services, Searches searches,
                         Interactions interactions) {
        this.resourceClass = resourceClass;
        this.type = type;
        this.services = services;
        this.interactions = interactions;
        this.searches = searches;
    }

    @Override
    public Class<? extends IBaseResource> getResourceType() {
        return resourceClass;
    }

    @Read(version = true)
    public IBaseResource read(@IdParam IdType id, RequestDetails request) {
        StoredVersion v = interactions.readVersion(services.guard().caller(request), type, id.getIdPart(),
                id.hasVersionIdPart() ? id.getVersionIdPart() : null);
        return StoredJson.applies(request) ? StoredJson.standIn(services.records().context(), v) : services.records().toResource(v);
    }

    @Create
    public MethodOutcome create(@ResourceParam String body, RequestDetails request) {
        Caller caller = services.guard().caller(request);
        services.guard().require(caller, type, Permission.CREATE, "create");
        Resource resource = services.records().parseAs(type, body, Http.requestEncoding(request));
        String ifNoneExist = request.getHeader(Constants.HEADER_IF_NONE_EXIST);
        if (ifNoneExist != null) {
            List<ResourceKey> matches = services.conditions().match(caller, type, ifNoneExist);
            if (matches.size() > 1) {
                throw new PreconditionFailedException("If-None-Exist '" + ifNoneExist + "' matches more than one " + type);
            }
            if (matches.size() == 1) { // conditional create: it exists, nothing is written
                IBaseResource existing = read(new IdType(type, matches.get(0).id()), request);
                MethodOutcome out = new MethodOutcome(existing.getIdElement(), false);
                out.setResource(existing);
                return out;
            }
        }
        services.records().validateIfRequired(resource);
        String id = UUID.randomUUID().toString();
        Written w = write(caller, request, services.records().change(Write.Kind.CREATE, resource, id, null, "create"));
        MethodOutcome out = new MethodOutcome(new IdType(type, id, Integer.toString(w.versionId())), true);
        out.setResource(resource);
        return out;
    }

    @Update
    public MethodOutcome update(@IdParam IdType id, @ConditionalUrlParam String conditional, @ResourceParam String body,
                                RequestDetails request) {
        Caller caller = services.guard().caller(request);
        services.guard().require(caller, type, Permission.UPDATE, "update");
        Resource resource = services.records().parseAs(type, body, Http.requestEncoding(request));
        String bodyId = resource.hasIdElement() ? resource.getIdElement().getIdPart() : null;
        String resourceId;
        if (conditional != null) { // PUT Type?params: update the one match, or create when there is none
            List<ResourceKey> matches = services.conditions().match(caller, type, conditional);
            if (matches.size() > 1) {
                throw new PreconditionFailedException("The condition '" + conditional + "' matches more than one " + type);
            }
            resourceId = matches.isEmpty() ? (bodyId != null ? Http.checkId(bodyId) : UUID.randomUUID().toString())
                    : matches.get(0).id();
            if (bodyId != null && !bodyId.equals(resourceId)) {
                throw new InvalidRequestException("The body's id (" + bodyId + ") is not the id of the resource the condition"
                        + " matches (" + resourceId + ")");
            }
        } else {
            resourceId = Http.checkId(id.getIdPart());
            if (!resourceId.equals(bodyId)) {
                throw new InvalidRequestException("The body's id (" + (bodyId != null ? bodyId : "none")
                        + ") must match the id in the URL (" + resourceId + ")");
            }
        }
        services.records().validateIfRequired(resource);
        Written w = write(caller, request, services.records().change(Write.Kind.UPDATE, resource, resourceId, Http.ifMatch(request),
                "update"));
        MethodOutcome out = new MethodOutcome(new IdType(type, resourceId, Integer.toString(w.versionId())), w.created());
        out.setResource(resource);
        return out;
    }

    @Delete
    public MethodOutcome delete(@IdParam IdType id, @ConditionalUrlParam String conditional, RequestDetails request) {
        Caller caller = services.guard().caller(request);
        services.guard().require(caller, type, Permission.DELETE, "delete");
        ResourceKey key;
        if (conditional != null) {
            List<ResourceKey> matches = services.conditions().match(caller, type, conditional);
            if (matches.size() > 1) {
                throw new PreconditionFailedException("The condition '" + conditional + "' matches more than one " + type);
            }
            if (matches.isEmpty()) {
                MethodOutcome out = new MethodOutcome();
                out.setOperationOutcome(information("Nothing to delete: no " + type + " matches '" + conditional + "'"));
                return out;
            }
            key = matches.get(0);
        } else {
            key = new ResourceKey(type, id.getIdPart());
        }
        Written w = write(caller, request, new FhirServices.Change(Write.delete(key, Http.ifMatch(request)), null, null, "delete"));
        MethodOutcome out = new MethodOutcome(new IdType(type, key.id(), Integer.toString(w.versionId())));
        out.setOperationOutcome(information(w.noop() ? "Nothing to delete: " + key + " does not exist or is already deleted"
                : "Deleted " + key + " (tombstone version " + w.versionId() + "; earlier versions are kept)"));
        return out;
    }

    private static OperationOutcome information(String text) {
        OperationOutcome oo = new OperationOutcome();
        oo.addIssue().setSeverity(OperationOutcome.IssueSeverity.INFORMATION).setCode(OperationOutcome.IssueType.INFORMATIONAL)
                .setDiagnostics(text);
        return oo;
    }

    private Written write(Caller caller, RequestDetails request, FhirServices.Change change) {
        try {
            return services.commit(caller, services.status().attribution(request), List.of(change), null).get(0);
        } catch (StoreException | org.springframework.dao.DuplicateKeyException e) {
            services.audit().record(AuditRecord.of(caller.agent(), change.action(), AuditRecord.Outcome.FAILED)
                    .on(type, change.write().key().id(), null, change.write().patientKey())
                    .withDetail(e instanceof StoreException s ? s.reason().name() : "concurrent change"));
            throw StoreErrors.toFhir(e);
        }
    }

    /** GET [type]?params (and POST [type]/_search, and compartment searches forwarded here): see {@link Searches}. */
    @Search(allowUnknownParams = true)
    public org.hl7.fhir.r4.model.Bundle search(RequestDetails request) {
        Caller caller = services.guard().caller(request);
        services.guard().require(caller, type, Permission.SEARCH, "search");
        SearchIndex.Compartment compartment = CompartmentPaths.compartment(request);
        String path = compartment == null ? type : compartment.type() + "/" + compartment.id() + "/" + type;
        return searches.search(caller, Searches.SearchRequest.of(request), type, compartment, path);
    }

    @History
    public IBundleProvider instanceHistory(@IdParam IdType id, @Since Date since, RequestDetails request) {
        Caller caller = services.guard().caller(request);
        services.guard().require(caller, type, Permission.READ, "history");
        ResourceKey key = new ResourceKey(type, id.getIdPart());
        if (services.store().current(key).isEmpty()) {
            throw new ResourceNotFoundException(id);
        }
        services.guard().requireReach(caller, services.guard().view(caller, Permission.READ), List.of(key), "history");
        return services.history().open(caller, type, key.id(), since, request);
    }

    @History
    public IBundleProvider typeHistory(@Since Date since, RequestDetails request) {
        Caller caller = services.guard().caller(request);
        services.guard().require(caller, type, Permission.SEARCH, "history");
        services.guard().requireSystem(caller, type, "history", "the history of a whole type spans patients; people read"
                + " the history of one resource (Type/id/_history) or search");
        return services.history().open(caller, type, null, since, request);
    }

    @Validate
    public MethodOutcome validate(@ResourceParam String body, @Validate.Profile String profile, RequestDetails request) {
        Caller caller = services.guard().caller(request);
        if (!SmartScopes.of(caller.scopes()).permitsAnything(type)) {
            services.guard().deny(caller, type, "validate", Permission.READ);
        }
        Resource resource = services.records().parseAs(type, body, Http.requestEncoding(request));
        OperationOutcome oo = services.records().validate(resource, profile);
        if (oo.getIssue().isEmpty()) {
            oo = information("No issues detected");
        }
        MethodOutcome out = new MethodOutcome();
        out.setOperationOutcome(oo);
        return out;
    }
}
