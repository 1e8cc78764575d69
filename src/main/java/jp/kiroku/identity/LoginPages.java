package jp.kiroku.identity;

import java.io.Serializable;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.FactorGrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.web.context.HttpSessionSecurityContextRepository;
import org.springframework.security.web.context.SecurityContextRepository;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.platform.KirokuProperties;

/**
 * People's login, step by step (AUTH-01..09): user name and password; then, if the password was issued by an
 * administrator or has expired, a new one (nothing else is reachable meanwhile); then the second factor — enrolling a
 * TOTP authenticator at the first login; later a TOTP code or one of the person's passkeys — and only then a signed-in
 * session. Until the last step the session holds just
 * a pending login, which no protected page accepts. Every failure says the same thing, whatever failed.
 */
@Controller
class LoginPages {

    static final String PENDING = "kiroku.login.pending";
    static final String ENROLLING = "kiroku.login.enrolling";
    static final String LOGIN_AT = "kiroku.login.at";
    static final String PASSKEY_CHALLENGE = "kiroku.login.passkey";
    static final String ISSUER = "Kiroku";

    /** A person who has given the right password but not yet finished logging in. */
    record Pending(UUID accountId, String username, Instant passwordAt, String deviceId) implements Serializable {
    }

    private final Accounts accounts;
    private final LoginThrottle throttle;
    private final AuditTrail audit;
    private final Clock clock;
    private final Totp totp;
    private final JdbcTemplate jdbc;
    private final KirokuProperties props;
    private final Passkeys passkeys;
    private final IdleLimits idle;
    private final TerminalCheck terminals;
    private final SecurityContextRepository contexts = new HttpSessionSecurityContextRepository();

    LoginPages(Accounts accounts, LoginThrottle throttle, AuditTrail audit, Clock clock, JdbcTemplate jdbc,
               KirokuProperties props, Passkeys passkeys, TerminalCheck terminals) {
        this.passkeys = passkeys;
        this.terminals = terminals;
        this.idle = new IdleLimits(props.getAuth());
        this.accounts = accounts;
        this.throttle = throttle;
        this.audit = audit;
        this.clock = clock;
        this.totp = new Totp(clock);
        this.jdbc = jdbc;
        this.props = props;
    }

    @GetMapping("/login")
    String loginForm(HttpServletRequest req) {
        return "login/login";
    }

    @PostMapping("/login")
    String login(@RequestParam(defaultValue = "") String username, @RequestParam(defaultValue = "") String password,
                 HttpServletRequest req, Model model) {
        String address = req.getRemoteAddr();
        String name = username.strip().toLowerCase(Locale.ROOT);
        Agent agent = new Agent(Agent.Kind.USER, name.isEmpty() ? "(empty)" : truncate(name), address);
        LoginThrottle.Verdict verdict = throttle.check(name, address);
        if (verdict != LoginThrottle.Verdict.ALLOWED) {
            audit.record(AuditRecord.of(agent, "login", AuditRecord.Outcome.DENIED).withDetail("step=password " + verdict));
            return failed(model, verdict == LoginThrottle.Verdict.LOCKED ? "login.locked" : "login.too-soon");
        }
        Optional<Account> account = accounts.find(name);
        if (!accounts.passwordMatches(account, password)) {
            boolean locked = throttle.failed(name, address);
            audit.record(AuditRecord.of(agent, "login", AuditRecord.Outcome.FAILED).withDetail("step=password "
                    + (account.isEmpty() ? "unknown-user" : account.get().active() ? "wrong-password" : "disabled")));
            if (locked) {
                audit.record(AuditRecord.of(agent, "account.lock", AuditRecord.Outcome.SUCCESS)
                        .withDetail("after " + props.getAuth().getLockoutAttempts() + " failed logins"));
            }
            return failed(model, locked ? "login.locked" : null);
        }
        Account a = account.get();
        TerminalCheck.Verdict terminal = terminals.atLogin(a.username(), java.util.Set.copyOf(a.roles()),
                "patient".equals(a.kind()), TerminalCheck.credential(req));
        if (terminal.refusal() != null) { // BYOD-01: staff work only from terminals an administrator controls
            audit.record(AuditRecord.of(agent, "login", AuditRecord.Outcome.DENIED).withDetail("step=device "
                    + (terminal.deviceId() == null ? "unregistered" : terminal.deviceId())));
            model.addAttribute("error", "login.device");
            model.addAttribute("deviceRefusal", terminal.refusal());
            return "login/login";
        }
        req.changeSessionId(); // a new session id once the password is right (session fixation)
        HttpSession session = req.getSession();
        session.setAttribute(PENDING, new Pending(a.id(), a.username(), clock.instant(), terminal.deviceId()));
        session.setMaxInactiveInterval((int) idle.of(a.roles(), address).toSeconds());
        return next(a);
    }

