package jp.kiroku.backup;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.ledger.Checkpoint;
import jp.kiroku.ledger.Ledgers;
import jp.kiroku.ledger.StreamingRoot;
import tools.jackson.databind.json.JsonMapper;

/**
 * What a restore could not bring back (the guideline's "damaged range"): per ledger, how many entries the newest
 * signed checkpoint kept outside (or the damaged system) has beyond what was restored — the record versions and audit
 * events written after the backup. Where the damaged database can still be read, each lost entry is named (type, id,
 * version, time, author; or action, time, agent) from it, and the list is proven complete and exact when the restored
 * entries followed by the damaged system's ones hash to the checkpoint's root.
 */
public record DamageReport(String generation, Instant backupAt, List<Log> logs) {

    /**
     * One ledger: entries restored; the checkpoint compared with (null: none newer than the backup given); entries lost;
     * status ({@code complete}, {@code lost}, {@code differs}: the checkpoint disagrees with the restored ledger,
     * {@code unproven}: nothing seems lost but the checkpoint cannot prove it, {@code no-checkpoint}); the lost entries
     * when known and
     * whether the checkpoint proves them.
     */
    public record Log(String origin, long restored, Long checkpointSize, Instant checkpointAt, long lost, String status,
                      List<Entry> entries, boolean entriesProven) {
    }

    /** A lost entry: its ledger index, what it was, when and by whom. */
    public record Entry(long index, String what, Instant at, String by) {
    }

    public boolean complete() {
        return logs.stream().allMatch(l -> l.status().equals("complete"));
    }

    /**
     * Compares the restored ledgers ({@code ledgers}, {@code jdbc}) with the newest checkpoint per origin; {@code damaged}, when not
     * null, is the damaged system's database, read for the lost entries.
     */
    static DamageReport compute(String generation, Manifest backup, List<Checkpoint> checkpoints, Ledgers ledgers,
                                JdbcTemplate jdbc, Connection damaged) throws SQLException {
        List<Log> out = new ArrayList<>();
        for (var e : ledgers.logs().entrySet()) {
            String origin = e.getKey();
            int log = e.getValue();
            // entries the backup held in the log; rows it held still queued were appended anew by the restore, and
            // perhaps in another order than the damaged system appended them (with rows committed after the backup)
            long sequenced = backup.head(log).size();
            long restored = jdbc.queryForObject("SELECT coalesce(max(idx) + 1, 0) FROM ledger_entry WHERE log = ?",
                    Long.class, log);
            Checkpoint newest = checkpoints.stream().filter(c -> c.origin().equals(origin))
                    .max(java.util.Comparator.comparingLong(Checkpoint::size)).orElse(null);
            if (newest == null) {
                out.add(new Log(origin, restored, null, null, 0, "no-checkpoint", List.of(), false));
                continue;
            }
            if (newest.size() <= sequenced) {
                boolean same = Arrays.equals(ledgers.tree(log, newest.size()).root(), newest.rootHash());
                out.add(new Log(origin, restored, newest.size(), newest.timestamp(), 0, same ? "complete" : "differs",
                        List.of(), same));
                continue;
            }
            if (damaged == null) {
                long lost = Math.max(0, newest.size() - restored);
                boolean same = lost == 0 && Arrays.equals(ledgers.tree(log, newest.size()).root(), newest.rootHash());
                out.add(new Log(origin, restored, newest.size(), newest.timestamp(), lost,
                        lost > 0 ? "lost" : same ? "complete" : "unproven", List.of(), same));
                continue;
            }
            StreamingRoot tree = ledgers.tree(log, sequenced);
            java.util.Set<String> requeued = new java.util.HashSet<>(jdbc.queryForList("SELECT encode(leaf_hash, 'hex')"
                    + " FROM ledger_entry WHERE log = ? AND idx >= ?", String.class, log, sequenced));
            List<Entry> entries = new ArrayList<>();
            boolean whole = lostEntries(damaged, log, sequenced, newest.size(), tree, requeued, entries);
            boolean proven = whole && Arrays.equals(tree.root(), newest.rootHash());
            out.add(new Log(origin, restored, newest.size(), newest.timestamp(), entries.size(),
                    entries.isEmpty() ? (proven ? "complete" : "unproven") : "lost", entries, proven));
        }
        return new DamageReport(generation, backup.started(), out);
    }

