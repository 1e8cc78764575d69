package jp.kiroku.admin;

import java.util.Map;

import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;

import jp.kiroku.access.Permission;
import jp.kiroku.access.SmartScopes;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.Caller;

/**
 * Who may use the auditors' HTTP API (ledgers, break-glass review): a token whose scopes name AuditEvent (the
 * auditor's scope, see SmartScopes.EXPLICIT_ONLY) and, when it acts for a person, that person's auditor role.
 */
@Component
class Auditors {

    private final Accounts accounts;
    private final AuditTrail audit;

    Auditors(Accounts accounts, AuditTrail audit) {
        this.accounts = accounts;
        this.audit = audit;
    }

    boolean allows(Caller caller) {
        boolean scope = SmartScopes.of(caller.scopes()).permits("AuditEvent", Permission.READ);
        if (caller.agent().kind() != Agent.Kind.USER) {
            return scope;
        }
        return scope && accounts.hasRole(caller.agent().id(), "auditor");
    }

    /** The refusal (403), audited as {@code action} denied; {@code message} says what the API is for. */
    ResponseEntity<Object> refuse(Caller caller, String action, String message) {
        audit.record(AuditRecord.of(caller.agent(), action, AuditRecord.Outcome.DENIED).withDetail("not an auditor"));
        return ResponseEntity.status(403).body(Map.of("error", message));
    }
}
