package jp.kiroku.admin;

import java.util.LinkedHashMap;
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
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.Caller;
import jp.kiroku.retention.Disposals;

/**
 * Disposal by two people (DISP-01), for administrators acting through an app:
 * <ul>
 * <li>{@code POST /admin/disposals} {@code {"patient", "reason"}}, {@code {"pastRetention": true, "reason"}} or
 * {@code {"facility", "reason"}}: an administrator asks for the disposal of one patient, of everyone past retention, or
 * of a facility's records past retention (also {@code kiroku dispose request});</li>
 * <li>{@code GET /admin/disposals}: every request and its state;</li>
 * <li>{@code POST /admin/disposals/{id}/decision} {@code {"decision": "approve"|"refuse", "otp"}}: another
 * administrator decides, re-authenticated by a current authenticator code; approval executes the disposal;</li>
 * <li>{@code GET /admin/disposals/{id}/certificate} and {@code .../certificate.pdf}: the disposal certificate (JSON,
 * PDF).</li>
 * </ul>
 * Only people with the {@code admin} role; every call is audited.
 */
@RestController
class DisposalAdminController {

    private final Disposals disposals;
    private final Accounts accounts;
    private final AuditTrail audit;

    DisposalAdminController(Disposals disposals, Accounts accounts, AuditTrail audit) {
        this.disposals = disposals;
        this.accounts = accounts;
        this.audit = audit;
    }

