package jp.kiroku.admin;

import java.util.List;

import org.springframework.security.core.Authentication;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;

import jakarta.servlet.http.HttpServletRequest;
import jp.kiroku.access.BreakGlass;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditQuery;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.audit.StoredEvent;
import jp.kiroku.incidents.Detection;
import jp.kiroku.incidents.Incidents;
import jp.kiroku.platform.KirokuProperties;

/**
 * The security officer's console page for alerts and incidents (issue 10, item 2: alerts in the admin UI), in the
 * signed-in person's web session (CSRF, strict CSP). Only people with the auditor role; others get 403, audited. The
 * full admin console is issue 11's; this page is its first screen.
 */
@Controller
class ConsolePages {

    private final Detection detection;
    private final Incidents incidents;
    private final AuditTrail audit;
    private final KirokuProperties props;
    private final BreakGlass breakGlass;
    private final ConsolePeople people;
    private final jp.kiroku.ledger.Ledgers ledgers;
    private final jp.kiroku.incidents.IncidentReports reports;

    ConsolePages(Detection detection, Incidents incidents, AuditTrail audit, KirokuProperties props,
                 BreakGlass breakGlass, ConsolePeople people, jp.kiroku.ledger.Ledgers ledgers,
                 jp.kiroku.incidents.IncidentReports reports) {
        this.reports = reports;
        this.ledgers = ledgers;
        this.breakGlass = breakGlass;
        this.people = people;
        this.detection = detection;
        this.incidents = incidents;
        this.audit = audit;
        this.props = props;
    }

    @GetMapping("/console/alerts")
    String alerts(Authentication auth, HttpServletRequest request, Model model) {
        Agent officer = officer(auth, request, "alert.list");
        List<Detection.Alert> open = detection.alerts(false);
        audit.record(AuditRecord.of(officer, "alert.list", AuditRecord.Outcome.SUCCESS).withDetail("open " + open.size()));
        model.addAttribute("alerts", open);
        model.addAttribute("incidents", incidents.list(false));
        model.addAttribute("zone", props.getIncidents().getOfficeHours().getZone());
        return "console/alerts";
    }

    @PostMapping("/console/alerts/{id}/acknowledge")
    String acknowledge(@PathVariable long id, Authentication auth, HttpServletRequest request) {
        detection.acknowledge(id, officer(auth, request, "alert.acknowledge"));
        return "redirect:/console/alerts";
    }

    @PostMapping("/console/incidents")
    String open(@RequestParam long alert, @RequestParam String title, Authentication auth, HttpServletRequest request) {
        incidents.open(title, List.of(alert), List.of(), null, officer(auth, request, "incident.open"));
        return "redirect:/console/alerts";
    }

    /** One incident: its fields, its timeline, the affected patients from the audit ledger, forms to go on. */
    @GetMapping("/console/incidents/{id}")
    String incident(@PathVariable long id, Authentication auth, HttpServletRequest request, Model model) {
        Agent officer = officer(auth, request, "incident.show");
        model.addAttribute("incident", incidents.get(id)).addAttribute("timeline", incidents.timeline(id))
                .addAttribute("patients", incidents.affectedPatients(id, officer))
                .addAttribute("zone", props.getTimeZone()).addAttribute("statuses", Incidents.STATUSES)
                .addAttribute("kinds", Incidents.ENTRY_KINDS);
        return "console/incident";
    }

    /** Adds an action taken, a contact made, a note or a report sent. */
    @PostMapping("/console/incidents/{id}/timeline")
    String log(@PathVariable long id, @RequestParam String kind, @RequestParam(defaultValue = "") String text,
               Authentication auth, HttpServletRequest request) {
        incidents.log(id, kind, text, officer(auth, request, "incident.log"));
        return "redirect:/console/incidents/" + id;
    }

    @PostMapping("/console/incidents/{id}/status")
    String status(@PathVariable long id, @RequestParam String status, Authentication auth, HttpServletRequest request) {
        incidents.status(id, status, officer(auth, request, "incident.status"));
        return "redirect:/console/incidents/" + id;
    }

    /** The report for the ministry with the PPC items, as the Japanese PDF. */
    @GetMapping(path = "/console/incidents/{id}/report.pdf", produces = "application/pdf")
    org.springframework.http.ResponseEntity<byte[]> report(@PathVariable long id, Authentication auth,
                                                           HttpServletRequest request) {
        byte[] pdf = reports.report(id, officer(auth, request, "incident.report")).pdf();
        return org.springframework.http.ResponseEntity.ok().contentType(org.springframework.http.MediaType.APPLICATION_PDF)
                .header("Content-Disposition", "inline; filename=\"incident-" + id + "-report.pdf\"").body(pdf);
    }

