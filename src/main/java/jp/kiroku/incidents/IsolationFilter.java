package jp.kiroku.incidents;

import java.io.IOException;

import org.springframework.web.filter.OncePerRequestFilter;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;

/** In isolate mode, refuses every request that does not come from the server's own host (503, audited). */
final class IsolationFilter extends OncePerRequestFilter {

    private final OperatingMode mode;
    private final AuditTrail audit;

    IsolationFilter(OperatingMode mode, AuditTrail audit) {
        this.mode = mode;
        this.audit = audit;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (mode.admits(request.getRemoteAddr())) {
            chain.doFilter(request, response);
            return;
        }
        audit.record(AuditRecord.of(new Agent(Agent.Kind.ANONYMOUS, "-", request.getRemoteAddr()), "mode.refuse",
                AuditRecord.Outcome.DENIED).withDetail("isolate"));
        response.setStatus(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        response.setContentType("application/fhir+json;charset=UTF-8");
        String reason = mode.current().reason() == null ? "" : mode.current().reason().replace("\\", "\\\\").replace("\"", "\\\"");
        response.getWriter().write("{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":"
                + "\"transient\",\"diagnostics\":\"Kiroku is isolated (business continuity): it serves only its own host."
                + " Reason: " + reason + "\"}]}");
    }
}
