package jp.kiroku.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.support.ServerTest;

/** Per-patient data keys in PostgreSQL, wrapped by the master key; destroying one is final (crypto-shredding). */
class DataKeysTest extends ServerTest {

    @Autowired
    JdbcTemplate jdbc;

    @TempDir
    Path keysDir;

    @Test
    void eachPatientHasOneKeyAndADestroyedKeyLeavesNothingToDecryptWith() {
        DataKeys keys = new DataKeys(jdbc, KeyStoreMasterKey.open(keysDir, "a passphrase for tests", null),
                Clock.systemUTC(), Duration.ofMinutes(5));
        String a = DataKeys.patient("dk-" + UUID.randomUUID());
        String b = DataKeys.patient("dk-" + UUID.randomUUID());
        try {
            keysOf(keys, a, b);
        } finally { // wrapped by this test's own key store: not rows the installation's master key could rotate
            jdbc.update("DELETE FROM data_key WHERE owner IN (?, ?)", a, b);
        }
    }

    private void keysOf(DataKeys keys, String a, String b) {
        byte[] ka = keys.keyFor(a);
        assertThat(ka).hasSize(32);
        assertThat(keys.keyFor(a)).isEqualTo(ka);
        assertThat(keys.keyFor(b)).isNotEqualTo(ka);
        byte[] wrapped = jdbc.queryForObject("SELECT wrapped FROM data_key WHERE owner = ?", byte[].class, a);
        assertThat(java.util.HexFormat.of().formatHex(wrapped)).as("only wrapped in the database")
                .doesNotContain(java.util.HexFormat.of().formatHex(ka));
        // another process (a new DataKeys with the same master key) finds the same key
        DataKeys restarted = new DataKeys(jdbc, KeyStoreMasterKey.open(keysDir, "a passphrase for tests", null),
                Clock.systemUTC(), Duration.ZERO);
        assertThat(restarted.keyFor(a)).isEqualTo(ka);

        byte[] sealed = Envelope.seal(ka, "山田 花子".getBytes(StandardCharsets.UTF_8), "Patient/x/_history/1");
        assertThat(keys.destroy(a, "operator:test")).isTrue();
        assertThat(jdbc.queryForObject("SELECT wrapped FROM data_key WHERE owner = ?", byte[].class, a)).isNull();
        assertThat(jdbc.queryForObject("SELECT destroyed_at IS NOT NULL FROM data_key WHERE owner = ?", Boolean.class, a))
                .as("kept as the disposal register").isTrue();
        assertThatThrownBy(() -> keys.keyFor(a)).as("forgotten at once where it was destroyed").hasMessageContaining("destroyed");
        assertThatThrownBy(() -> restarted.keyFor(a)).as("not re-created: a destroyed key is final").hasMessageContaining("destroyed");
        assertThatThrownBy(() -> Envelope.open(restarted.keyFor(b), sealed, "Patient/x/_history/1"))
                .isInstanceOf(IllegalStateException.class);
        assertThat(keys.destroy(a, "operator:test")).isFalse();
    }

    @Test
    @org.junit.jupiter.api.Tag("DISP-02")
    void aKeyThatARestoreBringsBackAfterItsDisposalIsDestroyedAgainAtStart() {
        KeyStoreMasterKey master = KeyStoreMasterKey.open(keysDir, "a passphrase for tests", null);
        DataKeys keys = new DataKeys(jdbc, master, Clock.systemUTC(), Duration.ZERO);
        String disposed = DataKeys.patient("dk-" + UUID.randomUUID());
        String kept = DataKeys.patient("dk-" + UUID.randomUUID());
        try {
            keys.keyFor(disposed);
            keys.keyFor(kept);
            byte[] wrapped = jdbc.queryForObject("SELECT wrapped FROM data_key WHERE owner = ?", byte[].class, disposed);
            assertThat(keys.destroy(disposed, "operator:test")).isTrue();
            // a database restored from a backup made before the disposal holds the wrapped key again
            jdbc.update("UPDATE data_key SET wrapped = ?, destroyed_at = NULL, destroyed_by = NULL WHERE owner = ?", wrapped,
                    disposed);
            DataKeys restarted = new DataKeys(jdbc, KeyStoreMasterKey.open(keysDir, "a passphrase for tests", null),
                    Clock.systemUTC(), Duration.ZERO);
            assertThat(jdbc.queryForObject("SELECT wrapped IS NULL FROM data_key WHERE owner = ?", Boolean.class, disposed))
                    .as("destroyed again at start, from the register kept with the master key").isTrue();
            assertThatThrownBy(() -> restarted.keyFor(disposed)).hasMessageContaining("destroyed");
            assertThat(restarted.keyFor(kept)).as("a key never destroyed is left alone").hasSize(32);
        } finally {
            jdbc.update("DELETE FROM data_key WHERE owner IN (?, ?)", disposed, kept);
        }
    }
}
