package jp.kiroku.ledger;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.springframework.jdbc.core.JdbcTemplate;

/** Where a log's tree stands (ledger_state): enough to continue it without reading old leaves. */
record LedgerState(int log, StreamingRoot tree, Instant updated) {

    static LedgerState load(JdbcTemplate jdbc, int log) {
        List<LedgerState> rows = jdbc.query("SELECT size, frontier, updated FROM ledger_state WHERE log = ?", (rs, i) -> {
            byte[][] frontier = (byte[][]) rs.getArray("frontier").getArray();
            return new LedgerState(log, StreamingRoot.restore(rs.getLong("size"), List.of(frontier)),
                    rs.getTimestamp("updated").toInstant());
        }, log);
        return rows.isEmpty() ? new LedgerState(log, new StreamingRoot(), Instant.EPOCH) : rows.get(0);
    }

    void save(JdbcTemplate jdbc) {
        List<byte[]> frontier = new ArrayList<>(tree.frontier());
        jdbc.update(con -> {
            var ps = con.prepareStatement("INSERT INTO ledger_state (log, size, root, frontier, updated) VALUES (?,?,?,?,?)"
                    + " ON CONFLICT (log) DO UPDATE SET size = excluded.size, root = excluded.root,"
                    + " frontier = excluded.frontier, updated = excluded.updated");
            ps.setInt(1, log);
            ps.setLong(2, tree.size());
            ps.setBytes(3, tree.root());
            ps.setArray(4, con.createArrayOf("bytea", frontier.toArray(new byte[0][])));
            ps.setTimestamp(5, Timestamp.from(updated));
            return ps;
        });
    }
}