    @PostMapping(value = "/admin/disposals", consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Object> request(@RequestBody Map<String, Object> body, HttpServletRequest http) {
        Caller caller = Caller.current(http.getRemoteAddr());
        if (!administrator(caller)) {
            return refused(caller, "disposal.request");
        }
        String reason = body.get("reason") instanceof String r ? r : null;
        if (Boolean.TRUE.equals(body.get("pastRetention"))) {
            return answer(() -> json(disposals.requestPastRetention(reason, caller.agent())));
        }
        if (body.get("facility") instanceof String facility && !facility.isBlank()) {
            return answer(() -> json(disposals.requestFacility(facility, reason, caller.agent())));
        }
        String patient = body.get("patient") instanceof String p ? p.replaceFirst("^Patient/", "") : null;
        if (patient == null || patient.isBlank()) {
            return ResponseEntity.badRequest().body(Map.of("error", "patient (a Patient id), facility, or pastRetention: true is"
                    + " required"));
        }
        return answer(() -> json(disposals.request(patient, reason, caller.agent())));
    }

    @GetMapping(value = "/admin/disposals", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Object> list(HttpServletRequest http) {
        Caller caller = Caller.current(http.getRemoteAddr());
        if (!administrator(caller)) {
            return refused(caller, "disposal.list");
        }
        var all = disposals.list();
        audit.record(AuditRecord.of(caller.agent(), "disposal.list", AuditRecord.Outcome.SUCCESS).withDetail("disposals " + all.size()));
        return ResponseEntity.ok(Map.of("disposals", all.stream().map(DisposalAdminController::json).toList()));
    }

    @PostMapping(value = "/admin/disposals/{id}/decision", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Object> decide(@PathVariable String id, @RequestBody Map<String, Object> body, HttpServletRequest http) {
        Caller caller = Caller.current(http.getRemoteAddr());
        if (!administrator(caller)) {
            return refused(caller, "disposal.decide");
        }
        Object decision = body.get("decision");
        if (!"approve".equals(decision) && !"refuse".equals(decision)) {
            return ResponseEntity.badRequest().body(Map.of("error", "decision must be approve or refuse"));
        }
        UUID disposal = uuid(id);
        if (disposal == null) {
            return ResponseEntity.badRequest().body(Map.of("error", "not a disposal id: " + id));
        }
        String otp = body.get("otp") instanceof String o ? o : null;
        if (!accounts.confirmSecondFactor(caller.agent().id(), otp, caller.agent().address())) {
            audit.record(AuditRecord.of(caller.agent(), "disposal.decide", AuditRecord.Outcome.DENIED).withDetail("re-authentication"));
            return ResponseEntity.status(403).body(Map.of("error", Accounts.REAUTHENTICATION_REFUSED));
        }
        return answer(() -> json("approve".equals(decision) ? disposals.approve(disposal, caller.agent())
                : disposals.refuse(disposal, caller.agent())));
    }

    @GetMapping(value = "/admin/disposals/{id}/certificate", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Object> certificate(@PathVariable String id, HttpServletRequest http) {
        return certificate(id, http, "", MediaType.APPLICATION_JSON, disposal -> disposals.get(disposal)
                .map(Disposals.Disposal::certificate));
    }

    @GetMapping(value = "/admin/disposals/{id}/certificate.pdf", produces = MediaType.APPLICATION_PDF_VALUE)
    ResponseEntity<Object> certificatePdf(@PathVariable String id, HttpServletRequest http) {
        return certificate(id, http, " pdf", MediaType.APPLICATION_PDF, disposals::certificatePdf);
    }

    /** An executed disposal's certificate in one form, for administrators; audited. */
    private ResponseEntity<Object> certificate(String id, HttpServletRequest http, String form, MediaType type,
                                               java.util.function.Function<UUID, java.util.Optional<?>> render) {
        Caller caller = Caller.current(http.getRemoteAddr());
        if (!administrator(caller)) {
            return refused(caller, "disposal.certificate");
        }
        UUID disposal = uuid(id);
        java.util.Optional<?> body = disposal == null ? java.util.Optional.empty() : render.apply(disposal);
        if (body.isEmpty()) {
            return ResponseEntity.status(404).contentType(MediaType.APPLICATION_JSON)
                    .body(Map.of("error", "no certificate: the disposal does not exist or was not executed"));
        }
        audit.record(AuditRecord.of(caller.agent(), "disposal.certificate", AuditRecord.Outcome.SUCCESS)
                .withDetail("disposal=" + id + form));
        return ResponseEntity.ok().contentType(type).body(body.get());
    }

    private boolean administrator(Caller caller) {
        return caller.agent().kind() == Agent.Kind.USER
                && accounts.hasRole(caller.agent().id(), "admin");
    }

    private ResponseEntity<Object> refused(Caller caller, String action) {
        audit.record(AuditRecord.of(caller.agent(), action, AuditRecord.Outcome.DENIED).withDetail("not an administrator"));
        return ResponseEntity.status(403).body(Map.of("error", "disposal is for administrators (role admin), as people"));
    }

    private static ResponseEntity<Object> answer(java.util.function.Supplier<Object> work) {
        try {
            return ResponseEntity.ok(work.get());
        } catch (Disposals.DisposalException e) {
            return ResponseEntity.status(409).body(Map.of("error", e.getMessage()));
        }
    }

    private static UUID uuid(String id) {
        try {
            return UUID.fromString(id);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static Map<String, Object> json(Disposals.Disposal d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", d.id().toString());
        m.put("scope", d.scope());
        m.put("facility", d.facility());
        m.put("state", d.state());
        m.put("reason", d.reason());
        m.put("requestedBy", d.requestedBy());
        m.put("requestedAt", d.requestedAt().toString());
        m.put("decidedBy", d.approvedBy() != null ? d.approvedBy() : d.refusedBy());
        m.put("executedAt", d.executedAt() == null ? null : d.executedAt().toString());
        m.put("patients", d.patients().stream().map(p -> {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("patient", "Patient/" + p.patientKey());
            x.put("state", p.doneAt() == null ? "waiting" : p.skipped() == null ? "disposed" : "skipped");
            x.put("why", p.skipped());
            x.put("resources", p.resources());
            x.put("versions", p.versions());
            return x;
        }).toList());
        return m;
    }
}