    private static String truncate(String s) {
        return s.length() > 64 ? s.substring(0, 64) : s;
    }

    private static String failed(Model model, String hint) {
        model.addAttribute("error", "login.failed"); // the same words whatever failed (AUTH-05)
        model.addAttribute("hint", hint);
        return "login/login";
    }

    /** Where a pending login goes next. */
    private String next(Account a) {
        boolean expired = a.passwordExpiresAt() != null && !a.passwordExpiresAt().isAfter(clock.instant());
        if (a.mustChangePassword() || expired) {
            return "redirect:/login/password";
        }
        if (!accounts.needsSecondFactor(a)) {
            return "redirect:/login/finish";
        }
        return a.totpEnrolled() ? "redirect:/login/totp" : "redirect:/login/totp/enroll";
    }

    private Optional<Account> pending(HttpServletRequest req) {
        HttpSession s = req.getSession(false);
        if (s == null || !(s.getAttribute(PENDING) instanceof Pending p)
                || p.passwordAt().plus(props.getAuth().getIdleTimeout()).isBefore(clock.instant())) {
            return Optional.empty(); // no pending login, or one left unfinished too long
        }
        return accounts.find(p.username()).filter(Account::active).filter(a -> a.id().equals(p.accountId()));
    }

    // --- step 2: the person's own password (AUTH-04, AUTH-05) ---

    @GetMapping("/login/password")
    String passwordForm(HttpServletRequest req, Model model) {
        Optional<Account> a = pending(req);
        if (a.isEmpty()) {
            return "redirect:/login";
        }
        model.addAttribute("rule", accounts.passwordRule(a.get()).name().toLowerCase(Locale.ROOT));
        return "login/password";
    }

    @PostMapping("/login/password")
    String changePassword(@RequestParam(defaultValue = "") String password, @RequestParam(defaultValue = "") String confirm,
                          HttpServletRequest req, Model model, Locale locale) {
        Optional<Account> pending = pending(req);
        if (pending.isEmpty()) {
            return "redirect:/login";
        }
        Account a = pending.get();
        model.addAttribute("rule", accounts.passwordRule(a).name().toLowerCase(Locale.ROOT));
        if (!password.equals(confirm)) {
            model.addAttribute("problems", List.of(locale.getLanguage().equals("en")
                    ? "The two entries differ." : "確認用の入力が一致しません。"));
            return "login/password";
        }
        var violations = accounts.changePassword(a, password, agent(a, req));
        if (!violations.isEmpty()) {
            model.addAttribute("problems", violations.stream()
                    .map(v -> locale.getLanguage().equals("en") ? v.en() : v.ja()).distinct().toList());
            return "login/password";
        }
        BootstrapAdmin.passwordChanged(props, a.username());
        return next(accounts.find(a.username()).orElseThrow());
    }

    // --- step 3: the possession factor (AUTH-07) ---

    @GetMapping("/login/totp/enroll")
    String enrollForm(HttpServletRequest req, Model model) {
        Optional<Account> a = pending(req);
        if (a.isEmpty() || a.get().mustChangePassword()) {
            return "redirect:/login";
        }
        if (a.get().totpEnrolled()) {
            return "redirect:/login/totp";
        }
        HttpSession s = req.getSession();
        byte[] secret = s.getAttribute(ENROLLING) instanceof byte[] b ? b : Totp.newSecret();
        s.setAttribute(ENROLLING, secret);
        String uri = Totp.otpauthUri(ISSUER, a.get().username(), secret);
        model.addAttribute("qr", QrCodes.svg(uri));
        model.addAttribute("secret", Totp.base32(secret).replaceAll("(.{4})(?!$)", "$1 "));
        return "login/enroll";
    }

    @PostMapping("/login/totp/enroll")
    String enroll(@RequestParam(defaultValue = "") String code, HttpServletRequest req, HttpServletResponse res, Model model) {
        Optional<Account> pending = pending(req);
        HttpSession s = req.getSession(false);
        if (pending.isEmpty() || pending.get().mustChangePassword() || pending.get().totpEnrolled()
                || !(s.getAttribute(ENROLLING) instanceof byte[] secret)) {
            return "redirect:/login";
        }
        Account a = pending.get();
        OptionalLong step = totp.verify(secret, digits(code), 0);
        if (step.isEmpty()) {
            audit.record(AuditRecord.of(agent(a, req), "totp.enroll", AuditRecord.Outcome.FAILED)
                    .withDetail("account=" + a.username() + " wrong code"));
            model.addAttribute("error", "enroll.wrong-code");
            return enrollForm(req, model);
        }
        accounts.enrollTotp(a, secret, step.getAsLong(), agent(a, req));
        s.removeAttribute(ENROLLING);
        String next = finish(a, req, res, List.of("PASSWORD", "TOTP")).substring("redirect:".length());
        model.addAttribute("codes", accounts.newRecoveryCodes(a)); // shown once, now
        model.addAttribute("next", next);
        return "login/recovery-codes";
    }

