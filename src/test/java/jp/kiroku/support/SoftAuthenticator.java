package jp.kiroku.support;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;

import com.webauthn4j.converter.AttestationObjectConverter;
import com.webauthn4j.converter.util.ObjectConverter;
import com.webauthn4j.data.attestation.AttestationObject;
import com.webauthn4j.data.attestation.authenticator.AAGUID;
import com.webauthn4j.data.attestation.authenticator.AttestedCredentialData;
import com.webauthn4j.data.attestation.authenticator.AuthenticatorData;
import com.webauthn4j.data.attestation.authenticator.EC2COSEKey;
import com.webauthn4j.data.attestation.statement.COSEAlgorithmIdentifier;
import com.webauthn4j.data.attestation.statement.NoneAttestationStatement;
import com.webauthn4j.data.extension.authenticator.RegistrationExtensionAuthenticatorOutput;

/**
 * A software WebAuthn authenticator for tests: a real P-256 key pair, "none" attestation encoded with webauthn4j's
 * own converters, and ES256 assertion signatures over authenticatorData || SHA-256(clientDataJSON), as a security key
 * would make them. Values are base64url, as the browser page sends them.
 */
public final class SoftAuthenticator {

    public record Registration(String clientDataJSON, String attestationObject) {
    }

    public record Assertion(String credentialId, String clientDataJSON, String authenticatorData, String signature) {
    }

    private final KeyPair keys;
    private final byte[] credentialId = new byte[16];

    public SoftAuthenticator() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            keys = g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        new SecureRandom().nextBytes(credentialId);
    }

    public String credentialId() {
        return b64(credentialId);
    }

    /** The answer to navigator.credentials.create for this relying party, origin and challenge. */
    public Registration register(String rpId, String origin, String challenge) {
        byte[] clientData = clientData("webauthn.create", challenge, origin);
        AttestedCredentialData credential = new AttestedCredentialData(AAGUID.ZERO, credentialId,
                EC2COSEKey.create((ECPublicKey) keys.getPublic(), COSEAlgorithmIdentifier.ES256));
        AuthenticatorData<RegistrationExtensionAuthenticatorOutput> data = new AuthenticatorData<>(sha256(rpId),
                (byte) (AuthenticatorData.BIT_UP | AuthenticatorData.BIT_AT), 0, credential);
        byte[] attestation = new AttestationObjectConverter(new ObjectConverter())
                .convertToBytes(new AttestationObject(data, new NoneAttestationStatement()));
        return new Registration(b64(clientData), b64(attestation));
    }

    /** The answer to navigator.credentials.get: user present, with this signature counter. */
    public Assertion sign(String rpId, String origin, String challenge, long counter) {
        byte[] clientData = clientData("webauthn.get", challenge, origin);
        byte[] data = ByteBuffer.allocate(37).put(sha256(rpId)).put(AuthenticatorData.BIT_UP).putInt((int) counter).array();
        try {
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initSign(keys.getPrivate());
            s.update(data);
            s.update(sha256(clientData));
            return new Assertion(b64(credentialId), b64(clientData), b64(data), b64(s.sign()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] clientData(String type, String challenge, String origin) {
        return ("{\"type\":\"" + type + "\",\"challenge\":\"" + challenge + "\",\"origin\":\"" + origin
                + "\",\"crossOrigin\":false}").getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] sha256(String s) {
        return sha256(s.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String b64(byte[] b) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
