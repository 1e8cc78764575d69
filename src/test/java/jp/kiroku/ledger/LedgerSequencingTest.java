package jp.kiroku.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.MessageDigest;
import java.sql.Connection;
import java.util.List;

import javax.sql.DataSource;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.support.ServerTest;

/** Every stored version and every audit event reaches its ledger exactly once, in one tree per log. */
class LedgerSequencingTest extends ServerTest {

    @Autowired
    Ledgers ledgers;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    DataSource dataSource;

    @Test
    @Tag("INTEG-03")
    @Tag("LOG-02")
    void everyVersionAndEveryEventIsAppendedExactlyOnce() throws Exception {
        String id = admin.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"台帳\"}]}")
                .as(org.hl7.fhir.r4.model.Patient.class).getIdElement().getIdPart();
        admin.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"台帳二\"}]}");
        admin.get("Patient/" + id);
        admin.get("Patient?family=台帳");
        ledgers.sequenceNow();

        assertThat(ledgers.pending()).containsEntry("kiroku/record", 0L).containsEntry("kiroku/audit", 0L);
        assertLogCovers(1, "resource_version");
        assertLogCovers(2, "audit_log");
        // the head is the RFC 6962 root of the stored leaf hashes, computed here from the RFC's recursive definition
        for (Ledgers.Head head : ledgers.heads()) {
            int log = head.origin().equals("kiroku/record") ? 1 : 2;
            List<byte[]> leaves = jdbc.query("SELECT leaf_hash FROM ledger_entry WHERE log = ? ORDER BY idx",
                    (rs, i) -> rs.getBytes(1), log);
            assertThat(head.size()).isEqualTo(leaves.size());
            assertThat(head.root()).isEqualTo(mth(leaves));
        }
    }

    @Test
    @Tag("LOG-02")
    void rowsCommittedWhileTheSequencerIsDownAreAppendedWhenItComesBack() throws Exception {
        ledgers.sequenceNow();
        // another process holds the sequencer lock (e.g. a sequencer that then crashes before committing)
        try (Connection other = dataSource.getConnection()) {
            other.setAutoCommit(false);
            try (var st = other.createStatement()) {
                st.execute("SELECT pg_advisory_xact_lock(" + Sequencer.LOCK + ")");
            }
            for (int i = 0; i < 5; i++) {
                admin.post("Patient", "{\"resourceType\":\"Patient\"}");
            }
            assertThat(new Sequencer(jdbc, new org.springframework.transaction.support.TransactionTemplate(
                    new org.springframework.jdbc.datasource.DataSourceTransactionManager(dataSource)), List.of(),
                    java.time.Clock.systemUTC(), 100).run()).isEqualTo(-1);
            assertThat(ledgers.pending().get("kiroku/record")).isGreaterThanOrEqualTo(5);
            other.rollback(); // the crash: its work is gone, the lock released
        }
        ledgers.sequenceNow();
        assertThat(ledgers.pending()).containsEntry("kiroku/record", 0L).containsEntry("kiroku/audit", 0L);
        assertLogCovers(1, "resource_version");
        assertLogCovers(2, "audit_log");
    }

    @Test
    @Tag("LOG-03")
    void noCheckpointIsSignedWhileTheClockIsKnownToBeWrong(@TempDir java.nio.file.Path dir) throws Exception {
        admin.post("Patient", "{\"resourceType\":\"Patient\"}"); // the logs grew since the last checkpoint
        java.nio.file.Path chronyc = dir.resolve("chronyc");
        java.nio.file.Files.writeString(chronyc, "#!/bin/sh\necho 'Reference ID    : 7F7F0101 ()'\n"
                + "echo \"System time     : $(cat " + dir.resolve("offset") + ") seconds fast of NTP time\"\n"
                + "echo 'Leap status     : Normal'\n");
        chronyc.toFile().setExecutable(true);
        java.nio.file.Files.writeString(dir.resolve("offset"), "5.000000000");
        long before = jdbc.queryForObject("SELECT count(*) FROM ledger_checkpoint", Long.class);
        Ledgers wrongClock = ledgersWith(new jp.kiroku.platform.ClockCheck(List.of(chronyc.toString()),
                java.time.Duration.ofSeconds(1), false));
        org.assertj.core.api.Assertions.assertThatThrownBy(wrongClock::checkpointNow)
                .hasMessageContaining("Not signing a checkpoint").hasMessageContaining("off by 5 s");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM ledger_checkpoint", Long.class)).isEqualTo(before);

        java.nio.file.Files.writeString(dir.resolve("offset"), "0.000200000"); // the clock is put right
        Ledgers rightClock = ledgersWith(new jp.kiroku.platform.ClockCheck(List.of(chronyc.toString()),
                java.time.Duration.ofSeconds(1), false));
        assertThat(rightClock.checkpointNow()).hasSize(2);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM ledger_checkpoint", Long.class)).isGreaterThan(before);
        assertThat(jdbc.queryForObject("SELECT clock FROM ledger_checkpoint ORDER BY signed_at DESC LIMIT 1", String.class))
                .contains("synchronised").contains("0.0002");
    }

    @Test
    @Tag("LOG-02")
    void verificationWhileOthersWriteAndSequenceFindsNothing() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.ExecutorService writers = java.util.concurrent.Executors.newFixedThreadPool(4);
        for (int i = 0; i < 4; i++) {
            writers.submit(() -> {
                while (!stop.get()) {
                    admin.post("Patient", "{\"resourceType\":\"Patient\"}");
                }
            });
        }
        try {
            for (int i = 0; i < 3; i++) { // the background sequencer appends all the while
                Ledgers.Verification v = ledgers.verify(List.of(), n -> { });
                assertThat(v.ok()).as("%s", v).isTrue();
            }
        } finally {
            stop.set(true);
            writers.shutdown();
            assertThat(writers.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    @Tag("LOG-03")
    void theHealthEndpointShowsTheClock() {
        var r = anonymous.get(anonymous.root() + "/actuator/health");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).contains("\"clock\":{\"status\":\"").contains("\"status\":\"UP\"");
        boolean chrony = java.util.Arrays.stream(System.getenv("PATH").split(":"))
                .anyMatch(d -> java.nio.file.Files.isExecutable(java.nio.file.Path.of(d, "chronyc")));
        if (!chrony) { // no time daemon to ask (as on CI): the clock is not known wrong, only unknown
            assertThat(r.body()).contains("\"clock\":{\"status\":\"UNKNOWN\"}");
        }
    }

    @Autowired
    List<LeafSource> sources;
    @Autowired
    jp.kiroku.platform.KirokuProperties props;

    private Ledgers ledgersWith(jp.kiroku.platform.ClockCheck clock) {
        return new Ledgers(jdbc, new org.springframework.transaction.support.TransactionTemplate(
                new org.springframework.jdbc.datasource.DataSourceTransactionManager(dataSource)), sources,
                java.time.Clock.systemUTC(), clock, props, jp.kiroku.platform.ProcessRole.ADMIN);
    }

    /** Every row of the table is in the log exactly once, and the log's indexes are 0..n-1. */
    private void assertLogCovers(int log, String table) {
        long rows = jdbc.queryForObject("SELECT count(*) FROM " + table, Long.class);
        long entries = jdbc.queryForObject("SELECT count(*) FROM ledger_entry WHERE log = ?", Long.class, log);
        long matched = jdbc.queryForObject("SELECT count(*) FROM ledger_entry e JOIN " + table
                + " s ON s.seq = e.source_seq WHERE e.log = ?", Long.class, log);
        long maxIdx = jdbc.queryForObject("SELECT coalesce(max(idx), -1) FROM ledger_entry WHERE log = ?", Long.class, log);
        assertThat(entries).isEqualTo(rows).isEqualTo(matched).isEqualTo(maxIdx + 1);
    }

    /** RFC 6962 §2.1 MTH, written from the RFC: k is the largest power of two smaller than n. */
    private static byte[] mth(List<byte[]> leafHashes) throws Exception {
        int n = leafHashes.size();
        if (n == 0) {
            return MessageDigest.getInstance("SHA-256").digest();
        }
        if (n == 1) {
            return leafHashes.get(0);
        }
        int k = Integer.highestOneBit(n - 1);
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        d.update((byte) 1);
        d.update(mth(leafHashes.subList(0, k)));
        d.update(mth(leafHashes.subList(k, n)));
        return d.digest();
    }
}
