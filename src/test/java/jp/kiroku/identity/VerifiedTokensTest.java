package jp.kiroku.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;
import org.springframework.security.oauth2.jwt.JwtException;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.jwt.NimbusJwtEncoder;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;

/** Verified tokens are remembered only while unexpired; bad tokens are never remembered. Real RSA keys throughout. */
class VerifiedTokensTest {

    private static RSAKey key;
    private static NimbusJwtEncoder encoder;

    @BeforeAll
    static void keys() throws Exception {
        key = new RSAKeyGenerator(2048).keyID("test").generate();
        encoder = new NimbusJwtEncoder(new ImmutableJWKSet<>(new JWKSet(key)));
    }

    private static String token(Instant expires) {
        JwtClaimsSet claims = JwtClaimsSet.builder().subject("client-a").issuedAt(expires.minusSeconds(300))
                .expiresAt(expires).claim("scope", java.util.List.of("system/*.read")).build();
        return encoder.encode(JwtEncoderParameters.from(claims)).getTokenValue();
    }

    @Test
    void aTokenIsVerifiedOnceWhileItIsValidAndAgainOnceItExpires() throws Exception {
        AtomicInteger verifications = new AtomicInteger();
        JwtDecoder real = NimbusJwtDecoder.withPublicKey(key.toRSAPublicKey()).build();
        JwtDecoder counting = t -> {
            verifications.incrementAndGet();
            return real.decode(t);
        };
        Instant expires = Instant.now().plusSeconds(300);
        String token = token(expires);
        VerifiedTokens now = new VerifiedTokens(counting, Clock.systemUTC(), Duration.ofMinutes(5));
        assertThat(now.decode(token).getSubject()).isEqualTo("client-a");
        assertThat(now.decode(token).getSubject()).isEqualTo("client-a");
        assertThat(verifications).hasValue(1);
        // the same cache seen from a clock past the expiry: no longer taken from memory
        VerifiedTokens later = new VerifiedTokens(counting, Clock.fixed(expires.plusSeconds(1), ZoneOffset.UTC),
                Duration.ofMinutes(5));
        later.decode(token);
        later.decode(token);
        assertThat(verifications).hasValue(3);
    }

    @Test
    void aTamperedOrExpiredTokenIsRefusedEveryTime() throws Exception {
        JwtDecoder real = NimbusJwtDecoder.withPublicKey(key.toRSAPublicKey()).build();
        VerifiedTokens tokens = new VerifiedTokens(real, Clock.systemUTC(), Duration.ofMinutes(5));
        String good = token(Instant.now().plusSeconds(300));
        String[] parts = good.split("\\.");
        String forged = parts[0] + "." + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                "{\"sub\":\"client-b\",\"exp\":9999999999}".getBytes()) + "." + parts[2];
        assertThatThrownBy(() -> tokens.decode(forged)).isInstanceOf(JwtException.class);
        assertThatThrownBy(() -> tokens.decode(forged)).isInstanceOf(JwtException.class);
        String expired = token(Instant.now().minusSeconds(3600));
        assertThatThrownBy(() -> tokens.decode(expired)).isInstanceOf(JwtException.class);
        assertThat(tokens.decode(good).getSubject()).isEqualTo("client-a");
    }
}
