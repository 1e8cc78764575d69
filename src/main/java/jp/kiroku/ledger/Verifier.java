package jp.kiroku.ledger;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Recomputes a log from the database and compares it with what was recorded (issue 4, item 5): every entry's leaf
 * from its source row now, every row's own consistency (e.g. body vs content hash), the index sequence, the tree
 * against every trusted checkpoint and against the sequencer's state. Reads in one read-only transaction, streaming.
 */
final class Verifier {

    private final JdbcTemplate streaming;
    private final TransactionTemplate tx;

    Verifier(JdbcTemplate jdbc, TransactionTemplate tx) {
        this.streaming = new JdbcTemplate(jdbc.getDataSource());
        this.streaming.setFetchSize(10_000);
        this.tx = tx;
    }

    /**
     * Rows in binary form (bytea and arrays as stored): decoding hex text and text arrays was a third of a
     * verification's CPU (JFR, bench/RESULTS.md 2026-12-07).
     */
    private void stream(String sql, org.springframework.jdbc.core.RowCallbackHandler rows, Object... args) {
        streaming.query(con -> {
            var ps = con.prepareStatement(sql);
            ps.unwrap(org.postgresql.PGStatement.class).setPrepareThreshold(-1); // -1: binary results at once
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            return ps;
        }, rows);
    }

    Ledgers.LogReport verify(LeafSource source, List<Checkpoint> trusted, LongConsumer progress) {
        return tx.execute(status -> {
            List<Ledgers.Finding> findings = new ArrayList<>();
            CheckpointVerifier tree = new CheckpointVerifier(trusted);
            long[] expected = {0};
            // 1. the log in index order: dense indexes, and the tree against the checkpoints
            stream("SELECT idx, leaf_hash FROM ledger_entry WHERE log = ? ORDER BY idx", rs -> {
                long idx = rs.getLong(1);
                if (idx != expected[0]) {
                    findings.add(new Ledgers.Finding("missing-entries", expected[0], null, "log entries " + expected[0]
                            + (idx - 1 > expected[0] ? ".." + (idx - 1) : "") + " are gone"));
                }
                byte[] hash = rs.getBytes(2);
                tree.append(hash);
                expected[0] = idx + 1;
                progress.accept(1);
            }, source.log());
            // 2. every row and every entry, joined by the row's seq: altered, deleted and inserted rows
            long[] pending = {0};
            long[] disposed = {0};
            String register = source.disposalRegister();
            stream("SELECT e.idx AS e_idx, e.leaf_hash AS e_hash, e.source_seq AS e_seq, s.seq AS s_seq,"
                    + " p.source_seq IS NOT NULL AS queued, " + (register == null ? "false" : "d.seq IS NOT NULL")
                    + " AS disposed, " + source.columns() + source.checkColumns()
                    + " FROM (SELECT idx, source_seq, leaf_hash FROM ledger_entry WHERE log = ?) e"
                    + " FULL JOIN " + source.table() + " s ON s.seq = e.source_seq"
                    + " LEFT JOIN ledger_pending p ON p.log = ? AND p.source_seq = s.seq"
                    + (register == null ? "" : " LEFT JOIN " + register + " d ON d.seq = e.source_seq")
                    + " ORDER BY coalesce(s.seq, e.source_seq)", rs -> {
                long seq = rs.getLong("s_seq");
                boolean row = !rs.wasNull();
                long idx = rs.getLong("e_idx");
                boolean entry = !rs.wasNull();
                if (!row && entry && rs.getBoolean("disposed")) {
                    disposed[0]++;
                } else if (!row) {
                    findings.add(new Ledgers.Finding("deleted", idx, rs.getLong("e_seq"), source.table() + " row "
                            + rs.getLong("e_seq") + " (log entry " + idx + ") is gone"));
                } else if (!entry) {
                    if (rs.getBoolean("queued")) {
                        pending[0]++;
                    } else {
                        findings.add(new Ledgers.Finding("inserted", null, seq, source.table() + " row " + seq
                                + " is in no log entry and was never queued"));
                    }
                } else if (!MessageDigest.isEqual(MerkleHash.leafHash(source.leaf(rs)), rs.getBytes("e_hash"))) {
                    findings.add(new Ledgers.Finding("altered", idx, seq, source.table() + " row " + seq
                            + " no longer matches log entry " + idx));
                }
                progress.accept(1);
                String problem = row ? source.problem(rs) : null;
                if (problem != null) {
                    findings.add(new Ledgers.Finding("content", entry ? idx : null, seq, problem));
                }
            }, source.log(), source.log());
            // 3. the checkpoints and the sequencer's state
            List<Ledgers.CheckpointCheck> checks = new ArrayList<>();
            List<CheckpointVerifier.Result> results = tree.results();
            for (CheckpointVerifier.Result r : results) {
                checks.add(new Ledgers.CheckpointCheck(r.checkpoint().size(), r.checkpoint().timestamp(),
                        r.status().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')));
                if (r.status() != CheckpointVerifier.Status.MATCHES) {
                    findings.add(new Ledgers.Finding("checkpoint", null, null, "the checkpoint of size "
                            + r.checkpoint().size() + " signed " + r.checkpoint().timestamp() + " "
                            + (r.status() == CheckpointVerifier.Status.NOT_REACHED ? "is beyond the log's end ("
                            + tree.size() + " entries): entries were removed" : "does not match the log")));
                }
            }
            LedgerState state = LedgerState.load(streaming, source.log());
            if (state.tree().size() != tree.size() || !MessageDigest.isEqual(state.tree().root(), tree.root())) {
                findings.add(new Ledgers.Finding("state", null, null, "the sequencer's state (" + state.tree().size()
                        + " entries) does not match the log recomputed (" + tree.size() + " entries)"));
            }
            findings.sort(java.util.Comparator.comparing((Ledgers.Finding f) -> f.index() == null ? Long.MAX_VALUE : f.index()));
            return new Ledgers.LogReport(source.origin(), tree.size(), pending[0], disposed[0], checks, findings,
                    firstDivergence(findings, results));
        });
    }

    /**
     * The first log index that differs: the lowest index a finding names, else the start of the first checkpoint range
     * that no longer matches (the size of the last matching checkpoint before it).
     */
    private static Long firstDivergence(List<Ledgers.Finding> findings, List<CheckpointVerifier.Result> checks) {
        Long first = findings.stream().map(Ledgers.Finding::index).filter(java.util.Objects::nonNull).min(Long::compare)
                .orElse(null);
        long lastGood = 0;
        for (CheckpointVerifier.Result r : checks) {
            if (r.status() == CheckpointVerifier.Status.MATCHES) {
                lastGood = r.checkpoint().size();
            } else {
                return first == null ? lastGood : Math.min(first, lastGood);
            }
        }
        return first;
    }
}
