package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.crypto.DataKeys;
import jp.kiroku.crypto.KeyStoreMasterKey;
import jp.kiroku.support.ServerTest;

/**
 * {@code kiroku keys rotate-master} (issue 7, item 3): every data key is re-wrapped under a new master key while the
 * server runs, the old master key leaves the key store, the data keys themselves (and so every sealed record) are
 * unchanged, destroyed keys stay destroyed, and a rotation stopped after its first step completes when run again.
 */
class MasterKeyRotationTest extends ServerTest {

    @Autowired
    JdbcTemplate jdbc;

    @Test
    @Tag("EXT-04")
    void everyDataKeyIsReWrappedAndTheOldMasterKeyLeavesTheStore() {
        String id = patient("before rotation");
        String shredded = "patient:shredded-" + System.nanoTime();
        DataKeys before = freshKeys();
        before.keyFor(shredded);
        before.destroy(shredded, "operator:test");
        Map<String, byte[]> keys = dataKeys(before);
        Map<String, byte[]> wrapped = wrappedBytes();
        String oldMaster = store().masterKeyId();

        CliRun run = CliRun.kiroku(DATA_DIR, "keys", "rotate-master");
        assertThat(run.code()).as(run.err()).isZero();
        KeyStoreMasterKey store = store();
        String newMaster = store.masterKeyId();
        assertThat(newMaster).isNotEqualTo(oldMaster);
        assertThat(store.masterKeyIds()).as("only the new master key is left").containsExactly(newMaster);
        assertThat(run.out()).contains("Completed the rotation to master key " + newMaster).contains("removed [" + oldMaster + "]");

        assertThat(jdbc.queryForList("SELECT DISTINCT master_key_id FROM data_key WHERE wrapped IS NOT NULL", String.class))
                .containsExactly(newMaster);
        Map<String, byte[]> rewrapped = wrappedBytes();
        assertThat(rewrapped.keySet()).isEqualTo(wrapped.keySet());
        rewrapped.forEach((owner, bytes) -> assertThat(bytes).as(owner).isNotEqualTo(wrapped.get(owner)));
        assertThat(dataKeys(freshKeys())).as("the same data keys, unwrapped with the new master key")
                .containsOnlyKeys(keys.keySet()).allSatisfy((owner, k) -> assertThat(k).isEqualTo(keys.get(owner)));
        assertThat(jdbc.queryForObject("SELECT wrapped IS NULL FROM data_key WHERE owner = ?", Boolean.class, shredded))
                .as("a destroyed key is not revived").isTrue();

        assertThat(admin.get("Patient/" + id).status()).isEqualTo(200);
        String after = patient("after rotation");
        assertThat(jdbc.queryForObject("SELECT master_key_id FROM data_key WHERE owner = ?", String.class, "patient:" + after))
                .as("the running server wraps new keys with the new master key").isEqualTo(newMaster);
        assertThat(jdbc.queryForList("SELECT detail FROM audit_log WHERE action = 'master-key.rotate' ORDER BY seq DESC LIMIT 1",
                String.class)).singleElement().asString().contains("master=" + newMaster);
    }

    @Test
    @Tag("EXT-04")
    void aRotationStoppedAfterAddingTheNewMasterKeyCompletesWhenRunAgain() {
        patient("resume");
        String added = store().addMasterKey(); // what a rotation killed right after its first step leaves behind
        assertThat(jdbc.queryForObject("SELECT count(*) FROM data_key WHERE wrapped IS NOT NULL AND master_key_id <> ?",
                Long.class, added)).isPositive();

        CliRun run = CliRun.kiroku(DATA_DIR, "keys", "rotate-master");
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("Resumed and completed the rotation to master key " + added);
        assertThat(store().masterKeyIds()).containsExactly(added);
        assertThat(jdbc.queryForList("SELECT DISTINCT master_key_id FROM data_key WHERE wrapped IS NOT NULL", String.class))
                .containsExactly(added);
    }

    @Test
    @Tag("EXT-04")
    void aDataKeyThatDoesNotUnwrapIsNamedAndTheOldMasterKeyIsKept(@org.junit.jupiter.api.io.TempDir java.nio.file.Path other) {
        String foreign = "patient:foreign-" + System.nanoTime();
        var otherStore = KeyStoreMasterKey.open(other, "another installation's passphrase", null);
        jdbc.update("INSERT INTO data_key (owner, key_id, wrapped, master_key_id, created_at) VALUES (?, gen_random_uuid(), ?,"
                + " ?, now())", foreign, otherStore.wrap(new byte[32], foreign), store().masterKeyId());
        try {
            String oldMaster = store().masterKeyId();
            CliRun run = CliRun.kiroku(DATA_DIR, "keys", "rotate-master");
            assertThat(run.code()).isEqualTo(1);
            assertThat(run.err()).contains("1 data keys do not unwrap").contains(foreign);
            assertThat(store().masterKeyIds()).as("the old master key is kept").contains(oldMaster).hasSize(2);
        } finally {
            jdbc.update("DELETE FROM data_key WHERE owner = ?", foreign);
        }
        CliRun again = CliRun.kiroku(DATA_DIR, "keys", "rotate-master");
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(store().masterKeyIds()).hasSize(1);
    }

    private KeyStoreMasterKey store() {
        return KeyStoreMasterKey.open(DATA_DIR.resolve("keys"), null, null);
    }

    private DataKeys freshKeys() {
        return new DataKeys(jdbc, store(), Clock.systemUTC(), Duration.ZERO);
    }

    private Map<String, byte[]> dataKeys(DataKeys keys) {
        Map<String, byte[]> out = new HashMap<>();
        for (String owner : owners()) {
            out.put(owner, keys.keyFor(owner));
        }
        return out;
    }

    private Map<String, byte[]> wrappedBytes() {
        Map<String, byte[]> out = new HashMap<>();
        jdbc.query("SELECT owner, wrapped FROM data_key WHERE wrapped IS NOT NULL", rs -> {
            out.put(rs.getString(1), rs.getBytes(2));
        });
        return out;
    }

    private List<String> owners() {
        return jdbc.queryForList("SELECT owner FROM data_key WHERE wrapped IS NOT NULL", String.class);
    }

    private String patient(String family) {
        return admin.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}")
                .as(org.hl7.fhir.r4.model.Patient.class).getIdElement().getIdPart();
    }
}
