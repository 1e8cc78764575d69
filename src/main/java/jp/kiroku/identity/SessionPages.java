package jp.kiroku.identity;

import java.util.Locale;

import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpSession;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;

/** The signed-in person's start page (the web UI issue builds on it), logout, and logout everywhere (AUTH-09). */
@Controller
class SessionPages {

    private final Accounts accounts;
    private final AuditTrail audit;

    SessionPages(Accounts accounts, AuditTrail audit) {
        this.accounts = accounts;
        this.audit = audit;
    }

    @GetMapping("/")
    String home(Authentication auth, Model model) {
        Account a = accounts.find(auth.getName()).orElseThrow();
        model.addAttribute("account", a);
        return "home";
    }

    @PostMapping("/logout")
    String logout(Authentication auth, HttpServletRequest req) {
        end(req);
        audit.record(AuditRecord.of(agent(auth, req), "logout", AuditRecord.Outcome.SUCCESS));
        return "redirect:/login?logout";
    }

    @PostMapping("/logout/everywhere")
    String logoutEverywhere(Authentication auth, HttpServletRequest req) {
        end(req);
        int ended = accounts.endSessions(auth.getName());
        audit.record(AuditRecord.of(agent(auth, req), "logout", AuditRecord.Outcome.SUCCESS)
                .withDetail("everywhere sessions-ended=" + (ended + 1)));
        return "redirect:/login?logout";
    }

    private static void end(HttpServletRequest req) {
        HttpSession s = req.getSession(false);
        if (s != null) {
            s.invalidate();
        }
        SecurityContextHolder.clearContext();
    }

    private static Agent agent(Authentication auth, HttpServletRequest req) {
        return new Agent(Agent.Kind.USER, auth.getName().toLowerCase(Locale.ROOT), req.getRemoteAddr());
    }
}
