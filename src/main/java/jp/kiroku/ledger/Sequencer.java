package jp.kiroku.ledger;

import java.sql.Array;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Appends pending rows to their logs (the brief's decision 3). Writers only queue rows, inside their own transaction;
 * whichever process holds the advisory lock numbers them, hashes them and extends the tree, in batches, in one
 * transaction per batch: a crash before its commit leaves the rows pending for the next run, so nothing committed is
 * ever lost, and two processes never number the same leaf.
 */
final class Sequencer {

    /** The advisory lock that makes one process at a time the sequencer ("Kiroku" in ASCII). */
    static final long LOCK = 0x4b69726f6b75L;

    private static final Logger log = LoggerFactory.getLogger(Sequencer.class);

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final List<LeafSource> sources;
    private final Clock clock;
    private final int batch;
    /** Told the size of every batch appended, by the log's origin (metrics). */
    private volatile java.util.function.ObjIntConsumer<String> batches = (origin, n) -> { };

    Sequencer(JdbcTemplate jdbc, TransactionTemplate tx, List<LeafSource> sources, Clock clock, int batch) {
        this.jdbc = jdbc;
        this.tx = tx;
        this.sources = sources;
        this.clock = clock;
        this.batch = batch;
    }

    void onBatch(java.util.function.ObjIntConsumer<String> listener) {
        this.batches = listener;
    }

    /** Appends everything pending; the number of leaves appended, or -1 when another process is the sequencer. */
    int run() {
        int total = 0;
        while (true) {
            Integer appended = tx.execute(status -> {
                if (!Boolean.TRUE.equals(jdbc.queryForObject("SELECT pg_try_advisory_xact_lock(?)", Boolean.class, LOCK))) {
                    return -1;
                }
                int n = 0;
                for (LeafSource source : sources) {
                    n += appendBatch(source);
                }
                return n;
            });
            if (appended == null || appended < 0) {
                return total == 0 ? -1 : total;
            }
            total += appended;
            if (appended == 0) {
                return total;
            }
        }
    }

    private int appendBatch(LeafSource source) {
        List<Long> seqs = jdbc.queryForList("SELECT source_seq FROM ledger_pending WHERE log = ? ORDER BY source_seq LIMIT ?",
                Long.class, source.log(), batch);
        if (seqs.isEmpty()) {
            return 0;
        }
        Map<Long, byte[]> leaves = new HashMap<>(seqs.size() * 2);
        jdbc.query(con -> {
            var ps = con.prepareStatement("SELECT s.seq, " + source.columns() + " FROM " + source.table()
                    + " s WHERE s.seq = ANY(?)");
            ps.setArray(1, con.createArrayOf("bigint", seqs.toArray()));
            return ps;
        }, rs -> {
            leaves.put(rs.getLong("seq"), source.leaf(rs));
        });
        LedgerState state = LedgerState.load(jdbc, source.log());
        StreamingRoot tree = state.tree();
        long first = tree.size();
        byte[][] hashes = new byte[seqs.size()][];
        Long[] indexes = new Long[seqs.size()];
        for (int i = 0; i < seqs.size(); i++) {
            byte[] leaf = leaves.get(seqs.get(i));
            if (leaf == null) { // the row vanished between its commit and now: log that, so that verification names it
                log.error("Ledger {}: row seq {} of {} is missing at sequencing time", source.origin(), seqs.get(i), source.table());
                leaf = Leaves.missing(seqs.get(i));
            }
            hashes[i] = MerkleHash.leafHash(leaf);
            indexes[i] = first + i;
            tree.append(hashes[i]);
        }
        jdbc.update(con -> {
            var ps = con.prepareStatement("INSERT INTO ledger_entry (log, idx, source_seq, leaf_hash)"
                    + " SELECT ?, * FROM unnest(?::bigint[], ?::bigint[], ?::bytea[])");
            ps.setInt(1, source.log());
            ps.setArray(2, con.createArrayOf("bigint", indexes));
            ps.setArray(3, con.createArrayOf("bigint", seqs.toArray()));
            ps.setArray(4, con.createArrayOf("bytea", hashes));
            return ps;
        });
        new LedgerState(source.log(), tree, clock.instant()).save(jdbc);
        jdbc.update(con -> {
            var ps = con.prepareStatement("DELETE FROM ledger_pending WHERE log = ? AND source_seq = ANY(?)");
            ps.setInt(1, source.log());
            Array a = con.createArrayOf("bigint", seqs.toArray());
            ps.setArray(2, a);
            return ps;
        });
        batches.accept(source.origin(), seqs.size());
        return seqs.size();
    }

    /** How many rows wait to be appended, per log. */
    Map<Integer, Long> pending() {
        Map<Integer, Long> out = new HashMap<>();
        jdbc.query("SELECT log, count(*) FROM ledger_pending GROUP BY log", rs -> {
            out.put(rs.getInt(1), rs.getLong(2));
        });
        return out;
    }
}
