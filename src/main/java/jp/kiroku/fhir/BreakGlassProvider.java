package jp.kiroku.fhir;


import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import jp.kiroku.access.BreakGlass;

/**
 * {@code POST Patient/[id]/$break-glass} (ACL-04): a clinician opens a patient outside their care. Parameters:
 * {@code reason} (a code of {@link BreakGlass#REASONS}), {@code text} (why, in words) and {@code otp} (a current
 * code of the person's authenticator: re-authentication). Answers the use's id and when it expires.
 */
final class BreakGlassProvider {

    private final FhirServices services;
    private final Interactions interactions;

    BreakGlassProvider(FhirServices services, Interactions interactions) {
        this.services = services;
        this.interactions = interactions;
    }

    @Operation(name = "$break-glass", type = Patient.class, idempotent = false)
    public Parameters open(@IdParam IdType id, @OperationParam(name = "reason", min = 1, max = 1) StringType reason,
                           @OperationParam(name = "text", min = 1, max = 1) StringType text,
                           @OperationParam(name = "otp", min = 1, max = 1) StringType otp, RequestDetails request) {
        BreakGlass.Use use = interactions.openBreakGlass(services.guard().caller(request), id.getIdPart(),
                reason == null ? null : reason.getValue(), text == null ? null : text.getValue(),
                otp == null ? null : otp.getValue());
        String patient = use.patientKey();
        Parameters out = new Parameters();
        out.addParameter().setName("use").setValue(new StringType(use.id().toString()));
        out.addParameter().setName("patient").setValue(new Reference("Patient/" + patient));
        out.addParameter().setName("expires").setValue(new InstantType(java.util.Date.from(use.expiresAt())));
        out.addParameter().setName("notice").setValue(new StringType("This access is recorded and will be reviewed by"
                + " the security officer. / このアクセスは記録され、安全管理責任者が確認します。"));
        return out;
    }
}
