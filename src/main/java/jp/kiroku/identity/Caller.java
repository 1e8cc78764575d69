package jp.kiroku.identity;

import java.util.Collection;
import java.util.List;

import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;

import jp.kiroku.audit.Agent;

/**
 * The authenticated caller of the current request: who (for authorship and audit) and the scopes its token grants.
 * The seam where later issues add the person, facility, device and purpose of use.
 */
public record Caller(Agent agent, Collection<String> scopes) {

    /** The caller of the current request, or an anonymous caller with no scopes. */
    public static Caller current(String sourceAddress) {
        var auth = SecurityContextHolder.getContext().getAuthentication();
        if (auth instanceof JwtAuthenticationToken jwt) {
            List<String> scopes = jwt.getToken().getClaimAsStringList("scope");
            Agent.Kind kind = Tokens.actsForPerson(jwt.getToken()) ? Agent.Kind.USER : Agent.Kind.CLIENT;
            return new Caller(new Agent(kind, jwt.getToken().getSubject(), sourceAddress), scopes == null ? List.of() : scopes);
        }
        return new Caller(new Agent(Agent.Kind.ANONYMOUS, "anonymous", sourceAddress), List.of());
    }
}
