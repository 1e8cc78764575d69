package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.ServerTest;

/**
 * Business-continuity modes (issue 8, item 7): {@code kiroku mode read-only} keeps reads and searches working and
 * refuses every write with an OperationOutcome that says why; {@code isolate} keeps serving this host (the test's
 * client is on it); {@code normal} allows writes again. Every change is audited.
 */
class OperatingModeTest extends ServerTest {

    @Autowired
    JdbcTemplate jdbc;

    @Test
    void readOnlyRefusesWritesAndKeepsReadsUntilNormal() throws Exception {
        String id = "bcp-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(admin.put("Patient/" + id, patient(id, "前")).status()).isEqualTo(201);
        try {
            CliRun noReason = CliRun.kiroku(DATA_DIR, "mode", "read-only");
            assertThat(noReason.code()).isEqualTo(1);
            assertThat(noReason.err()).contains("say why");
            CliRun set = CliRun.kiroku(DATA_DIR, "mode", "read-only", "--reason", "ランサムウェア感染の疑い");
            assertThat(set.code()).as(set.err()).isZero();
            assertThat(set.out()).contains("Mode: read-only (ランサムウェア感染の疑い)");

            // the server follows within a second: scratch patients until it refuses
            Response refused = awaitStatus(() -> admin.post("Patient", patient(null, "新")), 503);
            assertThat(refused.body()).contains("OperationOutcome").contains("read-only mode").contains("ランサムウェア感染の疑い");
            assertThat(admin.put("Patient/" + id, patient(id, "後")).status()).isEqualTo(503);
            assertThat(admin.delete("Patient/" + id).status()).isEqualTo(503);
            assertThat(admin.post("", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
                    + patient(null, "束") + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}").status()).isEqualTo(503);
            Response read = admin.get("Patient/" + id);
            assertThat(read.status()).isEqualTo(200);
            assertThat(read.body()).contains("前").doesNotContain("後");
            assertThat(admin.get("Patient?_id=" + id).body()).contains(id);
            assertThat(admin.post("Patient/_search?_id=" + id, "").status()).as("a search by POST is a read").isEqualTo(200);

            assertThat(CliRun.kiroku(DATA_DIR, "mode", "isolate", "--reason", "ネットワーク遮断中").code()).isZero();
            Thread.sleep(1_200);
            assertThat(admin.get("Patient/" + id).status()).as("this host is still served").isEqualTo(200);
            assertThat(admin.put("Patient/" + id, patient(id, "後")).status()).as("and still read-only").isEqualTo(503);
        } finally {
            assertThat(CliRun.kiroku(DATA_DIR, "mode", "normal").code()).isZero();
        }
        awaitStatus(() -> admin.put("Patient/" + id, patient(id, "後")), 200);
        assertThat(admin.get("Patient/" + id).body()).contains("後");
        assertThat(jdbc.queryForList("SELECT detail FROM audit_log WHERE action = 'mode.set' ORDER BY seq DESC LIMIT 3",
                String.class)).containsExactly("mode=normal", "mode=isolate", "mode=read-only");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM audit_log WHERE action = 'write' AND outcome = 'denied' AND"
                + " detail = 'read-only mode'", Integer.class)).isGreaterThanOrEqualTo(5);
    }

    private static String patient(String id, String family) {
        return "{\"resourceType\":\"Patient\"" + (id == null ? "" : ",\"id\":\"" + id + "\"") + ",\"name\":[{\"family\":\""
                + family + "\"}]}";
    }

    /** The server follows a mode change within a second (each process re-reads it). */
    private static Response awaitStatus(java.util.function.Supplier<Response> call, int status) throws InterruptedException {
        Response r = call.get();
        for (int i = 0; i < 30 && r.status() != status; i++) {
            Thread.sleep(100);
            r = call.get();
        }
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        return r;
    }
}
