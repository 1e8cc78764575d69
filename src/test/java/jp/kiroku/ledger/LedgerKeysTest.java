package jp.kiroku.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Instant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LedgerKeysTest {

    static final byte[] ROOT = Rfc6962.sha256("root".getBytes(StandardCharsets.US_ASCII));

    @Test
    void keysAreCreatedOwnerOnlyAndReloadedUnchanged(@TempDir Path dir) throws Exception {
        Path keys = dir.resolve("keys");
        KeyPair created = LedgerKeys.loadOrCreate(keys);
        Path privateFile = keys.resolve("ledger-signing.key.pem");
        Path publicFile = keys.resolve("ledger-signing.pub.pem");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(privateFile))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(publicFile))).isEqualTo("rw-r--r--");
        assertThat(Files.readString(privateFile)).startsWith("-----BEGIN PRIVATE KEY-----\n")
                .endsWith("-----END PRIVATE KEY-----\n");
        assertThat(Files.readString(publicFile)).isEqualTo(LedgerKeys.publicKeyPem(created.getPublic()))
                .startsWith("-----BEGIN PUBLIC KEY-----\n").endsWith("-----END PUBLIC KEY-----\n");

        KeyPair reloaded = LedgerKeys.loadOrCreate(keys);
        assertThat(reloaded.getPrivate().getEncoded()).isEqualTo(created.getPrivate().getEncoded());
        assertThat(reloaded.getPublic().getEncoded()).isEqualTo(created.getPublic().getEncoded());

        // what the reloaded key signs, an auditor verifies with nothing but the public PEM file
        String note = new Checkpoint("kiroku/record", 3, ROOT, Instant.EPOCH).sign(reloaded.getPrivate(),
                "kiroku/record");
        Checkpoint parsed = Checkpoint.parse(note, LedgerKeys.parsePublicKeyPem(Files.readString(publicFile)),
                "kiroku/record");
        assertThat(parsed.size()).isEqualTo(3);
    }

    @Test
    void theStoredPublicKeyIsThatOfTheStoredPrivateKey(@TempDir Path dir) throws Exception {
        LedgerKeys.loadOrCreate(dir);
        Path publicFile = dir.resolve("ledger-signing.pub.pem");
        Files.writeString(publicFile, LedgerKeys.publicKeyPem(
                KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic()));
        assertThatThrownBy(() -> LedgerKeys.loadOrCreate(dir)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("does not hold the public key of");

        Files.delete(publicFile);
        KeyPair keys = LedgerKeys.loadOrCreate(dir);
        assertThat(Files.readString(publicFile)).isEqualTo(LedgerKeys.publicKeyPem(keys.getPublic()));
    }

    @Test
    void unusableKeyFilesAndPemsAreRefused(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("ledger-signing.key.pem"), "not a key\n");
        assertThatThrownBy(() -> LedgerKeys.loadOrCreate(dir)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is unusable").hasMessageContaining("has no PEM PRIVATE KEY block");
        assertThatThrownBy(() -> LedgerKeys.parsePublicKeyPem("-----BEGIN PUBLIC KEY-----\nAAAA\n"))
                .isInstanceOf(IllegalArgumentException.class);
        String ec = LedgerKeys.publicKeyPem(KeyPairGenerator.getInstance("EC").generateKeyPair().getPublic());
        assertThatThrownBy(() -> LedgerKeys.parsePublicKeyPem(ec)).isInstanceOf(IllegalArgumentException.class);
    }
}
