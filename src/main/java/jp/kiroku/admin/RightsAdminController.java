package jp.kiroku.admin;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import jakarta.servlet.http.HttpServletRequest;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.Account;
import jp.kiroku.identity.Caller;
import jp.kiroku.identity.RightsRequests;

/**
 * The access rights workflow over HTTP (ACL-02, ACL-03), for people acting through an app:
 * <ul>
 * <li>{@code POST /admin/rights-requests} {@code {"user", "department", "roles": [...], "reason"}}: a person asks for
 * the roles of someone in their own department;</li>
 * <li>{@code GET /admin/rights-requests}: the pending requests of the departments the person manages;</li>
 * <li>{@code POST /admin/rights-requests/{id}/decision} {@code {"decision": "approve"|"reject", "note", "otp"}}:
 * the department's manager decides, re-authenticated by a current authenticator code; approval applies the roles;</li>
 * <li>{@code GET /admin/rights-report} and {@code GET /admin/administrators}: for auditors ({@link Auditors}).</li>
 * </ul>
 * Every call is audited.
 */
@RestController
class RightsAdminController {

    private final RightsRequests rights;
    private final AuditTrail audit;
    private final Auditors auditors;

    RightsAdminController(RightsRequests rights, AuditTrail audit, Auditors auditors) {
        this.rights = rights;
        this.audit = audit;
        this.auditors = auditors;
    }

    @PostMapping(value = "/admin/rights-requests", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Object> request(@RequestBody Map<String, Object> body, HttpServletRequest http) {
        Caller caller = Caller.current(http.getRemoteAddr());
        if (caller.agent().kind() != Agent.Kind.USER) {
            return refused(caller, "rights.request", "a rights request comes from a person of the department");
        }
        Object roles = body.get("roles");
        if (!(roles instanceof List<?> list) || !list.stream().allMatch(String.class::isInstance)) {
            return ResponseEntity.badRequest().body(Map.of("error", "roles must be a list of role codes"));
        }
        return answer(caller, "rights.request", () -> json(rights.request(text(body, "user"), text(body, "department"),
                list.stream().map(String.class::cast).toList(), text(body, "reason"), caller.agent())));
    }

    @GetMapping(value = "/admin/rights-requests", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Object> pending(HttpServletRequest http) {
        Caller caller = Caller.current(http.getRemoteAddr());
        if (caller.agent().kind() != Agent.Kind.USER) {
            return refused(caller, "rights.list", "the worklist of a department's manager, for a person");
        }
        List<String> departments = rights.managedBy(caller.agent().id());
        List<RightsRequests.Request> pending = departments.isEmpty() ? List.of() : rights.list(false, departments);
        audit.record(AuditRecord.of(caller.agent(), "rights.list", AuditRecord.Outcome.SUCCESS)
                .withDetail("pending " + pending.size()));
        return ResponseEntity.ok(Map.of("departments", departments, "requests",
                pending.stream().map(RightsAdminController::json).toList()));
    }

    @PostMapping(value = "/admin/rights-requests/{id}/decision", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Object> decide(@PathVariable String id, @RequestBody Map<String, Object> body, HttpServletRequest http) {
        Caller caller = Caller.current(http.getRemoteAddr());
        Object decision = body.get("decision");
        if (!"approve".equals(decision) && !"reject".equals(decision)) {
            return ResponseEntity.badRequest().body(Map.of("error", "decision must be approve or reject"));
        }
        UUID request;
        try {
            request = UUID.fromString(id);
        } catch (IllegalArgumentException e) {
            return ResponseEntity.badRequest().body(Map.of("error", "not a request id: " + id));
        }
        return answer(caller, "rights.decide", () -> json(rights.decide(request, "approve".equals(decision),
                body.get("note") instanceof String n ? n : null, body.get("otp") instanceof String o ? o : null,
                caller.agent())));
    }

    @GetMapping(value = "/admin/rights-report", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Object> report(HttpServletRequest http) {
        Caller caller = Caller.current(http.getRemoteAddr());
        if (!auditors.allows(caller)) {
            return auditors.refuse(caller, "rights.report", "The rights report is for auditors");
        }
        List<RightsRequests.ReportLine> lines = rights.report();
        audit.record(AuditRecord.of(caller.agent(), "rights.report", AuditRecord.Outcome.SUCCESS)
                .withDetail("accounts " + lines.size()));
        return ResponseEntity.ok(Map.of("accounts", lines.stream().map(l -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("user", l.username());
            m.put("active", l.active());
            m.put("roles", l.roles());
            m.put("approved", l.approved());
            m.put("approvedAt", l.approvedAt() == null ? null : l.approvedAt().toString());
            m.put("finding", l.finding().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
            return m;
        }).toList()));
    }

    @GetMapping(value = "/admin/administrators", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Object> administrators(HttpServletRequest http) {
        Caller caller = Caller.current(http.getRemoteAddr());
        if (!auditors.allows(caller)) {
            return auditors.refuse(caller, "rights.admins", "The list of administrators is for auditors");
        }
        List<Account> admins = rights.administrators();
        audit.record(AuditRecord.of(caller.agent(), "rights.admins", AuditRecord.Outcome.SUCCESS)
                .withDetail("administrators " + admins.size()));
        return ResponseEntity.ok(Map.of("administrators", admins.stream().map(a -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("user", a.username());
            m.put("name", a.name());
            m.put("active", a.active());
            m.put("lastLogin", a.lastLoginAt() == null ? null : a.lastLoginAt().toString());
            return m;
        }).toList()));
    }

    private ResponseEntity<Object> answer(Caller caller, String action, java.util.function.Supplier<Object> work) {
        try {
            return ResponseEntity.ok(work.get());
        } catch (SecurityException e) {
            return refused(caller, action, e.getMessage());
        } catch (IllegalArgumentException e) {
            return ResponseEntity.badRequest().body(Map.of("error", e.getMessage()));
        } catch (IllegalStateException e) {
            return ResponseEntity.status(409).body(Map.of("error", e.getMessage()));
        }
    }

    private ResponseEntity<Object> refused(Caller caller, String action, String message) {
        audit.record(AuditRecord.of(caller.agent(), action, AuditRecord.Outcome.DENIED).withDetail("rights workflow"));
        return ResponseEntity.status(403).body(Map.of("error", message));
    }

    private static String text(Map<String, Object> body, String key) {
        return body.get(key) instanceof String s ? s : null;
    }

    static Map<String, Object> json(RightsRequests.Request r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id().toString());
        m.put("user", r.username());
        m.put("department", r.department());
        m.put("roles", r.roles());
        m.put("reason", r.reason());
        m.put("requestedBy", r.requestedBy());
        m.put("requestedAt", r.requestedAt().toString());
        m.put("decision", r.decision());
        m.put("decidedBy", r.decidedBy());
        m.put("decidedAt", r.decidedAt() == null ? null : r.decidedAt().toString());
        m.put("note", r.note());
        return m;
    }
}
