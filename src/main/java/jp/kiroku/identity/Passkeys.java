package jp.kiroku.identity;

import java.io.Serializable;
import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.annotation.Transactional;

import com.webauthn4j.WebAuthnManager;
import com.webauthn4j.converter.AttestedCredentialDataConverter;
import com.webauthn4j.converter.util.ObjectConverter;
import com.webauthn4j.credential.CredentialRecordImpl;
import com.webauthn4j.data.AuthenticationParameters;
import com.webauthn4j.data.AuthenticationRequest;
import com.webauthn4j.data.AuthenticatorTransport;
import com.webauthn4j.data.PublicKeyCredentialParameters;
import com.webauthn4j.data.PublicKeyCredentialType;
import com.webauthn4j.data.RegistrationData;
import com.webauthn4j.data.RegistrationParameters;
import com.webauthn4j.data.RegistrationRequest;
import com.webauthn4j.data.attestation.authenticator.AttestedCredentialData;
import com.webauthn4j.data.attestation.statement.COSEAlgorithmIdentifier;
import com.webauthn4j.data.attestation.statement.NoneAttestationStatement;
import com.webauthn4j.data.client.Origin;
import com.webauthn4j.data.client.challenge.DefaultChallenge;
import com.webauthn4j.server.ServerProperty;
import com.webauthn4j.verifier.exception.VerificationException;

import jakarta.servlet.http.HttpServletRequest;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.platform.KirokuProperties;

/**
 * WebAuthn passkeys as the possession factor (AUTH-07): a person registers security keys or platform authenticators
 * from a signed-in session and may then give one instead of a TOTP code at login. Registration and assertion are
 * verified by webauthn4j against a one-time challenge, this server's origin and relying-party id; a signature
 * counter that does not move forward (a cloned key) is refused. User presence is required, user verification is
 * not: the password is the knowledge factor.
 */
@Component
class Passkeys {

    /** A one-time challenge with the relying party and origin it was issued for (kept in the person's session). */
    record Challenge(byte[] value, String rpId, String origin) implements Serializable {
        String base64() {
            return b64(value);
        }
    }

    /** A registered passkey as its owner sees it. */
    record Registered(String id, String name, Instant createdAt, Instant lastUsedAt) {
    }

    private static final List<PublicKeyCredentialParameters> ALGORITHMS = List.of(
            new PublicKeyCredentialParameters(PublicKeyCredentialType.PUBLIC_KEY, COSEAlgorithmIdentifier.ES256),
            new PublicKeyCredentialParameters(PublicKeyCredentialType.PUBLIC_KEY, COSEAlgorithmIdentifier.RS256));

    private final JdbcTemplate jdbc;
    private final AuditTrail audit;
    private final Clock clock;
    private final KirokuProperties props;
    private final SecureRandom random = new SecureRandom();
    private final WebAuthnManager webauthn;
    private final AttestedCredentialDataConverter credentials;

    Passkeys(JdbcTemplate jdbc, AuditTrail audit, Clock clock, KirokuProperties props) {
        this.jdbc = jdbc;
        this.audit = audit;
        this.clock = clock;
        this.props = props;
        ObjectConverter converter = new ObjectConverter();
        this.webauthn = WebAuthnManager.createNonStrictWebAuthnManager(converter);
        this.credentials = new AttestedCredentialDataConverter(converter);
    }

    /**
     * A new challenge for this request's relying party: {@code kiroku.auth.passkey-rp-id} and
     * {@code kiroku.auth.passkey-origin} when set (behind a proxy), else the host and origin the browser used.
     */
    Challenge challenge(HttpServletRequest req) {
        byte[] value = new byte[32];
        random.nextBytes(value);
        String rpId = props.getAuth().getPasskeyRpId();
        String origin = props.getAuth().getPasskeyOrigin();
        boolean defaultPort = ("http".equals(req.getScheme()) && req.getServerPort() == 80)
                || ("https".equals(req.getScheme()) && req.getServerPort() == 443);
        return new Challenge(value, rpId == null || rpId.isBlank() ? req.getServerName() : rpId,
                origin == null || origin.isBlank()
                        ? req.getScheme() + "://" + req.getServerName() + (defaultPort ? "" : ":" + req.getServerPort())
                        : origin);
    }

    List<Registered> list(Account a) {
        return jdbc.query("SELECT credential_id, name, created_at, last_used_at FROM passkey WHERE account_id = ?"
                + " ORDER BY created_at", (rs, i) -> new Registered(b64(rs.getBytes(1)), rs.getString(2),
                        rs.getTimestamp(3).toInstant(), rs.getTimestamp(4) == null ? null : rs.getTimestamp(4).toInstant()),
                a.id());
    }

