package jp.kiroku.identity;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.UUID;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;

import jp.kiroku.platform.SecretFiles;

/**
 * Token signing keys, kept in {@code <keys-dir>/token-signing.jwks.json} (0600) so that tokens survive a restart and
 * several server instances sharing the keys directory sign and verify with the same keys.
 */
final class SigningKeys {

    private SigningKeys() {
    }

    static JWKSet loadOrCreate(Path keysDir) {
        Path file = keysDir.resolve("token-signing.jwks.json");
        try {
            if (!java.nio.file.Files.exists(file)) { // RSA key generation takes a second or more: only when needed
                JWKSet fresh = new JWKSet(new RSAKeyGenerator(3072).keyUse(KeyUse.SIGNATURE)
                        .keyID(UUID.randomUUID().toString()).generate());
                SecretFiles.createIfAbsent(file, fresh.toString(false).getBytes(StandardCharsets.UTF_8));
            }
            return JWKSet.parse(java.nio.file.Files.readString(file, StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("Cannot read " + file, e);
        } catch (JOSEException | ParseException e) {
            throw new IllegalStateException("Token signing keys in " + file + " are unusable: " + e.getMessage(), e);
        }
    }
}
