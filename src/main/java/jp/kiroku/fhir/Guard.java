package jp.kiroku.fhir;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.springframework.stereotype.Component;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.AuthenticationException;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import jp.kiroku.access.AccessPolicy;
import jp.kiroku.access.BreakGlass;
import jp.kiroku.access.Permission;
import jp.kiroku.access.SmartScopes;
import jp.kiroku.access.Subject;
import jp.kiroku.access.View;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.Account;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.Caller;
import jp.kiroku.store.Placement;
import jp.kiroku.store.ResourceKey;

/**
 * Enforces, for each FHIR interaction, the caller's SMART scopes and — for a person — what their roles reach
 * (role × information category, facility, care relationships: {@link AccessPolicy}). Every refusal is audited and
 * answered 403.
 */
@Component
class Guard {

    private final AuditTrail audit;
    private final AccessPolicy policy;
    private final Accounts accounts;
    private final BreakGlass breakGlass;
    private final jp.kiroku.identity.ClientRegistry clients;

    Guard(AuditTrail audit, AccessPolicy policy, Accounts accounts, BreakGlass breakGlass,
          jp.kiroku.identity.ClientRegistry clients) {
        this.clients = clients;
        this.audit = audit;
        this.policy = policy;
        this.accounts = accounts;
        this.breakGlass = breakGlass;
    }

    /** Response header that tells the app (and so the person on screen) that break-glass is active. */
    static final String BREAK_GLASS_HEADER = "X-Kiroku-Break-Glass";

    /**
     * The caller of this request. A person acting under break-glass is made conspicuous: every event of the request
     * is audited with purpose BTG, and the response says so.
     */
    Caller caller(RequestDetails request) {
        String address = request instanceof ServletRequestDetails s ? s.getServletRequest().getRemoteAddr() : null;
        Caller caller = Caller.current(address);
        if (caller.agent().kind() == Agent.Kind.USER) {
            Set<String> opened = subject(caller).emergencyPatients();
            if (!opened.isEmpty()) {
                org.slf4j.MDC.put(AuditTrail.PURPOSE, "BTG");
                if (request instanceof ServletRequestDetails s) {
                    s.getServletResponse().setHeader(BREAK_GLASS_HEADER, "active; patients=" + opened.size());
                }
            }
        }
        return caller;
    }

    /** Scopes first, then (for a person) whether their roles reach the type's category at all. */
    void require(Caller caller, String type, Permission permission, String action) {
        requireScopes(caller, type, permission, action);
        if (caller.agent().kind() == Agent.Kind.USER) {
            View view = view(caller, permission);
            String category = type == null ? null : policy.categoryOfType(type);
            if (type == null || view.reachOf(category).isEmpty()) {
                refuse(caller, type, null, action, type == null
                        ? "an interaction across all resource types is for systems, not people"
                        : "no role of " + caller.agent().id() + " may " + verb(permission) + " " + category + " (" + type + ")");
            }
        }
    }

    /** Refuses (403, audited) unless the token's scopes permit {@code permission} on the type (all types for null). */
    void requireScopes(Caller caller, String type, Permission permission, String action) {
        SmartScopes scopes = SmartScopes.of(caller.scopes());
        boolean ok = type == null ? scopes.permitsAllTypes(permission) : scopes.permits(type, permission);
        if (!ok) {
            deny(caller, type, action, permission);
        }
    }

    /** Refuses (403, audited) confirming a record outside the person's confirm reach (the matrix's confirm column). */
    void requireConfirmable(Caller caller, ResourceKey key, Placement placement) {
        if (!policy.confirmView(subject(caller)).allows(key, placement)) {
            refuse(caller, key.type(), key.id(), "confirm", "no role of " + caller.agent().id() + " may confirm "
                    + placement.category() + " records of this patient (" + key + ")");
        }
    }

    /** Refuses (403, audited) for a reason the caller states. */
    void refuseBecause(Caller caller, ResourceKey key, String action, String why) {
        refuse(caller, key.type(), key.id(), action, why);
    }

    /** What the caller reaches for {@code permission}: unrestricted for systems. */
    View view(Caller caller, Permission permission) {
        return policy.view(subject(caller), permission);
    }

