package jp.kiroku.identity;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpSession;
import jp.kiroku.audit.Agent;

/**
 * A signed-in person's passkeys (AUTH-07): list, register (the browser's {@code navigator.credentials.create} answer,
 * verified against a one-time challenge) and remove. Logging in with one is a step of {@link LoginPages}.
 */
@Controller
class PasskeyPages {

    static final String CHALLENGE = "kiroku.account.passkey";

    private final Accounts accounts;
    private final Passkeys passkeys;

    PasskeyPages(Accounts accounts, Passkeys passkeys) {
        this.accounts = accounts;
        this.passkeys = passkeys;
    }

    private Account me() {
        String username = SecurityContextHolder.getContext().getAuthentication().getName();
        return accounts.activeAccount(username).orElseThrow(() -> new IllegalStateException("no active account"));
    }

    @GetMapping("/account/passkeys")
    String page(HttpServletRequest req, Model model) {
        Account a = me();
        Passkeys.Challenge c = passkeys.challenge(req);
        req.getSession().setAttribute(CHALLENGE, c);
        model.addAttribute("registered", passkeys.list(a));
        model.addAttribute("challenge", c.base64());
        model.addAttribute("rpId", c.rpId());
        model.addAttribute("userId", Passkeys.b64(uuidBytes(a.id())));
        model.addAttribute("userName", a.username());
        model.addAttribute("displayName", a.name());
        model.addAttribute("exclude", String.join(",", passkeys.ids(a)));
        return "account/passkeys";
    }

    /** The browser's answer to the registration challenge (base64url fields). */
    @PostMapping("/account/passkeys")
    String register(@RequestParam(defaultValue = "") String clientDataJSON,
                    @RequestParam(defaultValue = "") String attestationObject,
                    @RequestParam(defaultValue = "") String transports,
                    @RequestParam(defaultValue = "") String name, HttpServletRequest req, Model model) {
        Account a = me();
        HttpSession s = req.getSession();
        if (!(s.getAttribute(CHALLENGE) instanceof Passkeys.Challenge c)) {
            return "redirect:/account/passkeys";
        }
        s.removeAttribute(CHALLENGE); // one answer per challenge
        Set<String> via = Arrays.stream(transports.split(",")).map(String::strip).filter(t -> !t.isEmpty())
                .collect(Collectors.toSet());
        try {
            passkeys.register(a, c, Passkeys.bytes(clientDataJSON), Passkeys.bytes(attestationObject), via, name,
                    new Agent(Agent.Kind.USER, a.username(), req.getRemoteAddr()));
        } catch (IllegalArgumentException e) {
            model.addAttribute("error", "passkey.refused");
            return page(req, model);
        }
        return "redirect:/account/passkeys?added";
    }

    @PostMapping("/account/passkeys/remove")
    String remove(@RequestParam(defaultValue = "") String credentialId, HttpServletRequest req) {
        Account a = me();
        passkeys.remove(a, Passkeys.bytes(credentialId), new Agent(Agent.Kind.USER, a.username(), req.getRemoteAddr()));
        return "redirect:/account/passkeys";
    }

    private static byte[] uuidBytes(UUID id) {
        return ByteBuffer.allocate(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits()).array();
    }
}
