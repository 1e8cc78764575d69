package jp.kiroku.fhir;

import org.springframework.stereotype.Component;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import jp.kiroku.access.Permission;
import jp.kiroku.access.SmartScopes;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.Caller;

/** Enforces the caller's SMART scopes for each FHIR interaction; a refusal is audited and answered 403. */
@Component
class Guard {

    private final AuditTrail audit;

    Guard(AuditTrail audit) {
        this.audit = audit;
    }

    Caller caller(RequestDetails request) {
        String address = request instanceof ServletRequestDetails s ? s.getServletRequest().getRemoteAddr() : null;
        return Caller.current(address);
    }

    void require(Caller caller, String type, Permission permission, String action) {
        SmartScopes scopes = SmartScopes.of(caller.scopes());
        boolean ok = type == null ? scopes.permitsAllTypes(permission) : scopes.permits(type, permission);
        if (!ok) {
            deny(caller, type, action, permission);
        }
    }

    void deny(Caller caller, String type, String action, Permission permission) {
        audit.record(AuditRecord.of(caller.agent(), action, AuditRecord.Outcome.DENIED)
                .on(type, null, null, null).withDetail("missing scope permission '" + permission.letter() + "'"));
        throw new ForbiddenOperationException("The access token's scopes do not permit " + action + " on "
                + (type == null ? "all resource types" : type) + " (needs system/" + (type == null ? "*" : type)
                + "." + permission.letter() + " or an equivalent v1 scope)");
    }
}
