package jp.kiroku.identity;

import java.time.Clock;
import java.time.Duration;

import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtException;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

/**
 * Remembers tokens whose signature and claims were verified, until they expire: a client sends the same token with
 * every request for its lifetime, and verifying it each time (RS256, 3,072-bit) was ~9 % of a search's JVM CPU.
 * A remembered token is used only while unexpired; whether its client is still enabled is checked per request
 * elsewhere ({@link ClientRegistry}), so disabling a client still takes effect within seconds.
 */
final class VerifiedTokens implements JwtDecoder {

    private final JwtDecoder verifier;
    private final Clock clock;
    private final Cache<String, Jwt> verified;

    VerifiedTokens(JwtDecoder verifier, Clock clock, Duration tokenLifetime) {
        this.verifier = verifier;
        this.clock = clock;
        this.verified = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(tokenLifetime).build();
    }

    @Override
    public Jwt decode(String token) throws JwtException {
        Jwt known = verified.getIfPresent(token);
        if (known != null && known.getExpiresAt() != null && clock.instant().isBefore(known.getExpiresAt())) {
            return known;
        }
        Jwt jwt = verifier.decode(token); // throws for a bad signature, an expired token or wrong claims
        verified.put(token, jwt);
        return jwt;
    }
}