    boolean has(Account a) {
        return Boolean.TRUE.equals(jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM passkey WHERE account_id = ?)",
                Boolean.class, a.id()));
    }

    /** The ids of the person's passkeys, for the browser's allowCredentials and excludeCredentials. */
    List<String> ids(Account a) {
        return list(a).stream().map(Registered::id).toList();
    }

    /** Verifies a new credential against the challenge and stores it; a refusal says why in words. */
    @Transactional
    void register(Account a, Challenge c, byte[] clientDataJSON, byte[] attestationObject, Set<String> transports,
                  String name, Agent by) {
        String label = name == null || name.isBlank() ? "passkey" : name.strip();
        if (label.length() > 64) {
            throw new IllegalArgumentException("a passkey's name has at most 64 characters");
        }
        RegistrationData data;
        try {
            data = webauthn.verify(new RegistrationRequest(attestationObject, clientDataJSON, transports),
                    new RegistrationParameters(server(c), ALGORITHMS, false, true));
        } catch (VerificationException | com.webauthn4j.converter.exception.DataConversionException
                 | IllegalArgumentException e) {
            audit.record(AuditRecord.of(by, "passkey.register", AuditRecord.Outcome.FAILED)
                    .withDetail("account=" + a.username() + " " + e.getClass().getSimpleName()));
            throw new IllegalArgumentException("the authenticator's answer could not be verified");
        }
        AttestedCredentialData credential = data.getAttestationObject().getAuthenticatorData().getAttestedCredentialData();
        Integer taken = jdbc.queryForObject("SELECT count(*) FROM passkey WHERE credential_id = ?", Integer.class,
                credential.getCredentialId());
        if (taken != null && taken > 0) {
            throw new IllegalArgumentException("this authenticator is registered already");
        }
        jdbc.update("INSERT INTO passkey (credential_id, account_id, name, credential, sign_count, transports, created_at)"
                + " VALUES (?,?,?,?,?,?,?)", ps -> {
                    ps.setBytes(1, credential.getCredentialId());
                    ps.setObject(2, a.id());
                    ps.setString(3, label);
                    ps.setBytes(4, credentials.convert(credential));
                    ps.setLong(5, data.getAttestationObject().getAuthenticatorData().getSignCount());
                    ps.setArray(6, ps.getConnection().createArrayOf("text", transports == null ? new String[0]
                            : transports.toArray()));
                    ps.setTimestamp(7, Timestamp.from(clock.instant()));
                });
        audit.record(AuditRecord.of(by, "passkey.register", AuditRecord.Outcome.SUCCESS).withDetail("account=" + a.username()));
    }

    /**
     * Whether the assertion proves possession of one of the person's passkeys for this challenge; on success the
     * counter moves to the authenticator's. The caller audits and throttles.
     */
    @Transactional
    boolean verify(Account a, Challenge c, byte[] credentialId, byte[] clientDataJSON, byte[] authenticatorData,
                   byte[] signature, byte[] userHandle) {
        var stored = jdbc.query("SELECT credential, sign_count FROM passkey WHERE credential_id = ? AND account_id = ?"
                + " FOR UPDATE", (rs, i) -> new Object[] {rs.getBytes(1), rs.getLong(2)}, credentialId, a.id());
        if (stored.isEmpty()) {
            return false;
        }
        AttestedCredentialData credential = credentials.convert((byte[]) stored.get(0)[0]);
        long counter = (Long) stored.get(0)[1];
        var record = new CredentialRecordImpl(new NoneAttestationStatement(), null, null, null, counter, credential,
                null, null, null, new HashSet<AuthenticatorTransport>());
        try {
            var data = webauthn.verify(new AuthenticationRequest(credentialId, userHandle, authenticatorData,
                    clientDataJSON, null, signature), new AuthenticationParameters(server(c), record,
                    List.of(credentialId), false, true));
            long now = data.getAuthenticatorData().getSignCount();
            jdbc.update("UPDATE passkey SET sign_count = ?, last_used_at = ? WHERE credential_id = ?", now,
                    Timestamp.from(clock.instant()), credentialId);
            return true;
        } catch (VerificationException | com.webauthn4j.converter.exception.DataConversionException
                 | IllegalArgumentException e) {
            return false;
        }
    }

    /** Removes one of the person's passkeys. */
    @Transactional
    boolean remove(Account a, byte[] credentialId, Agent by) {
        boolean removed = jdbc.update("DELETE FROM passkey WHERE credential_id = ? AND account_id = ?", credentialId,
                a.id()) == 1;
        if (removed) {
            audit.record(AuditRecord.of(by, "passkey.remove", AuditRecord.Outcome.SUCCESS).withDetail("account=" + a.username()));
        }
        return removed;
    }

    private static ServerProperty server(Challenge c) {
        return ServerProperty.builder().origin(new Origin(c.origin())).rpId(c.rpId())
                .challenge(new DefaultChallenge(c.value())).build();
    }

    static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** Base64url (with or without padding) from the browser; malformed input is a refusal, not an error page. */
    static byte[] bytes(String b64url) {
        try {
            return b64url == null ? new byte[0] : Base64.getUrlDecoder().decode(b64url.strip().replace("=", ""));
        } catch (IllegalArgumentException e) {
            return new byte[0];
        }
    }
}
