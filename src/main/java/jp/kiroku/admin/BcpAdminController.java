package jp.kiroku.admin;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import jakarta.servlet.http.HttpServletRequest;
import jp.kiroku.access.Permission;
import jp.kiroku.access.SmartScopes;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.Caller;
import jp.kiroku.incidents.EmergencySummaries;

/**
 * Emergency summaries over HTTP (BCP-02) as {@code application/pdf}, for a system client — a print station or the
 * hospital's BCP tooling — whose token may read every type a summary shows. People are refused: a summary shows every
 * current allergy, medication and problem, and one cut down to a person's role and care relationships would look
 * complete while it is not (a missing allergy reads as "none"); staff print with {@code kiroku bcp} instead. Every
 * call is audited, refusals too.
 */
@RestController
@RequestMapping("/admin/bcp")
class BcpAdminController {

    /** What a summary reads: the token must allow reading all of it. */
    static final List<String> TYPES = List.of("Patient", "AllergyIntolerance", "MedicationRequest", "MedicationStatement",
            "Condition", "Observation", "Encounter", "Location", "Medication");

    private final EmergencySummaries summaries;
    private final AuditTrail audit;

    BcpAdminController(EmergencySummaries summaries, AuditTrail audit) {
        this.summaries = summaries;
        this.audit = audit;
    }

    @GetMapping(value = "/summary/{patientId}", produces = {MediaType.APPLICATION_PDF_VALUE, MediaType.APPLICATION_JSON_VALUE})
    ResponseEntity<Object> patient(@PathVariable String patientId, HttpServletRequest request) {
        Caller caller = Caller.current(request.getRemoteAddr());
        return pdf(caller, () -> summaries.patient(patientId, caller.agent()));
    }

    @GetMapping(value = "/ward/{locationId}", produces = {MediaType.APPLICATION_PDF_VALUE, MediaType.APPLICATION_JSON_VALUE})
    ResponseEntity<Object> ward(@PathVariable String locationId, HttpServletRequest request) {
        Caller caller = Caller.current(request.getRemoteAddr());
        return pdf(caller, () -> summaries.ward(locationId, caller.agent()));
    }

    private ResponseEntity<Object> pdf(Caller caller, Supplier<byte[]> print) {
        SmartScopes scopes = SmartScopes.of(caller.scopes());
        if (caller.agent().kind() != Agent.Kind.CLIENT || !TYPES.stream().allMatch(t -> scopes.permits(t, Permission.READ))) {
            audit.record(AuditRecord.of(caller.agent(), "print", AuditRecord.Outcome.DENIED).withDetail("emergency-summary"));
            return ResponseEntity.status(403).contentType(MediaType.APPLICATION_JSON).body(Map.of("error",
                    "emergency summaries are for a system client that may read " + String.join(", ", TYPES)
                            + "; staff print them with kiroku bcp summary|ward"));
        }
        try {
            return ResponseEntity.ok().contentType(MediaType.APPLICATION_PDF)
                    .header("Content-Disposition", "attachment; filename=\"emergency-summary.pdf\"")
                    .header("Cache-Control", "no-store").body(print.get());
        } catch (IllegalArgumentException e) {
            return ResponseEntity.status(404).contentType(MediaType.APPLICATION_JSON).body(Map.of("error", e.getMessage()));
        }
    }
}
