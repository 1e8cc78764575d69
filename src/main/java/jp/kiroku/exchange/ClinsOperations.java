package jp.kiroku.exchange;

import java.util.List;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.springframework.stereotype.Component;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.annotation.ResourceParam;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import jp.kiroku.fhir.Interactions;
import jp.kiroku.fhir.OperationProvider;
import jp.kiroku.identity.Caller;

/**
 * The REST face of JP-CLINS exchange: {@code GET /fhir/Patient/[id]/$clins-export?type=...} and
 * {@code POST /fhir/$clins-import}. Both take the token's caller; the export reads through {@link Interactions#export}
 * (the patient must be readable by the caller, audited as {@code export}), the import writes through
 * {@link Interactions#transaction} (scopes, validation, ledger, audit as for any transaction).
 */
@Component
public class ClinsOperations implements OperationProvider {

    private final Interactions interactions;
    private final ClinsExport export;
    private final ClinsImport importer;

    ClinsOperations(Interactions interactions, ClinsExport export, ClinsImport importer) {
        this.interactions = interactions;
        this.export = export;
        this.importer = importer;
    }

    /**
     * {@code type}: {@code referral} (a document Bundle; with {@code to-organization}, optionally {@code to-practitioner},
     * and {@code purpose}) or {@code discharge} (the latest finished inpatient stay), {@code conditions}, {@code allergies} or
     * {@code labs} (one JP_Bundle_CLINS collection), or {@code information} (a plain collection Bundle holding the JP_Bundle_CLINS
     * Bundles that have content, one per information type).
     */
    @Operation(name = "$clins-export", type = Patient.class, idempotent = true)
    public Bundle clinsExport(@IdParam IdType id, @OperationParam(name = "type", min = 1) String type,
                              @OperationParam(name = "to-organization") String toOrganization,
                              @OperationParam(name = "to-practitioner") String toPractitioner,
                              @OperationParam(name = "purpose") String purpose, RequestDetails request) {
        ClinsDocuments.Referral referral = new ClinsDocuments.Referral(toOrganization, toPractitioner, purpose);
        Caller caller = interactions.caller(request);
        String patient = id.getIdPart();
        return switch (type == null ? "" : type) {
            case "referral" -> export.document(caller, patient, ClinsDocuments.Type.REFERRAL, referral).bundle();
            case "discharge" -> export.document(caller, patient, ClinsDocuments.Type.DISCHARGE, referral).bundle();
            case "conditions" -> export.information(caller, patient, ClinsExport.Kind.CONDITIONS).bundle();
            case "allergies" -> export.information(caller, patient, ClinsExport.Kind.ALLERGIES).bundle();
            case "labs" -> export.information(caller, patient, ClinsExport.Kind.LABS).bundle();
            case "information" -> {
                Bundle all = new Bundle().setType(Bundle.BundleType.COLLECTION);
                for (ClinsExport.Exported e : export.information(caller, patient)) {
                    all.addEntry().setFullUrl("urn:uuid:" + e.bundle().getIdElement().getIdPart()).setResource(e.bundle());
                }
                yield all;
            }
            default -> throw new InvalidRequestException("type must be one of " + List.of(TYPES) + ", not '" + type + "'");
        };
    }

    static final String[] TYPES = {"information", "conditions", "allergies", "labs", "referral", "discharge"};

    /** Stores a JP-CLINS document, collection Bundle or resource; answers with what was stored and the warnings. */
    @Operation(name = "$clins-import")
    public OperationOutcome clinsImport(@ResourceParam org.hl7.fhir.instance.model.api.IBaseResource body, RequestDetails request) {
        Caller caller = interactions.caller(request);
        if (!(body instanceof org.hl7.fhir.r4.model.Resource resource)) {
            throw new InvalidRequestException("$clins-import takes a JP-CLINS Bundle or resource as the request body");
        }
        ClinsImport.Imported imported = importer.importResource(caller, resource);
        OperationOutcome out = imported.outcome().copy();
        out.getIssue().add(0, new OperationOutcome.OperationOutcomeIssueComponent()
                .setSeverity(OperationOutcome.IssueSeverity.INFORMATION).setCode(OperationOutcome.IssueType.INFORMATIONAL)
                .setDiagnostics("Imported " + String.join(", ", imported.resources())));
        return out;
    }

}