    /**
     * The caller as access control sees them. A person's subject (account, care units, break-glass uses) is looked up
     * once per HTTP request and kept with it.
     */
    Subject subject(Caller caller) {
        if (caller.agent().kind() == Agent.Kind.CLIENT) {
            return clients.sharingFacility(caller.agent().id()).map(f -> Subject.partner(caller.agent().id(), f))
                    .orElseGet(() -> Subject.system(caller.agent().id()));
        }
        if (caller.agent().kind() != Agent.Kind.USER) {
            return Subject.system(caller.agent().id());
        }
        var request = org.springframework.web.context.request.RequestContextHolder.getRequestAttributes();
        String key = Subject.class.getName() + "/" + caller.agent().id();
        if (request != null && request.getAttribute(key, org.springframework.web.context.request.RequestAttributes.SCOPE_REQUEST)
                instanceof Subject known) {
            return known;
        }
        Account a = accounts.activeAccount(caller.agent().id())
                .orElseThrow(() -> new AuthenticationException("The account of this token is no longer active"));
        List<String> parties = new ArrayList<>(a.careUnits());
        String self = null;
        if (a.fhirRef() != null) {
            parties.add(a.fhirRef());
            if (a.fhirRef().startsWith("Patient/")) {
                self = a.fhirRef().substring("Patient/".length());
            }
        }
        if (self == null && SmartScopes.patientLevel(caller.scopes())) { // issued only to patients' own accounts
            throw new AuthenticationException("A token with patient/ scopes acts for a patient's own account only");
        }
        Subject subject = Subject.person(a.username(), Set.copyOf(a.roles()), a.facility(), parties, self)
                .withEmergencyPatients(breakGlass.activePatients(a.username()));
        if (request != null) {
            request.setAttribute(key, subject, org.springframework.web.context.request.RequestAttributes.SCOPE_REQUEST);
        }
        return subject;
    }

    /**
     * Refuses (403, audited) unless the caller reaches the current placement of every key; unknown keys pass (the
     * caller answers 404 for them).
     */
    void requireReach(Caller caller, View view, List<ResourceKey> keys, String action) {
        if (view.unrestricted() || keys.isEmpty()) {
            return;
        }
        Map<ResourceKey, Boolean> reached = view.check(keys);
        for (ResourceKey k : keys) {
            if (Boolean.FALSE.equals(reached.get(k))) {
                outsideReach(caller, k, action);
            }
        }
    }

    /** {@link #requireReach(Caller, View, List, String)} for one resource whose placement is known already. */
    void requireReach(Caller caller, View view, ResourceKey key, Placement placement, String action) {
        if (!view.unrestricted() && !view.allows(key, placement)) {
            outsideReach(caller, key, action);
        }
    }

    private void outsideReach(Caller caller, ResourceKey k, String action) {
        refuse(caller, k.type(), k.id(), action, k + " is outside " + caller.agent().id() + "'s reach (no care"
                + " relationship with its patient, another facility, or a category the roles do not reach)");
    }

    /** Refuses writing a version whose placement (patient, category) the caller does not reach. */
    void requireWritable(Caller caller, View view, ResourceKey key, Placement placement, String action) {
        if (!view.unrestricted() && !view.allows(placement)) {
            refuse(caller, key.type(), key.id(), action, "writing " + key.type() + " in category " + placement.category()
                    + (placement.patientKey() != null ? " for this patient" : "") + " is outside " + caller.agent().id()
                    + "'s reach");
        }
    }

    /** The placements of keys the caller does not reach are left out (includes, $everything, snapshot pages). */
    <T> List<T> visibleOnly(View view, List<T> items, java.util.function.Function<T, ResourceKey> key) {
        if (view.unrestricted() || items.isEmpty()) {
            return items;
        }
        Map<ResourceKey, Boolean> reached = view.check(items.stream().map(key).toList());
        return items.stream().filter(i -> Boolean.TRUE.equals(reached.get(key.apply(i)))).toList();
    }

    /** Refuses (403, audited) an interaction that only systems may use. */
    void requireSystem(Caller caller, String type, String action, String why) {
        if (caller.agent().kind() == Agent.Kind.USER) {
            refuse(caller, type, null, action, why);
        }
    }

    void deny(Caller caller, String type, String action, Permission permission) {
        audit.record(AuditRecord.of(caller.agent(), action, AuditRecord.Outcome.DENIED)
                .on(type, null, null, null).withDetail("missing scope permission '" + permission.letter() + "'"));
        throw new ForbiddenOperationException("The access token's scopes do not permit " + action + " on "
                + (type == null ? "all resource types" : type) + " (needs system/" + (type == null ? "*" : type)
                + "." + permission.letter() + " or an equivalent v1 scope)");
    }

    private void refuse(Caller caller, String type, String id, String action, String why) {
        audit.record(AuditRecord.of(caller.agent(), action, AuditRecord.Outcome.DENIED).on(type, id, null, null)
                .withDetail("access: " + (id == null ? "role" : "reach")));
        throw new ForbiddenOperationException("Access denied: " + why);
    }

    private static String verb(Permission p) {
        return switch (p) {
            case READ, SEARCH -> "read";
            case CREATE, UPDATE, DELETE -> "write";
        };
    }
}
