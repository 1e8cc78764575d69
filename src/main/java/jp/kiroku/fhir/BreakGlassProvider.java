package jp.kiroku.fhir;

import java.util.List;

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
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import jp.kiroku.access.BreakGlass;
import jp.kiroku.access.Permission;
import jp.kiroku.access.Subject;
import jp.kiroku.access.View;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.Caller;
import jp.kiroku.store.ResourceKey;

/**
 * {@code POST Patient/[id]/$break-glass} (ACL-04): a clinician opens a patient outside their care. Parameters:
 * {@code reason} (a code of {@link BreakGlass#REASONS}), {@code text} (why, in words) and {@code otp} (a current
 * code of the person's authenticator: re-authentication). Answers the use's id and when it expires.
 */
final class BreakGlassProvider {

    private final FhirServices services;
    private final BreakGlass breakGlass;
    private final Accounts accounts;

    BreakGlassProvider(FhirServices services, BreakGlass breakGlass, Accounts accounts) {
        this.services = services;
        this.breakGlass = breakGlass;
        this.accounts = accounts;
    }

    @Operation(name = "$break-glass", type = Patient.class, idempotent = false)
    public Parameters open(@IdParam IdType id, @OperationParam(name = "reason", min = 1, max = 1) StringType reason,
                           @OperationParam(name = "text", min = 1, max = 1) StringType text,
                           @OperationParam(name = "otp", min = 1, max = 1) StringType otp, RequestDetails request) {
        Caller caller = services.guard().caller(request);
        Agent agent = caller.agent();
        if (agent.kind() != Agent.Kind.USER) {
            refuse(agent, id.getIdPart(), "not-a-person", "Break-glass is for people acting through an app, not for systems");
        }
        services.guard().require(caller, "Patient", Permission.READ, "break-glass.open");
        String patient = Http.checkId(id.getIdPart());
        if (services.store().current(new ResourceKey("Patient", patient)).filter(v -> !v.deleted()).isEmpty()) {
            throw new ResourceNotFoundException("Patient/" + patient + " is not known");
        }
        // a malformed request is refused before the code is checked, so that it does not spend the person's code
        List<String> problems = BreakGlass.problems(reason == null ? null : reason.getValue(), text == null ? null : text.getValue());
        if (!problems.isEmpty()) {
            throw new InvalidRequestException("Break-glass refused: " + String.join("; ", problems));
        }
        if (!accounts.confirmSecondFactor(agent.id(), otp == null ? null : otp.getValue(), agent.address())) {
            refuse(agent, patient, "reauthentication-failed", Accounts.REAUTHENTICATION_REFUSED);
        }
        View view = services.guard().view(caller, Permission.READ);
        Subject subject = services.guard().subject(caller);
        if (Boolean.TRUE.equals(view.check(List.of(new ResourceKey("Patient", patient))).get(new ResourceKey("Patient", patient)))) {
            throw new InvalidRequestException("Patient/" + patient + " is already within your reach: break-glass is not needed");
        }
        BreakGlass.Use use;
        try {
            use = breakGlass.open(subject, view, patient, reason == null ? null : reason.getValue(),
                    text == null ? null : text.getValue(), agent);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("Break-glass refused: " + e.getMessage());
        } catch (IllegalStateException e) {
            refuse(agent, patient, "not-a-clinician", "Break-glass refused: " + e.getMessage());
            throw e;
        }
        Parameters out = new Parameters();
        out.addParameter().setName("use").setValue(new StringType(use.id().toString()));
        out.addParameter().setName("patient").setValue(new Reference("Patient/" + patient));
        out.addParameter().setName("expires").setValue(new InstantType(java.util.Date.from(use.expiresAt())));
        out.addParameter().setName("notice").setValue(new StringType("This access is recorded and will be reviewed by"
                + " the security officer. / このアクセスは記録され、安全管理責任者が確認します。"));
        return out;
    }

    private void refuse(Agent agent, String patient, String why, String message) {
        services.audit().record(AuditRecord.of(agent, "break-glass.open", AuditRecord.Outcome.DENIED)
                .on("Patient", patient, null, patient).withDetail(why));
        throw new ForbiddenOperationException(message);
    }
}
