package jp.kiroku.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** AES-256-GCM envelopes bound to their row, and the master key store behind its passphrase (issue 7, foundation). */
class EnvelopeAndMasterKeyTest {

    @TempDir
    Path keys;

    private static final byte[] KEY = new byte[32];

    @Test
    void aSealedValueOpensOnlyWithItsKeyAndItsRow() {
        byte[] plain = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"山田\"}]}".getBytes(StandardCharsets.UTF_8);
        byte[] sealed = Envelope.seal(KEY, plain, "Patient/1/_history/1");
        assertThat(new String(sealed, StandardCharsets.ISO_8859_1)).doesNotContain("Patient").doesNotContain("family");
        assertThat(Envelope.open(KEY, sealed, "Patient/1/_history/1")).isEqualTo(plain);
        assertThat(Envelope.seal(KEY, plain, "Patient/1/_history/1")).as("a fresh nonce each time").isNotEqualTo(sealed);
        assertThatThrownBy(() -> Envelope.open(KEY, sealed, "Patient/2/_history/1")).as("moved to another row")
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("another row");
        byte[] other = new byte[32];
        other[0] = 1;
        assertThatThrownBy(() -> Envelope.open(other, sealed, "Patient/1/_history/1")).isInstanceOf(IllegalStateException.class);
        byte[] altered = sealed.clone();
        altered[20] ^= 1;
        assertThatThrownBy(() -> Envelope.open(KEY, altered, "Patient/1/_history/1")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void theMasterKeyIsTheSameAfterARestartAndAWrongPassphraseStopsTheStart() {
        KeyStoreMasterKey first = KeyStoreMasterKey.open(keys, "correct horse battery staple", null);
        assertThat(first.trial()).isFalse();
        byte[] wrapped = first.wrap(KEY, "patient:1");
        KeyStoreMasterKey again = KeyStoreMasterKey.open(keys, "correct horse battery staple", null);
        assertThat(again.unwrap(wrapped, "patient:1", "kiroku-master-1")).isEqualTo(KEY);
        assertThatThrownBy(() -> again.unwrap(wrapped, "patient:2", "kiroku-master-1")).as("a wrapped key belongs to its owner")
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> KeyStoreMasterKey.open(keys, "not the passphrase!", null))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("wrong passphrase")
                .hasMessageContaining("does not start");
        assertThatThrownBy(() -> KeyStoreMasterKey.open(keys.resolve("other"), "short", null))
                .hasMessageContaining("at least 12 characters");
    }

    @Test
    void aPassphraseFileWorksAndATrialWritesItsOwnBesideTheStore() throws Exception {
        Path file = keys.resolve("passphrase.txt");
        Files.writeString(file, "from a file, not the environment\n");
        KeyStoreMasterKey fromFile = KeyStoreMasterKey.open(keys.resolve("a"), null, file);
        assertThat(fromFile.unwrap(fromFile.wrap(KEY, "facility:home"), "facility:home", "kiroku-master-1")).isEqualTo(KEY);

        Path trialDir = keys.resolve("trial");
        KeyStoreMasterKey trial = KeyStoreMasterKey.open(trialDir, null, null);
        assertThat(trial.trial()).isTrue();
        Path written = trialDir.resolve(KeyStoreMasterKey.TRIAL_PASSPHRASE);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(written))).isEqualTo("rw-------");
        byte[] wrapped = trial.wrap(KEY, "audit");
        assertThat(KeyStoreMasterKey.open(trialDir, null, null).unwrap(wrapped, "audit", "kiroku-master-1")).isEqualTo(KEY);
        assertThat(KeyStoreMasterKey.open(trialDir, Files.readString(written), null).unwrap(wrapped, "audit", "kiroku-master-1"))
                .as("the trial passphrase is an ordinary passphrase").isEqualTo(KEY);
    }
}
