package jp.kiroku.identity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Pattern;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.web.filter.OncePerRequestFilter;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;

/**
 * Every token request is an audit event (LOG-01: logins and failed logins of systems): {@code token.issue}, success
 * when a token was issued, failed otherwise, with the client id it claimed (never the secret) and the source address.
 */
final class TokenRequestAudit extends OncePerRequestFilter {

    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9._:@-]{1,100}");

    private final AuditTrail audit;

    TokenRequestAudit(AuditTrail audit) {
        this.audit = audit;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        try {
            chain.doFilter(request, response);
        } finally {
            int status = response.getStatus();
            String client = claimedClient(request);
            audit.record(AuditRecord.of(new Agent(Agent.Kind.CLIENT, client, request.getRemoteAddr()), "token.issue",
                    status == 200 ? AuditRecord.Outcome.SUCCESS : AuditRecord.Outcome.FAILED)
                    .withDetail("HTTP " + status + " grant_type=" + plain(request.getParameter("grant_type"))));
        }
    }

    /** The client id of HTTP Basic or of the form, if it is a plain token; else "unknown" (it is attacker input). */
    private static String claimedClient(HttpServletRequest request) {
        String header = request.getHeader("Authorization");
        String id = null;
        if (header != null && header.regionMatches(true, 0, "Basic ", 0, 6)) {
            try {
                String pair = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
                id = java.net.URLDecoder.decode(pair.substring(0, Math.max(0, pair.indexOf(':'))), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                id = null;
            }
        } else {
            id = request.getParameter("client_id");
        }
        return plain(id);
    }

    private static String plain(String s) {
        return s != null && PLAIN.matcher(s).matches() ? s : "unknown";
    }
}