    // --- the way in when the authenticator is lost (AUTH-08) ---

    @GetMapping("/login/recovery")
    String recoveryForm(HttpServletRequest req) {
        Optional<Account> a = pending(req);
        return a.isEmpty() || !a.get().totpEnrolled() ? "redirect:/login" : "login/recovery";
    }

    /**
     * A recovery code replaces the lost authenticator once: it is spent, the old TOTP secret is forgotten, and the
     * login continues with the enrolment of a new authenticator (and new codes).
     */
    @PostMapping("/login/recovery")
    String recover(@RequestParam(defaultValue = "") String code, HttpServletRequest req, Model model) {
        Optional<Account> pending = pending(req);
        if (pending.isEmpty() || !pending.get().totpEnrolled() || pending.get().mustChangePassword()) {
            return "redirect:/login";
        }
        Account a = pending.get();
        String refused = refusedCode(a, "recovery-code", () -> accounts.useRecoveryCode(a, digits(code)), req, model,
                "login/recovery");
        if (refused != null) {
            return refused;
        }
        accounts.forgetTotp(a, agent(a, req));
        return "redirect:/login/totp/enroll";
    }

    @GetMapping("/login/totp")
    String totpForm(HttpServletRequest req, Model model) {
        Optional<Account> a = pending(req);
        if (a.isEmpty()) {
            return "redirect:/login";
        }
        model.addAttribute("passkeys", passkeys.has(a.get()));
        return "login/totp";
    }

    // --- or a passkey instead of the TOTP code (AUTH-07) ---

    @GetMapping("/login/passkey")
    String passkeyForm(HttpServletRequest req, Model model) {
        Optional<Account> a = pending(req);
        if (a.isEmpty() || a.get().mustChangePassword() || !a.get().totpEnrolled() || !passkeys.has(a.get())) {
            return "redirect:/login";
        }
        Passkeys.Challenge c = passkeys.challenge(req);
        req.getSession().setAttribute(PASSKEY_CHALLENGE, c);
        model.addAttribute("challenge", c.base64());
        model.addAttribute("rpId", c.rpId());
        model.addAttribute("credentials", String.join(",", passkeys.ids(a.get())));
        return "login/passkey";
    }

    /** The browser's answer (base64url fields); the challenge is spent whatever the outcome. */
    @PostMapping("/login/passkey")
    String verifyPasskey(@RequestParam(defaultValue = "") String credentialId,
                         @RequestParam(defaultValue = "") String clientDataJSON,
                         @RequestParam(defaultValue = "") String authenticatorData,
                         @RequestParam(defaultValue = "") String signature,
                         @RequestParam(defaultValue = "") String userHandle,
                         HttpServletRequest req, HttpServletResponse res, Model model) {
        Optional<Account> pending = pending(req);
        HttpSession s = req.getSession(false);
        if (pending.isEmpty() || pending.get().mustChangePassword() || !pending.get().totpEnrolled()
                || !(s.getAttribute(PASSKEY_CHALLENGE) instanceof Passkeys.Challenge c)) {
            return "redirect:/login";
        }
        s.removeAttribute(PASSKEY_CHALLENGE);
        Account a = pending.get();
        String refused = refusedCode(a, "passkey", () -> passkeys.verify(a, c, Passkeys.bytes(credentialId),
                Passkeys.bytes(clientDataJSON), Passkeys.bytes(authenticatorData), Passkeys.bytes(signature),
                userHandle.isBlank() ? null : Passkeys.bytes(userHandle)), req, model, "login/totp");
        if (refused != null) {
            model.addAttribute("passkeys", true);
            return refused;
        }
        return finish(a, req, res, List.of("PASSWORD", "WEBAUTHN"));
    }

    @PostMapping("/login/totp")
    String verifyTotp(@RequestParam(defaultValue = "") String code, HttpServletRequest req, HttpServletResponse res,
                      Model model) {
        Optional<Account> pending = pending(req);
        if (pending.isEmpty() || !pending.get().totpEnrolled() || pending.get().mustChangePassword()) {
            return "redirect:/login";
        }
        Account a = pending.get();
        String refused = refusedCode(a, "totp", () -> accounts.acceptTotp(a, code), req, model, "login/totp");
        if (refused != null) {
            return refused;
        }
        return finish(a, req, res, List.of("PASSWORD", "TOTP"));
    }