    /** The break-glass review queue (ACL-04): uses waiting for review, oldest first, with the clinician's words. */
    @GetMapping("/console/break-glass")
    String breakGlass(Authentication auth, HttpServletRequest request, Model model) {
        Agent officer = officer(auth, request, "break-glass.list");
        List<BreakGlass.Use> uses = breakGlass.uses(false, java.time.Instant.EPOCH);
        audit.record(AuditRecord.of(officer, "break-glass.list", AuditRecord.Outcome.SUCCESS)
                .withDetail("unreviewed " + uses.size()));
        model.addAttribute("uses", uses).addAttribute("zone", props.getTimeZone())
                .addAttribute("reasons", BreakGlass.REASONS);
        return "console/break-glass";
    }

    /** Closes a use as justified or not, with a note, confirmed by a current authenticator code. */
    @PostMapping("/console/break-glass/{id}/review")
    String review(@PathVariable java.util.UUID id, @RequestParam String outcome, @RequestParam(defaultValue = "") String note,
                  @RequestParam(defaultValue = "") String otp, Authentication auth, HttpServletRequest request) {
        Agent officer = officer(auth, request, "break-glass.review");
        if (!List.of("justified", "unjustified").contains(outcome)) {
            throw new IllegalArgumentException("outcome must be justified or unjustified");
        }
        if (note.isBlank()) { // refused before the code is checked, so that a malformed review does not spend it
            throw new IllegalArgumentException("a review needs a note (what was checked)");
        }
        people.reauthenticate(officer, otp, "break-glass.review");
        try {
            breakGlass.review(id, outcome.equals("justified"), note, officer);
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        return "redirect:/console/break-glass";
    }

    /** The ledgers (LOG-02, INTEG-03): verify both now, and the latest signed checkpoints to keep outside Kiroku. */
    @GetMapping("/console/ledger")
    String ledger(Authentication auth, HttpServletRequest request, Model model) {
        officer(auth, request, "ledger.status");
        model.addAttribute("verification", null);
        return "console/ledger";
    }

    @PostMapping("/console/ledger/verify")
    String verify(Authentication auth, HttpServletRequest request, Model model) {
        Agent officer = officer(auth, request, "ledger.verify");
        jp.kiroku.ledger.Ledgers.Verification v = ledgers.verify(List.of(), n -> { });
        audit.record(AuditRecord.of(officer, "ledger.verify", AuditRecord.Outcome.SUCCESS).withDetail(v.summary()));
        model.addAttribute("verification", v).addAttribute("zone", props.getTimeZone());
        return "console/ledger";
    }

    /** The latest signed checkpoint of each ledger and the public key, as the text file to keep elsewhere. */
    @GetMapping(path = "/console/ledger/checkpoints.txt", produces = "text/plain")
    org.springframework.http.ResponseEntity<String> checkpoints(Authentication auth, HttpServletRequest request) {
        Agent officer = officer(auth, request, "checkpoint.export");
        String text = ledgers.checkpointFile();
        audit.record(AuditRecord.of(officer, "checkpoint.export", AuditRecord.Outcome.SUCCESS));
        return org.springframework.http.ResponseEntity.ok()
                .header("Content-Disposition", "attachment; filename=\"kiroku-checkpoints.txt\"")
                .contentType(new org.springframework.http.MediaType("text", "plain", java.nio.charset.StandardCharsets.UTF_8))
                .body(text);
    }

    /** How many events one page of the audit search lists (then "older"). */
    static final int AUDIT_PAGE = 200;

    /**
     * The audit trail (LOG-04): who accessed which patient, when, from where and why — by patient, person or client,
     * period (dates in the institution's zone) and action, newest first, {@link #AUDIT_PAGE} at a time.
     */
    @GetMapping("/console/audit")
    String audit(@RequestParam(defaultValue = "") String patient, @RequestParam(defaultValue = "") String agent,
                 @RequestParam(defaultValue = "") String from, @RequestParam(defaultValue = "") String to,
                 @RequestParam(defaultValue = "") String action, @RequestParam(required = false) Long before,
                 Authentication auth, HttpServletRequest request, Model model) {
        Agent officer = officer(auth, request, "audit.search");
        AuditQuery q = query(patient, agent, from, to, action, before, AUDIT_PAGE);
        List<StoredEvent> events = audit.find(q);
        audit.record(AuditRecord.of(officer, "audit.search", AuditRecord.Outcome.SUCCESS)
                .withDetail(events.size() + " events").withQuery(criteria(patient, agent, from, to, action)));
        model.addAttribute("events", events).addAttribute("patient", patient).addAttribute("agent", agent)
                .addAttribute("from", from).addAttribute("to", to).addAttribute("action", action)
                .addAttribute("zone", props.getTimeZone())
                .addAttribute("older", events.size() == AUDIT_PAGE ? events.get(events.size() - 1).seq() : null);
        return "console/audit";
    }

    /** The same search as CSV, every matching event (oldest last), for the auditors' own tools. */
    @GetMapping(path = "/console/audit.csv", produces = "text/csv")
    org.springframework.http.ResponseEntity<org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody>
    auditCsv(@RequestParam(defaultValue = "") String patient, @RequestParam(defaultValue = "") String agent,
             @RequestParam(defaultValue = "") String from, @RequestParam(defaultValue = "") String to,
             @RequestParam(defaultValue = "") String action, Authentication auth, HttpServletRequest request) {
        Agent officer = officer(auth, request, "audit.export");
        AuditQuery q = query(patient, agent, from, to, action, null, Integer.MAX_VALUE);
        audit.record(AuditRecord.of(officer, "audit.export", AuditRecord.Outcome.SUCCESS).withDetail("csv")
                .withQuery(criteria(patient, agent, from, to, action)));
        return org.springframework.http.ResponseEntity.ok()
                .header("Content-Disposition", "attachment; filename=\"kiroku-audit.csv\"")
                .contentType(new org.springframework.http.MediaType("text", "csv", java.nio.charset.StandardCharsets.UTF_8))
                .body(out -> {
                    var w = new java.io.BufferedWriter(new java.io.OutputStreamWriter(out, java.nio.charset.StandardCharsets.UTF_8));
                    w.write("\uFEFFseq,recorded,action,outcome,agent_kind,agent_id,agent_role,source_address,device,purpose,"
                            + "request_id,patients,entities,detail\r\n"); // the BOM: Excel opens UTF-8 as such
                    audit.forEach(q, e -> {
                        try {
                            w.write(String.join(",", Long.toString(e.seq()), e.recorded().toString(), csv(e.action()),
                                    csv(e.outcome()), csv(e.agentKind()), csv(e.agentId()), csv(e.agentRole()),
                                    csv(e.sourceAddress()), csv(e.deviceId()), csv(e.purpose()), csv(e.requestId()),
                                    csv(String.join(" ", e.patients())), csv(String.join(" ", e.entities())),
                                    csv(e.detail())) + "\r\n");
                        } catch (java.io.IOException ex) {
                            throw new java.io.UncheckedIOException(ex);
                        }
                    });
                    w.flush();
                });
    }

    private AuditQuery query(String patient, String agent, String from, String to, String action, Long before, int limit) {
        java.time.ZoneId zone = props.getTimeZone();
        return new AuditQuery(blankToNull(patient), blankToNull(agent), day(from, zone, "from"),
                to.isBlank() ? null : day(to, zone, "to").plus(java.time.Duration.ofDays(1)),
                action.isBlank() ? List.of() : List.of(action.strip()), null, before, limit);
    }

    private static java.time.Instant day(String value, java.time.ZoneId zone, String field) {
        if (value.isBlank()) {
            return null;
        }
        try {
            return java.time.LocalDate.parse(value.strip()).atStartOfDay(zone).toInstant();
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException(field + " must be a date such as 2026-12-01");
        }
    }

    private static String blankToNull(String s) {
        return s.isBlank() ? null : s.strip();
    }

    private static String criteria(String patient, String agent, String from, String to, String action) {
        return "patient=" + patient + " agent=" + agent + " from=" + from + " to=" + to + " action=" + action;
    }

    /** A CSV field: quoted when it holds a comma, quote or line break; a leading =+-@ is defused (CSV injection). */
    static String csv(String v) {
        if (v == null) {
            return "";
        }
        String s = !v.isEmpty() && "=+-@".indexOf(v.charAt(0)) >= 0 ? "'" + v : v;
        return s.matches("(?s).*[,\"\r\n].*") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    private Agent officer(Authentication auth, HttpServletRequest request, String action) {
        return people.require(auth, request, action, "auditor");
    }
}
