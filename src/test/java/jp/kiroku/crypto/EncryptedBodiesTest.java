package jp.kiroku.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.support.ServerTest;

/**
 * Resource bodies are stored sealed under their patient's data key (issue 7, item 1): a marker written through the API
 * reads back, is not in the stored rows, and a sealed body moved to another row does not open there. (The search
 * index still holds plain values until the blind-index step; this test looks at the record store only.)
 */
class EncryptedBodiesTest extends ServerTest {

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    jp.kiroku.store.RecordStore store;
    @Autowired
    org.springframework.transaction.PlatformTransactionManager transactions;

    @Test
    void aMarkerIsReadableThroughTheApiAndNowhereInTheStoredVersions() {
        String marker = "MARKER" + UUID.randomUUID().toString().replace("-", "");
        String id = "enc-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(admin.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"text\":\""
                + marker + "\"}]}").status()).isEqualTo(201);
        assertThat(admin.get("Patient/" + id).body()).contains(marker);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM resource_version WHERE position(convert_to(?, 'UTF8') in body) > 0",
                Integer.class, marker)).isZero();
        assertThat(jdbc.queryForObject("SELECT key_ref FROM resource_version WHERE res_type = 'Patient' AND res_id = ?",
                String.class, id)).isEqualTo(DataKeys.patient(id));
        // the same content hash as before encryption: over the plain bytes, which the API returns unchanged
        assertThat(jdbc.queryForObject("SELECT encode(content_hash, 'hex') FROM resource_version WHERE res_type = 'Patient'"
                + " AND res_id = ?", String.class, id)).isEqualTo(sha256Hex(admin.get("Patient/" + id).body()));
    }

    @Test
    void aSealedBodyMovedToAnotherRowDoesNotOpenThere() {
        String a = "enc-a-" + UUID.randomUUID().toString().substring(0, 8);
        String b = "enc-b-" + UUID.randomUUID().toString().substring(0, 8);
        for (String id : java.util.List.of(a, b)) {
            assertThat(admin.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"}").status())
                    .isEqualTo(201);
        }
        // within a transaction that is rolled back: copy a's sealed version 1 (and its key reference) into b's row
        jp.kiroku.store.ResourceKey keyA = new jp.kiroku.store.ResourceKey("Patient", a);
        jp.kiroku.store.ResourceKey keyB = new jp.kiroku.store.ResourceKey("Patient", b);
        Throwable[] outcome = new Throwable[1];
        withOwnerRights(() -> new org.springframework.transaction.support.TransactionTemplate(transactions).executeWithoutResult(t -> {
            jdbc.execute("ALTER TABLE resource_version DISABLE TRIGGER USER");
            jdbc.update("UPDATE resource_version SET body = (SELECT body FROM resource_version WHERE res_type = 'Patient'"
                    + " AND res_id = ? AND version_id = 1), key_ref = ? WHERE res_type = 'Patient' AND res_id = ?",
                    a, DataKeys.patient(a), b);
            assertThat(store.current(keyA)).isPresent();
            try {
                store.current(keyB);
            } catch (RuntimeException e) {
                outcome[0] = e;
            }
            t.setRollbackOnly();
        }));
        assertThat(outcome[0]).as("bound to its own row").isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("another row");
        assertThat(admin.get("Patient/" + b).status()).as("rolled back: intact again").isEqualTo(200);
    }

    private static String sha256Hex(String s) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
