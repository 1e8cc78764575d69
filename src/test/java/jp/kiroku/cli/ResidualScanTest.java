package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.identity.Accounts;
import jp.kiroku.retention.Disposals;
import jp.kiroku.support.ServerTest;
import jp.kiroku.support.TestDatabase;

/**
 * {@code kiroku residual-scan} (DISP-02): a patient's name, written through the API, is in the database's files only
 * as the search index's keyed hashes — which the scan finds while the patient exists (so it can see them), still finds
 * right after the disposal (the removed rows' bytes stay in the files and the WAL until they are rewritten), and no
 * longer finds once the tables and the WAL are compacted.
 */
@Tag("DISP-02")
class ResidualScanTest extends ServerTest {

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    Disposals disposals;
    @Autowired
    Accounts accounts;
    @Autowired
    jp.kiroku.retention.Residuals residuals;

    @Test
    void theScanFindsThePatientsIndexHashesUntilTheDisposalIsCompactedAway() {
        Assumptions.assumeTrue(TestDatabase.external().isEmpty(), "scans the embedded cluster's files");
        String s = UUID.randomUUID().toString().substring(0, 8);
        String canary = "残留検査" + s;
        String id = "resid-" + s;
        assertThat(admin.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\""
                + canary + "\"}],\"identifier\":[{\"system\":\"urn:kiroku:test\",\"value\":\"" + canary + "\"}]}").status())
                .isEqualTo(201);

        CliRun before = CliRun.kiroku(DATA_DIR, "residual-scan", "--canary", canary);
        assertThat(before.code()).as(before.out() + before.err()).isEqualTo(1);
        assertThat(before.out()).contains("FOUND canaries in the files under").contains(canary + " (keyed hash)")
                .doesNotContain(canary + " (as text)"); // sealed bodies: the name itself is nowhere

        jdbc.update("UPDATE resource_current SET last_updated = last_updated - interval '10 years' WHERE patient_key = ?", id);
        var d = disposals.request(id, "保存期間満了", Agent.localOperator());
        disposals.approve(d.id(), jp.kiroku.support.PersonLogin.administrator(accounts, "rs" + s));

        CliRun disposed = CliRun.kiroku(DATA_DIR, "residual-scan", "--canary", canary);
        assertThat(disposed.code()).as("the removed rows' bytes are still in the files and the WAL").isEqualTo(1);
        assertThat(disposed.out()).contains("OK    wrapped keys of the").contains("OK    sealed items of disposed patients");

        // the server's daily compaction runs when a disposal happened since the last one, and only then
        assertThat(residuals.compactIfDisposed(Agent.localOperator())).hasValueSatisfying(done ->
                assertThat(done).contains("rewrote search_string"));
        assertThat(residuals.compactIfDisposed(Agent.localOperator())).as("nothing disposed since").isEmpty();
        CliRun compact = CliRun.kiroku(DATA_DIR, "dispose", "compact"); // by hand, any time
        assertThat(compact.code()).as(compact.err()).isZero();
        assertThat(compact.out()).contains("rewrote search_string").contains("removed the WAL written before");
        CliRun after = CliRun.kiroku(DATA_DIR, "residual-scan", "--canary", canary);
        assertThat(after.code()).as(after.out() + after.err()).isZero();
        assertThat(after.out()).contains("OK    canaries in the files under").contains("OK    wrapped keys of the")
                .contains("Nothing readable of the disposed data remains");
    }
}
