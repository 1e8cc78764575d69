package jp.kiroku.ledger;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A log's leaf hashes as stored in ledger_entry, up to a tree size. A subtree hash is computed from one range read of
 * its leaves; proof generation asks for subtrees that partition the tree, so a proof reads each leaf hash at most once.
 * (Storing complete-subtree hashes as tiles would make proofs O(log n) reads; not needed at today's sizes.)
 */
final class StoredLeaves implements LeafHashSource {

    private final JdbcTemplate jdbc;
    private final int log;
    private final long size;

    StoredLeaves(JdbcTemplate jdbc, int log, long size) {
        this.jdbc = jdbc;
        this.log = log;
        this.size = size;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public byte[] leafHash(long index) {
        return jdbc.queryForObject("SELECT leaf_hash FROM ledger_entry WHERE log = ? AND idx = ?", byte[].class, log, index);
    }

    @Override
    public byte[] subtreeHash(long start, long count) {
        if (count == 1) {
            return leafHash(start);
        }
        StreamingRoot root = new StreamingRoot();
        jdbc.query("SELECT leaf_hash FROM ledger_entry WHERE log = ? AND idx >= ? AND idx < ? ORDER BY idx",
                rs -> {
                    root.append(rs.getBytes(1));
                }, log, start, start + count);
        if (root.size() != count) {
            throw new IllegalStateException("Log " + log + " is missing entries in [" + start + ", " + (start + count)
                    + "): run kiroku verify");
        }
        return root.root();
    }
}
