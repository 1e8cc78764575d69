package jp.kiroku.admin;

import java.util.Arrays;
import java.util.List;
import java.util.UUID;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.Authentication;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;

import jakarta.servlet.http.HttpServletRequest;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.RightsRequests;

/**
 * The access-rights workflow as pages (ACL-02, ACL-03; issue 11, item 3): a person asks for the roles someone of
 * their department should have, the department's manager approves or rejects with a fresh authenticator code (the
 * roles change only then), and the security officer's report shows every account's roles against its approved
 * request. The same rules as the API and the CLI ({@link RightsRequests}); refusals are audited.
 */
@Controller
class RightsPages {

    private final RightsRequests rights;
    private final ConsolePeople people;
    private final AuditTrail audit;

    RightsPages(RightsRequests rights, ConsolePeople people, AuditTrail audit) {
        this.rights = rights;
        this.people = people;
        this.audit = audit;
    }

    /** The request form, and for a department's manager the requests waiting for their decision. */
    @GetMapping("/rights")
    String page(Authentication auth, HttpServletRequest request, Model model) {
        Agent person = people.person(auth, request);
        List<String> managed = rights.managedBy(person.id());
        List<RightsRequests.Request> pending = managed.isEmpty() ? List.of() : rights.list(false, managed);
        audit.record(AuditRecord.of(person, "rights.list", AuditRecord.Outcome.SUCCESS).withDetail("pending " + pending.size()));
        model.addAttribute("managed", managed).addAttribute("pending", pending)
                .addAttribute("roles", new java.util.TreeSet<>(Accounts.ROLES));
        return "rights/requests";
    }

    @PostMapping("/rights")
    String ask(@RequestParam(defaultValue = "") String user, @RequestParam(defaultValue = "") String department,
               @RequestParam(defaultValue = "") String roles, @RequestParam(defaultValue = "") String reason,
               Authentication auth, HttpServletRequest request) {
        Agent person = people.person(auth, request);
        rights.request(user.strip(), department.strip(), Arrays.stream(roles.split("[,\\s]+")).filter(r -> !r.isBlank())
                .toList(), reason, person);
        return "redirect:/rights?asked";
    }

    /** The manager's decision, confirmed by a current authenticator code. */
    @PostMapping("/rights/{id}/decision")
    String decide(@PathVariable UUID id, @RequestParam String decision, @RequestParam(defaultValue = "") String note,
                  @RequestParam(defaultValue = "") String otp, Authentication auth, HttpServletRequest request) {
        if (!List.of("approve", "reject").contains(decision)) {
            throw new IllegalArgumentException("decision must be approve or reject");
        }
        rights.decide(id, decision.equals("approve"), note, otp.replace(" ", ""), people.person(auth, request));
        return "redirect:/rights";
    }

    /** Every staff account's roles against its latest approved request, for the security officer (ACL-02). */
    @GetMapping("/console/rights")
    String report(Authentication auth, HttpServletRequest request, Model model) {
        Agent officer = people.require(auth, request, "rights.report", "auditor");
        List<RightsRequests.ReportLine> lines = rights.report();
        audit.record(AuditRecord.of(officer, "rights.report", AuditRecord.Outcome.SUCCESS).withDetail("accounts " + lines.size()));
        model.addAttribute("lines", lines);
        return "console/rights";
    }

    /** A refusal by the workflow's rules (not a manager, one's own rights, a wrong code): 403, audited. */
    @ExceptionHandler(SecurityException.class)
    ResponseEntity<String> refused(SecurityException e, HttpServletRequest request, Authentication auth) {
        audit.record(AuditRecord.of(people.person(auth, request), "rights.decide", AuditRecord.Outcome.DENIED)
                .withDetail(e.getMessage()));
        return ResponseEntity.status(HttpStatus.FORBIDDEN).contentType(org.springframework.http.MediaType.TEXT_PLAIN)
                .body(e.getMessage());
    }

    /** A request decided already: 400 with what was wrong (bad input is answered by {@link ConsoleErrors}). */
    @ExceptionHandler(IllegalStateException.class)
    ResponseEntity<String> decidedAlready(IllegalStateException e) {
        return ResponseEntity.badRequest().contentType(org.springframework.http.MediaType.TEXT_PLAIN).body(e.getMessage());
    }

}
