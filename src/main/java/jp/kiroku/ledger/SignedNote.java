package jp.kiroku.ledger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;

/**
 * Signed notes (c2sp.org/signed-note) with Ed25519: the envelope of checkpoints, so that tools of the transparency-log
 * ecosystem (Go's golang.org/x/mod/sumdb/note, witnesses) can read and check ours. Signatures from other keys (e.g.
 * witness cosignatures) are ignored, as the spec requires; at least one by the expected key must verify.
 */
final class SignedNote {

    /** Go's reader refuses more; the spec asks verifiers to accept at least 16. */
    static final int MAX_SIGNATURES = 100;

    private static final String SIGNATURE_PREFIX = "\u2014 "; // em dash, space
    private static final byte ED25519 = 0x01;
    private static final int ED25519_SIGNATURE = 64;

    private SignedNote() {
    }

    /** {@code text} (ending in a newline), a blank line and one signature line by {@code keyName}. */
    static String sign(String text, PrivateKey key, String keyName) {
        String problem = textProblem(text);
        if (problem != null) {
            throw new IllegalArgumentException("Cannot sign this note text: " + problem);
        }
        if (!validKeyName(keyName)) {
            throw new IllegalArgumentException("Key name must be non-empty, without spaces or '+': " + keyName);
        }
        byte[] sig;
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(key);
            s.update(text.getBytes(StandardCharsets.UTF_8));
            sig = s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("Cannot sign with this key: " + e.getMessage(), e);
        }
        byte[] blob = ByteBuffer.allocate(4 + sig.length).putInt(keyId(keyName, rawPublicKey(key))).put(sig).array();
        return text + "\n" + SIGNATURE_PREFIX + keyName + " " + Base64.getEncoder().encodeToString(blob) + "\n";
    }

    /** The note's text, once a signature by {@code keyName} with {@code key} has verified. */
    static String open(String note, PublicKey key, String keyName) {
        String problem = note.endsWith("\n") ? controlCharacter(note) : "it does not end with a newline";
        if (problem != null) {
            throw malformed(problem);
        }
        int blank = note.lastIndexOf("\n\n");
        if (blank < 0) {
            throw malformed("no blank line between the text and the signatures");
        }
        String text = note.substring(0, blank + 1);
        String[] lines = note.substring(blank + 2).split("\n", -1); // the last element is the "" after the final \n
        if (lines.length == 1) {
            throw malformed("no signature lines after the blank line");
        }
        if (lines.length - 1 > MAX_SIGNATURES) {
            throw malformed("more than " + MAX_SIGNATURES + " signatures");
        }
        byte[] raw = rawPublicKey(key);
        int wantedId = keyId(keyName, raw);
        List<String> others = new ArrayList<>();
        boolean verified = false;
        for (int i = 0; i < lines.length - 1; i++) {
            String line = lines[i];
            String[] parts = line.startsWith(SIGNATURE_PREFIX) ? line.substring(2).split(" ", -1) : new String[0];
            byte[] blob = parts.length == 2 && validKeyName(parts[0]) ? canonicalBase64(parts[1]) : null;
            if (blob == null || blob.length < 5) {
                throw malformed("signature line " + (i + 1) + " is not '\u2014 <key name> <base64 key ID and"
                        + " signature>': " + line);
            }
            int id = ByteBuffer.wrap(blob).getInt();
            if (!parts[0].equals(keyName) || id != wantedId) {
                others.add(parts[0] + "+" + String.format("%08x", id));
                continue;
            }
            if (!ed25519Verify(key, text, blob)) {
                throw new CheckpointException("Invalid signature for key " + keyName + "+"
                        + String.format("%08x", wantedId) + ": the note was altered, or signed by another key");
            }
            verified = true;
        }
        if (!verified) {
            throw new CheckpointException("Not signed by key " + keyName + "+" + String.format("%08x", wantedId)
                    + (others.isEmpty() ? "" : "; signed only by unknown keys " + String.join(", ", others)));
        }
        return text;
    }

    /** SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4], big-endian, per the signed-note spec. */
    static int keyId(String keyName, byte[] rawPublicKey) {
        MessageDigest md = MerkleHash.sha256();
        md.update(keyName.getBytes(StandardCharsets.UTF_8));
        md.update((byte) '\n');
        md.update(ED25519);
        md.update(rawPublicKey);
        return ByteBuffer.wrap(md.digest()).getInt();
    }

    /** The 32-byte RFC 8032 encoding of an Ed25519 public key. */
    static byte[] rawPublicKey(PublicKey key) {
        SubjectPublicKeyInfo info = SubjectPublicKeyInfo.getInstance(key.getEncoded());
        if (!EdECObjectIdentifiers.id_Ed25519.equals(info.getAlgorithm().getAlgorithm())) {
            throw new IllegalArgumentException("Not an Ed25519 public key: " + key.getAlgorithm());
        }
        return info.getPublicKeyData().getOctets();
    }

    /** The public half of an Ed25519 private key, derived from it (JDK 17 keys do not carry it). */
    static byte[] rawPublicKey(PrivateKey key) {
        AsymmetricKeyParameter p;
        try {
            p = PrivateKeyFactory.createKey(key.getEncoded());
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("Not an Ed25519 private key: " + key.getAlgorithm(), e);
        }
        if (!(p instanceof Ed25519PrivateKeyParameters)) {
            throw new IllegalArgumentException("Not an Ed25519 private key: " + key.getAlgorithm());
        }
        return ((Ed25519PrivateKeyParameters) p).generatePublicKey().getEncoded();
    }

    /** An Ed25519 public key from its 32-byte RFC 8032 encoding. */
    static PublicKey publicKey(byte[] raw) {
        try {
            byte[] spki = new SubjectPublicKeyInfo(new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed25519), raw)
                    .getEncoded();
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("Not an Ed25519 public key", e);
        }
    }

    private static boolean ed25519Verify(PublicKey key, String text, byte[] blob) {
        if (blob.length != 4 + ED25519_SIGNATURE) {
            return false; // checked here: JDK 17 (SunEC) accepts a 65th byte of zero after the signature
        }
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(key);
            s.update(text.getBytes(StandardCharsets.UTF_8));
            return s.verify(blob, 4, blob.length - 4);
        } catch (GeneralSecurityException e) {
            return false; // a signature of the wrong length or encoding does not verify
        }
    }

    /** Standard padded base64, decoded only if it is the one encoding of its bytes (no slack in the last bits). */
    private static byte[] canonicalBase64(String s) {
        try {
            byte[] b = Base64.getDecoder().decode(s);
            return Base64.getEncoder().encodeToString(b).equals(s) ? b : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static boolean validKeyName(String name) {
        if (name == null || name.isEmpty()) {
            return false;
        }
        return name.codePoints().noneMatch(c -> c == '+' || Character.isWhitespace(c) || Character.isSpaceChar(c)
                || c < 0x20);
    }

    private static String textProblem(String text) {
        if (text.isEmpty() || !text.endsWith("\n")) {
            return "it does not end with a newline";
        }
        return controlCharacter(text);
    }

    private static String controlCharacter(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 && c != '\n') {
                return String.format("control character U+%04X at offset %d", (int) c, i);
            }
        }
        return null;
    }

    private static CheckpointException malformed(String problem) {
        return new CheckpointException("Malformed signed note: " + problem);
    }
}
