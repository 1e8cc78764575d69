package jp.kiroku.admin;

import java.util.List;
import java.util.Locale;

import org.springframework.http.HttpStatus;
import org.springframework.security.core.Authentication;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.server.ResponseStatusException;

import jakarta.servlet.http.HttpServletRequest;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
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
    private final Auditors auditors;
    private final AuditTrail audit;
    private final KirokuProperties props;

    ConsolePages(Detection detection, Incidents incidents, Auditors auditors, AuditTrail audit, KirokuProperties props) {
        this.detection = detection;
        this.incidents = incidents;
        this.auditors = auditors;
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

    /** An alert or incident that does not exist (or was taken up meanwhile): say so, 400. */
    @org.springframework.web.bind.annotation.ExceptionHandler(IllegalArgumentException.class)
    org.springframework.http.ResponseEntity<String> badRequest(IllegalArgumentException e) {
        return org.springframework.http.ResponseEntity.badRequest()
                .contentType(org.springframework.http.MediaType.TEXT_PLAIN).body(e.getMessage());
    }

    /** The signed-in person as the acting agent, when an auditor; otherwise 403 (audited as {@code action} denied). */
    private Agent officer(Authentication auth, HttpServletRequest request, String action) {
        Agent person = new Agent(Agent.Kind.USER, auth.getName().toLowerCase(Locale.ROOT), request.getRemoteAddr());
        if (!auditors.isAuditor(person.id())) {
            audit.record(AuditRecord.of(person, action, AuditRecord.Outcome.DENIED).withDetail("not an auditor"));
            throw new ResponseStatusException(HttpStatus.FORBIDDEN, "not an auditor");
        }
        return person;
    }
}