    /**
     * Reads entries [from, to) of the damaged system's log into {@code tree}, and those the restore does not hold
     * (by leaf hash) into {@code entries}; false if some entries are gone from it.
     */
    private static boolean lostEntries(Connection damaged, int log, long from, long to, StreamingRoot tree,
                                       java.util.Set<String> restored, List<Entry> entries) throws SQLException {
        String sql = log == 1
                ? "SELECT e.idx, e.leaf_hash, s.res_type || '/' || s.res_id || '/_history/' || s.version_id"
                        + " || CASE WHEN s.deleted THEN ' (delete)' ELSE '' END, s.last_updated,"
                        + " s.author_kind || ':' || s.author_id || coalesce(' for ' || s.on_behalf_of, '')"
                        + " FROM ledger_entry e LEFT JOIN resource_version s ON s.seq = e.source_seq"
                : "SELECT e.idx, e.leaf_hash, s.action || ' ' || s.outcome || coalesce(' ' || array_to_string(s.entities, ' '), ''),"
                        + " s.recorded, s.agent_kind || ':' || s.agent_id"
                        + " FROM ledger_entry e LEFT JOIN audit_log s ON s.seq = e.source_seq";
        long expected = from;
        try (PreparedStatement ps = damaged.prepareStatement(sql + " WHERE e.log = ? AND e.idx >= ? AND e.idx < ?"
                + " ORDER BY e.idx")) {
            ps.setInt(1, log);
            ps.setLong(2, from);
            ps.setLong(3, to);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getLong(1) != expected) {
                        return false;
                    }
                    expected++;
                    tree.append(rs.getBytes(2));
                    if (restored.contains(java.util.HexFormat.of().formatHex(rs.getBytes(2)))) {
                        continue;
                    }
                    java.sql.Timestamp at = rs.getTimestamp(4);
                    entries.add(new Entry(rs.getLong(1), rs.getString(3) == null ? "(row gone)" : rs.getString(3),
                            at == null ? null : at.toInstant(), rs.getString(5)));
                }
            }
        }
        return expected == to;
    }

    public String text() {
        StringBuilder b = new StringBuilder("Damage report / 損傷範囲報告: restored from " + generation + " (backup of "
                + backupAt + ")\n");
        for (Log l : logs) {
            b.append(l.origin()).append(": ").append(l.restored()).append(" entries restored; ");
            switch (l.status()) {
                case "no-checkpoint" -> b.append("no checkpoint newer than the backup was given (--checkpoint FILE):"
                        + " what was written after the backup cannot be named\n");
                case "complete" -> b.append("the checkpoint of size ").append(l.checkpointSize())
                        .append(" matches: nothing lost\n");
                case "differs" -> b.append("the checkpoint of size ").append(l.checkpointSize())
                        .append(" does NOT match the restored ledger: the backup or the checkpoint was altered\n");
                case "unproven" -> b.append("nothing seems lost up to the checkpoint of size ").append(l.checkpointSize())
                        .append(", but it cannot prove it (rows queued at the backup were appended again in another"
                                + " order; --damaged-db-url proves it)\n");
                default -> {
                    b.append(l.lost()).append(" entries LOST (up to index ").append(l.checkpointSize() - 1)
                            .append(", written between ").append(backupAt).append(" and ")
                            .append(l.checkpointAt()).append(")");
                    b.append(l.entries().isEmpty() ? "; not named: the damaged system was not readable\n"
                            : l.entriesProven() ? "; named below, proven exact by the checkpoint\n"
                            : "; named below from the damaged system, NOT proven by the checkpoint\n");
                    for (Entry en : l.entries()) {
                        b.append("  #").append(en.index()).append("  ").append(en.at()).append("  ").append(en.what())
                                .append("  by ").append(en.by()).append('\n');
                    }
                }
            }
        }
        return b.toString();
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();

    public byte[] json() {
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
    }

    public byte[] pdf() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("restoredFrom", generation);
        doc.put("backupAt", String.valueOf(backupAt));
        for (Log l : logs) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("status", l.status());
            m.put("restored", l.restored());
            m.put("checkpointSize", l.checkpointSize());
            m.put("checkpointAt", String.valueOf(l.checkpointAt()));
            m.put("lost", l.lost());
            m.put("entriesProven", l.entriesProven());
            m.put("entries", l.entries().stream().map(en -> "#" + en.index() + " " + en.at() + " " + en.what() + " by "
                    + en.by()).toList());
            doc.put(l.origin(), m);
        }
        return jp.kiroku.render.Pdf.document("損傷範囲報告 / Damage report", JSON.valueToTree(doc));
    }
}
