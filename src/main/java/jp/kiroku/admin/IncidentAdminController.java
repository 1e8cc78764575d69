package jp.kiroku.admin;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import jakarta.servlet.http.HttpServletRequest;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.Caller;
import jp.kiroku.incidents.Detection;
import jp.kiroku.incidents.IncidentReports;
import jp.kiroku.incidents.Incidents;

/**
 * Alerts, incidents, their reports and the contact chart over HTTP (issue 10, items 2–4), for the security officer
 * ({@link Auditors}); the admin console (issue 11) shows these. Every call is audited; bad input answers 400 with
 * what was wrong.
 */
@RestController
@RequestMapping(path = "/admin", produces = MediaType.APPLICATION_JSON_VALUE)
class IncidentAdminController {

    private final Detection detection;
    private final Incidents incidents;
    private final IncidentReports reports;
    private final Auditors auditors;
    private final AuditTrail audit;

    IncidentAdminController(Detection detection, Incidents incidents, IncidentReports reports, Auditors auditors,
                            AuditTrail audit) {
        this.detection = detection;
        this.incidents = incidents;
        this.reports = reports;
        this.auditors = auditors;
        this.audit = audit;
    }

    @GetMapping("/alerts")
    ResponseEntity<Object> alerts(@RequestParam(defaultValue = "false") boolean all, HttpServletRequest request) {
        return read(request, "alert.list", by -> Map.of("alerts", detection.alerts(all)));
    }

    @PostMapping("/alerts/{id}/acknowledge")
    ResponseEntity<Object> acknowledge(@PathVariable long id, HttpServletRequest request) {
        return act(request, "alert.acknowledge", by -> detection.acknowledge(id, by));
    }

    @GetMapping("/incidents")
    ResponseEntity<Object> list(@RequestParam(defaultValue = "false") boolean all, HttpServletRequest request) {
        return read(request, "incident.list", by -> Map.of("incidents", incidents.list(all)));
    }

    /** Opens one: {@code {"title": "...", "alerts": [1, 2], "subjects": ["account:x"], "from": "2026-..."}}. */
    @PostMapping(path = "/incidents", consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Object> open(@RequestBody OpenRequest body, HttpServletRequest request) {
        return act(request, "incident.open", by -> incidents.open(body.title(),
                body.alerts() == null ? List.of() : body.alerts(), body.subjects() == null ? List.of() : body.subjects(),
                body.from() == null ? null : Instant.parse(body.from()), by));
    }

    record OpenRequest(String title, List<Long> alerts, List<String> subjects, String from) {
    }

    @GetMapping("/incidents/{id}")
    ResponseEntity<Object> show(@PathVariable long id, HttpServletRequest request) {
        return read(request, "incident.show", by -> Map.of("incident", incidents.get(id), "timeline",
                incidents.timeline(id)));
    }

    /** Sets fields: {@code {"description": "...", "personal-data": "suspected", ...}} (see Incidents.FIELDS). */
    @PostMapping(path = "/incidents/{id}/fields", consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Object> set(@PathVariable long id, @RequestBody Map<String, String> fields, HttpServletRequest request) {
        return act(request, "incident.update", by -> {
            fields.forEach((field, value) -> incidents.set(id, field, value, by));
            return incidents.get(id);
        });
    }

    /** Adds to the timeline: {@code {"kind": "action"|"contact"|"note"|"report", "text": "..."}}. */
    @PostMapping(path = "/incidents/{id}/timeline", consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Object> log(@PathVariable long id, @RequestBody Map<String, String> body, HttpServletRequest request) {
        return act(request, "incident.log", by -> incidents.log(id, body.get("kind"), body.get("text"), by));
    }

    @PostMapping(path = "/incidents/{id}/status", consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Object> status(@PathVariable long id, @RequestBody Map<String, String> body, HttpServletRequest request) {
        return act(request, "incident.status", by -> incidents.status(id, body.get("status"), by));
    }

    @GetMapping("/incidents/{id}/patients")
    ResponseEntity<Object> patients(@PathVariable long id, HttpServletRequest request) {
        return act(request, "incident.patients", by -> Map.of("patients", incidents.affectedPatients(id, by)));
    }

    @GetMapping("/incidents/{id}/report")
    ResponseEntity<Object> report(@PathVariable long id, HttpServletRequest request) {
        return act(request, "incident.report", by -> reports.report(id, by).json());
    }

    @GetMapping(path = "/incidents/{id}/report.pdf", produces = {MediaType.APPLICATION_PDF_VALUE,
            MediaType.APPLICATION_JSON_VALUE})
    ResponseEntity<Object> reportPdf(@PathVariable long id, HttpServletRequest request) {
        ResponseEntity<Object> r = act(request, "incident.report", by -> reports.report(id, by).pdf());
        return r.getBody() instanceof byte[] pdf ? ResponseEntity.ok().contentType(MediaType.APPLICATION_PDF)
                .header("Content-Disposition", "attachment; filename=\"incident-" + id + "-report.pdf\"")
                .body(pdf) : r;
    }

    @GetMapping("/incident-contacts")
    ResponseEntity<Object> contacts(HttpServletRequest request) {
        return read(request, "incident.contact.list", by -> Map.of("contacts", incidents.contacts()));
    }

    @PostMapping(path = "/incident-contacts", consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Object> addContact(@RequestBody ContactRequest c, HttpServletRequest request) {
        return act(request, "incident.contact.add", by -> incidents.addContact(new Incidents.Contact(0, c.party(),
                c.organisation(), c.name(), c.role(), c.phone(), c.email(), c.notes(),
                c.priority() == null ? 100 : c.priority()), by));
    }

    record ContactRequest(String party, String organisation, String name, String role, String phone, String email,
                          String notes, Integer priority) {
    }

    @DeleteMapping("/incident-contacts/{id}")
    ResponseEntity<Object> removeContact(@PathVariable long id, HttpServletRequest request) {
        return act(request, "incident.contact.remove", by -> {
            incidents.removeContact(id, by);
            return Map.of("removed", id);
        });
    }

    /** A read that the services do not audit themselves: recorded here. */
    private ResponseEntity<Object> read(HttpServletRequest request, String action, Function<Agent, Object> work) {
        return act(request, action, by -> {
            Object result = work.apply(by);
            audit.record(AuditRecord.of(by, action, AuditRecord.Outcome.SUCCESS));
            return result;
        });
    }

    /** Only the security officer; refusals and bad input are answered (and refusals audited) here. */
    private ResponseEntity<Object> act(HttpServletRequest request, String action, Function<Agent, Object> work) {
        Caller caller = Caller.current(request.getRemoteAddr());
        if (!auditors.allows(caller)) {
            return auditors.refuse(caller, action, "Alerts and incidents are for the security officer: an auditor's"
                    + " token (scopes naming AuditEvent; for a person, the auditor role)");
        }
        try {
            return ResponseEntity.ok(work.apply(caller.agent()));
        } catch (IllegalArgumentException | java.time.format.DateTimeParseException e) {
            return ResponseEntity.badRequest().body(Map.of("error", e.getMessage()));
        }
    }
}
