package jp.kiroku.ledger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;

import jp.kiroku.platform.SecretFiles;

/**
 * The Ed25519 key that signs checkpoints, kept in the keys directory so that it survives restarts and is shared by the
 * processes using that directory: {@value #PRIVATE_FILE} (PKCS#8 PEM, 0600) and {@value #PUBLIC_FILE} (X.509
 * SubjectPublicKeyInfo PEM, 0644), the latter for handing to auditors, who verify checkpoints without the server.
 */
public final class LedgerKeys {

    static final String PRIVATE_FILE = "ledger-signing.key.pem";
    static final String PUBLIC_FILE = "ledger-signing.pub.pem";

    private LedgerKeys() {
    }

    /** The key pair in {@code keysDir}, created on first use; the public file is rewritten if missing. */
    public static KeyPair loadOrCreate(Path keysDir) {
        Path privateFile = keysDir.resolve(PRIVATE_FILE);
        Path publicFile = keysDir.resolve(PUBLIC_FILE);
        try {
            if (!Files.exists(privateFile)) {
                KeyPair fresh = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
                // if another process got there first, its key wins and ours is dropped
                SecretFiles.createIfAbsent(privateFile, pem("PRIVATE KEY", fresh.getPrivate().getEncoded()));
            }
            String privatePem = Files.readString(privateFile, StandardCharsets.US_ASCII);
            PrivateKey privateKey = KeyFactory.getInstance("Ed25519")
                    .generatePrivate(new PKCS8EncodedKeySpec(unpem("PRIVATE KEY", privatePem, privateFile)));
            PublicKey publicKey = SignedNote.publicKey(SignedNote.rawPublicKey(privateKey));
            String publicPem = publicKeyPem(publicKey);
            if (!Files.exists(publicFile)) {
                Path tmp = Files.createTempFile(keysDir, ".tmp-", ".pem");
                Files.writeString(tmp, publicPem, StandardCharsets.US_ASCII);
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
                Files.move(tmp, publicFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } else if (!Arrays.equals(parsePublicKeyPem(Files.readString(publicFile, StandardCharsets.US_ASCII))
                    .getEncoded(), publicKey.getEncoded())) {
                throw new IllegalStateException(publicFile + " does not hold the public key of " + privateFile
                        + ": one of them was replaced; restore the pair, or remove " + publicFile + " to rewrite it");
            }
            return new KeyPair(publicKey, privateKey);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read or write the ledger signing key in " + keysDir, e);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalStateException("The ledger signing key in " + privateFile + " is unusable: "
                    + e.getMessage(), e);
        }
    }

    /** The public key as a PEM "PUBLIC KEY" block (X.509 SubjectPublicKeyInfo), as OpenSSL writes it. */
    public static String publicKeyPem(PublicKey key) {
        return new String(pem("PUBLIC KEY", key.getEncoded()), StandardCharsets.US_ASCII);
    }

    /** An Ed25519 public key from a PEM "PUBLIC KEY" block, e.g. the one an auditor was given. */
    public static PublicKey parsePublicKeyPem(String pem) {
        try {
            PublicKey key = KeyFactory.getInstance("Ed25519")
                    .generatePublic(new X509EncodedKeySpec(unpem("PUBLIC KEY", pem, null)));
            SignedNote.rawPublicKey(key); // refuses keys of other algorithms
            return key;
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("Not an Ed25519 public key: " + e.getMessage(), e);
        }
    }

    private static byte[] pem(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
        return ("-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] unpem(String type, String pem, Path file) {
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        int from = pem.indexOf(begin);
        int to = pem.indexOf(end);
        if (from < 0 || to < from) {
            throw new IllegalArgumentException((file == null ? "The text" : file.toString()) + " has no PEM " + type
                    + " block");
        }
        return Base64.getMimeDecoder().decode(pem.substring(from + begin.length(), to));
    }
}
