package jp.kiroku.identity;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;

/**
 * The absolute limit of a signed-in session (AUTH-09): however active, it ends this long after login. (The idle limit
 * is the session's own inactive interval, enforced by the session store.)
 */
final class SessionLimits extends OncePerRequestFilter {

    private final Duration absolute;
    private final Clock clock;
    private final TerminalCheck terminals;

    SessionLimits(Duration absolute, Clock clock, TerminalCheck terminals) {
        this.absolute = absolute;
        this.clock = clock;
        this.terminals = terminals;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest req, HttpServletResponse res, FilterChain chain)
            throws ServletException, IOException {
        HttpSession s = req.getSession(false);
        if (s != null && s.getAttribute(LoginPages.LOGIN_AT) instanceof Instant at
                && at.plus(absolute).isBefore(clock.instant())) {
            s.invalidate();
            SecurityContextHolder.clearContext();
            res.sendRedirect(req.getContextPath() + "/login?expired");
            return;
        }
        var auth = SecurityContextHolder.getContext().getAuthentication();
        String device = auth == null ? null : Tokens.deviceOf(auth.getAuthorities());
        if (s != null && device != null && terminals.onRequest(device, true, TerminalCheck.credential(req)) != null) {
            s.invalidate(); // the terminal was reported lost or retired, or the session moved to another browser
            SecurityContextHolder.clearContext();
            res.sendRedirect(req.getContextPath() + "/login");
            return;
        }
        chain.doFilter(req, res);
    }
}
