package jp.kiroku.devices;

import java.time.Duration;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.http.ResponseCookie;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.TerminalCheck;

/**
 * {@code /device/enroll}: on the terminal itself, someone types the credential an administrator issued (kiroku device
 * enroll); the browser keeps it as an HttpOnly cookie and is from then on that registered terminal. An invalid
 * credential is refused and audited.
 */
@Controller
final class EnrollmentPage {

    private final Devices devices;
    private final AuditTrail audit;

    EnrollmentPage(Devices devices, AuditTrail audit) {
        this.devices = devices;
        this.audit = audit;
    }

    @GetMapping("/device/enroll")
    String form() {
        return "device/enroll";
    }

    @PostMapping("/device/enroll")
    String enroll(@RequestParam(defaultValue = "") String credential, HttpServletRequest req, HttpServletResponse res,
                  Model model) {
        Agent agent = new Agent(Agent.Kind.ANONYMOUS, "terminal-enrolment", req.getRemoteAddr());
        var device = devices.authenticate(credential.strip());
        if (device.isEmpty()) {
            audit.record(AuditRecord.of(agent, "device.enroll-browser", AuditRecord.Outcome.DENIED).withDetail("invalid"));
            model.addAttribute("error", "device.enroll.invalid");
            return "device/enroll";
        }
        res.addHeader("Set-Cookie", ResponseCookie.from(TerminalCheck.COOKIE, credential.strip()).httpOnly(true)
                .secure(req.isSecure()).sameSite("Lax").path("/").maxAge(Duration.ofDays(5 * 365)).build().toString());
        audit.record(AuditRecord.of(agent, "device.enroll-browser", AuditRecord.Outcome.SUCCESS)
                .withDetail("device=" + device.get().id()));
        model.addAttribute("device", device.get().name());
        return "device/enroll";
    }
}