    /**
     * Checks a second-step code (TOTP or recovery), throttled like passwords since codes can be guessed too. Returns
     * null when accepted, else the view to show again with the same words as any failed login.
     */
    private String refusedCode(Account a, String step, java.util.function.BooleanSupplier accepts, HttpServletRequest req,
                               Model model, String view) {
        String address = req.getRemoteAddr();
        LoginThrottle.Verdict verdict = throttle.check(a.username(), address);
        boolean allowed = verdict == LoginThrottle.Verdict.ALLOWED;
        if (allowed && accepts.getAsBoolean()) {
            return null;
        }
        boolean locked = allowed ? throttle.failed(a.username(), address) : verdict == LoginThrottle.Verdict.LOCKED;
        audit.record(AuditRecord.of(agent(a, req), "login", allowed ? AuditRecord.Outcome.FAILED : AuditRecord.Outcome.DENIED)
                .withDetail("step=" + step + " " + (allowed ? "wrong-code" : verdict)));
        model.addAttribute("error", "login.failed");
        model.addAttribute("hint", locked ? "login.locked" : allowed ? null : "login.too-soon");
        return view;
    }

    /** Only for accounts whose role is exempted from the second factor (by configuration). */
    @GetMapping("/login/finish")
    String finishWithoutSecondFactor(HttpServletRequest req, HttpServletResponse res) {
        Optional<Account> a = pending(req);
        if (a.isEmpty() || a.get().mustChangePassword() || accounts.needsSecondFactor(a.get())) {
            return "redirect:/login";
        }
        return finish(a.get(), req, res, List.of("PASSWORD"));
    }

    /** Signs the person in: a fresh session id, the idle and absolute limits, and at most N sessions per person. */
    private String finish(Account a, HttpServletRequest req, HttpServletResponse res, List<String> factors) {
        List<GrantedAuthority> authorities = new ArrayList<>();
        a.roles().forEach(r -> authorities.add(new SimpleGrantedAuthority("ROLE_" + r.toUpperCase(Locale.ROOT))));
        // each factor with the time it was given (the password's from the pending login); ID tokens carry the latest
        Instant now = clock.instant();
        Instant passwordAt = req.getSession().getAttribute(PENDING) instanceof Pending p ? p.passwordAt() : now;
        factors.forEach(f -> authorities.add(FactorGrantedAuthority.withFactor(f)
                .issuedAt(f.equals("PASSWORD") ? passwordAt : now).build()));
        String device = req.getSession().getAttribute(PENDING) instanceof Pending p ? p.deviceId() : null;
        if (device != null) {
            authorities.add(new SimpleGrantedAuthority(Tokens.DEVICE_AUTHORITY + device)); // tokens carry it
        }
        SecurityContext context = SecurityContextHolder.createEmptyContext();
        context.setAuthentication(UsernamePasswordAuthenticationToken.authenticated(a.username(), null, authorities));
        SecurityContextHolder.setContext(context);
        req.changeSessionId();
        HttpSession s = req.getSession();
        s.removeAttribute(PENDING);
        s.setAttribute(LOGIN_AT, now);
        s.setMaxInactiveInterval((int) idle.of(a.roles(), req.getRemoteAddr()).toSeconds());
        contexts.saveContext(context, req, res);
        int ended = jdbc.update("DELETE FROM spring_session WHERE primary_id IN (SELECT primary_id FROM spring_session"
                + " WHERE principal_name = ? AND session_id <> ? ORDER BY last_access_time DESC OFFSET ?)",
                a.username(), s.getId(), Math.max(0, props.getAuth().getMaxSessions() - 1));
        throttle.succeeded(a.username());
        accounts.loggedIn(a);
        audit.record(AuditRecord.of(agent(a, req), "login", AuditRecord.Outcome.SUCCESS)
                .withDetail("factors=" + String.join("+", factors).toLowerCase(Locale.ROOT)
                        + (device != null ? " device=" + device : "") // rule new-device
                        + (ended > 0 ? " older-sessions-ended=" + ended : "")));
        return "redirect:" + afterLogin(req, res);
    }

    /** Back to the app's authorization request that sent the person here, if one did; else the home page. */
    private static String afterLogin(HttpServletRequest req, HttpServletResponse res) {
        var saved = new org.springframework.security.web.savedrequest.HttpSessionRequestCache().getRequest(req, res);
        if (saved != null) {
            java.net.URI uri = java.net.URI.create(saved.getRedirectUrl());
            if ("/oauth2/authorize".equals(uri.getPath())) {
                return uri.getRawPath() + "?" + uri.getRawQuery();
            }
        }
        return "/";
    }

    /** Full-width digits from a Japanese input method become ASCII ones (NFKC). */
    private static String digits(String code) {
        return java.text.Normalizer.normalize(code, java.text.Normalizer.Form.NFKC);
    }

    private static Agent agent(Account a, HttpServletRequest req) {
        return new Agent(Agent.Kind.USER, a.username(), req.getRemoteAddr());
    }
}
