package jp.kiroku.admin;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
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
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import jakarta.servlet.http.HttpServletRequest;
import jp.kiroku.access.BreakGlass;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.Caller;

/**
 * The break-glass review queue over HTTP (ACL-04), for the security officer ({@link Auditors}). Every call is audited.
 */
@RestController
@RequestMapping("/admin/break-glass")
class BreakGlassAdminController {

    private final BreakGlass breakGlass;
    private final AuditTrail audit;
    private final Auditors auditors;
    private final jp.kiroku.identity.Accounts accounts;

    BreakGlassAdminController(BreakGlass breakGlass, AuditTrail audit, Auditors auditors,
                              jp.kiroku.identity.Accounts accounts) {
        this.accounts = accounts;
        this.breakGlass = breakGlass;
        this.audit = audit;
        this.auditors = auditors;
    }

    /** Uses waiting for review, oldest first; {@code all=true} lists every use of the last {@code days} (default 30). */
    @GetMapping(produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Object> list(@RequestParam(defaultValue = "false") boolean all, @RequestParam(defaultValue = "30") int days,
                                HttpServletRequest request) {
        Caller caller = Caller.current(request.getRemoteAddr());
        if (!auditors.allows(caller)) {
            return refused(caller, "break-glass.list");
        }
        List<BreakGlass.Use> uses = breakGlass.uses(all, Instant.now().minus(Math.max(1, days), ChronoUnit.DAYS));
        audit.record(AuditRecord.of(caller.agent(), "break-glass.list", AuditRecord.Outcome.SUCCESS)
                .withDetail((all ? "all " : "unreviewed ") + uses.size()));
        return ResponseEntity.ok(Map.of("uses", uses.stream().map(BreakGlassAdminController::json).toList()));
    }

    /**
     * Closes a use: {@code {"outcome": "justified"|"unjustified", "note": "..."}}, and {@code "otp"} (a current
     * authenticator code) when a person reviews.
     */
    @PostMapping(value = "/{id}/review", consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Object> review(@PathVariable String id, @RequestBody Map<String, String> body, HttpServletRequest request) {
        Caller caller = Caller.current(request.getRemoteAddr());
        if (!auditors.allows(caller)) {
            return refused(caller, "break-glass.review");
        }
        String outcome = body.getOrDefault("outcome", "");
        if (!List.of("justified", "unjustified").contains(outcome)) {
            return ResponseEntity.badRequest().body(Map.of("error", "outcome must be justified or unjustified"));
        }
        // a person confirms the review with a current authenticator code (re-authentication for an administrative act)
        if (caller.agent().kind() == jp.kiroku.audit.Agent.Kind.USER
                && !accounts.confirmSecondFactor(caller.agent().id(), body.get("otp"), caller.agent().address())) {
            return auditors.refuse(caller, "break-glass.review", jp.kiroku.identity.Accounts.REAUTHENTICATION_REFUSED);
        }
        try {
            return ResponseEntity.ok(json(breakGlass.review(UUID.fromString(id), outcome.equals("justified"),
                    body.get("note"), caller.agent())));
        } catch (IllegalArgumentException e) {
            return ResponseEntity.badRequest().body(Map.of("error", e.getMessage()));
        } catch (IllegalStateException e) {
            return ResponseEntity.status(409).body(Map.of("error", e.getMessage()));
        }
    }

    private ResponseEntity<Object> refused(Caller caller, String action) {
        return auditors.refuse(caller, action, "The break-glass review queue is for the security officer: an auditor's"
                + " token (scopes naming AuditEvent; for a person, the auditor role)");
    }

    static Map<String, Object> json(BreakGlass.Use u) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", u.id().toString());
        m.put("user", u.username());
        m.put("patient", "Patient/" + u.patientKey());
        m.put("reason", u.reasonCode());
        m.put("text", u.reasonText());
        m.put("started", u.startedAt().toString());
        m.put("expires", u.expiresAt().toString());
        m.put("reviewed", u.reviewedAt() == null ? null : u.reviewedAt().toString());
        m.put("reviewedBy", u.reviewedBy());
        m.put("outcome", u.reviewOutcome());
        m.put("note", u.reviewNote());
        return m;
    }
}
