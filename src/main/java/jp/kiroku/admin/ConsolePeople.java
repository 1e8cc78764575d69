package jp.kiroku.admin;

import java.util.Locale;

import org.springframework.http.HttpStatus;
import org.springframework.security.core.Authentication;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ResponseStatusException;

import jakarta.servlet.http.HttpServletRequest;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.Accounts;

/**
 * Who may use a console page: a person signed in to the pages whose active account has the page's role (auditor for
 * the security officer's pages, admin for the administrators'). Others get 403, audited as the page's action
 * denied. Acts that change something are confirmed by a current authenticator code (re-authentication).
 */
@Component
class ConsolePeople {

    private final Accounts accounts;
    private final AuditTrail audit;

    ConsolePeople(Accounts accounts, AuditTrail audit) {
        this.accounts = accounts;
        this.audit = audit;
    }

    /** The person signed in to the page as the acting agent (whatever their roles). */
    Agent person(Authentication auth, HttpServletRequest request) {
        return new Agent(Agent.Kind.USER, auth.getName().toLowerCase(Locale.ROOT), request.getRemoteAddr());
    }

    /** The signed-in person as the acting agent, when their account has {@code role}. */
    Agent require(Authentication auth, HttpServletRequest request, String action, String role) {
        Agent person = person(auth, request);
        if (!accounts.hasRole(person.id(), role)) {
            audit.record(AuditRecord.of(person, action, AuditRecord.Outcome.DENIED).withDetail("not " + role));
            throw new ResponseStatusException(HttpStatus.FORBIDDEN, "this page is for the " + role + " role");
        }
        return person;
    }

    /** The signed-in person as the acting agent, when their account has one of {@code roles} (e.g. auditor or admin). */
    Agent requireAny(Authentication auth, HttpServletRequest request, String action, java.util.List<String> roles) {
        Agent person = person(auth, request);
        if (roles.stream().noneMatch(r -> accounts.hasRole(person.id(), r))) {
            audit.record(AuditRecord.of(person, action, AuditRecord.Outcome.DENIED).withDetail("not " + String.join("/", roles)));
            throw new ResponseStatusException(HttpStatus.FORBIDDEN, "this page is for the " + String.join(" or ", roles)
                    + " role");
        }
        return person;
    }

    /** Refuses (403, audited) unless {@code otp} is a current code of the person's authenticator. */
    void reauthenticate(Agent person, String otp, String action) {
        if (!accounts.confirmSecondFactor(person.id(), otp == null ? null : otp.replace(" ", ""), person.address())) {
            audit.record(AuditRecord.of(person, action, AuditRecord.Outcome.DENIED).withDetail("reauthentication-failed"));
            throw new ResponseStatusException(HttpStatus.FORBIDDEN, Accounts.REAUTHENTICATION_REFUSED);
        }
    }
}
