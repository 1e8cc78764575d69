package jp.kiroku.backup;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.crypto.KeyProvider;
import jp.kiroku.ledger.Checkpoint;
import jp.kiroku.ledger.Ledgers;
import jp.kiroku.ledger.StreamingRoot;

/**
 * Verifies a generation without restoring it (BACKUP-03): the manifest's signature, every segment's SHA-256 and seal
 * (of the generation and of the generations it continues), and that the ledgers it holds recompute to the roots the
 * manifest gives and agree with every signed checkpoint known: those in the backup, those kept outside, and the
 * newest ones of the running installation (whose ledger must begin with the backup's).
 */
@Service
public class BackupChecks {

    private final KeyProvider master;
    private final Ledgers ledgers;
    private final AuditTrail audit;
    private final JdbcTemplate jdbc;
    private final Clock clock;

    BackupChecks(KeyProvider master, Ledgers ledgers, AuditTrail audit, JdbcTemplate jdbc, Clock clock) {
        this.master = master;
        this.ledgers = ledgers;
        this.audit = audit;
        this.jdbc = jdbc;
        this.clock = clock;
    }

    /** The outcome: the generation, how many segments and bytes were checked, and what was wrong (empty: OK). */
    public record Check(Path generation, int generations, long segments, long bytes, List<String> findings) {
        public boolean ok() {
            return findings.isEmpty();
        }
    }

    /** Checks {@code generation} (in its target directory) against the checkpoints known and {@code external} ones. */
    public Check verify(Path generation, List<String> external, Agent by, LongConsumer progress) throws IOException {
        List<String> findings = new ArrayList<>();
        Path target = generation.toAbsolutePath().getParent();
        List<Path> chain;
        try {
            chain = Restorer.chain(target, generation);
        } catch (IllegalArgumentException e) {
            return record(new Check(generation, 0, 0, 0, List.of(e.getMessage())), by);
        }
        Map<Integer, StreamingRoot> trees = new LinkedHashMap<>();
        Manifest last = Manifest.read(chain.get(chain.size() - 1));
        List<Checkpoint> checkpoints = checkpoints(last, external, findings);
        Map<String, Integer> logs = ledgers.logs();
        for (Checkpoint c : checkpoints) {
            Integer log = logs.get(c.origin());
            if (log != null && c.size() <= last.head(log).size()) {
                trees.computeIfAbsent(log, k -> new StreamingRoot()).captureRootAt(c.size());
            }
        }
        long segments = 0;
        long bytes = 0;
        for (Path g : chain) {
            Manifest m = Manifest.read(g);
            signature(g, m, findings);
            byte[] key = key(g, m, findings);
            for (Manifest.Table t : m.tables()) {
                if (key == null) {
                    for (Manifest.Segment s : t.segments()) {
                        try {
                            Segments.readChecked(g, s);
                        } catch (IllegalStateException e) {
                            findings.add(e.getMessage());
                        }
                        progress.accept(s.bytes());
                    }
                } else if (t.name().equals(Tables.ENTRIES)) {
                    try (InputStream in = Segments.stream(g, m, t, key, progress)) {
                        entries(in, t.columns(), trees, findings, g);
                    } catch (IllegalStateException e) {
                        findings.add(e.getMessage());
                    }
                } else {
                    for (Manifest.Segment s : t.segments()) {
                        try {
                            progress.accept(Segments.read(g, s, key, m.id()).length);
                        } catch (IllegalStateException e) {
                            findings.add(e.getMessage());
                        }
                    }
                }
                segments += t.segments().size();
                bytes += t.segments().stream().mapToLong(Manifest.Segment::bytes).sum();
            }
        }
        if (findings.isEmpty()) {
            for (Manifest.Head h : last.ledgers()) {
                StreamingRoot tree = trees.getOrDefault(h.log(), new StreamingRoot());
                String origin = origin(logs, h.log());
                if (tree.size() != h.size()) {
                    findings.add(origin + ": the backup holds " + tree.size() + " entries, its manifest says " + h.size());
                } else if (!HexFormat.of().formatHex(tree.root()).equals(h.root())) {
                    findings.add(origin + ": the entries in the backup do not hash to the root its manifest gives");
                }
                for (Checkpoint c : checkpoints) {
                    if (!c.origin().equals(origin)) {
                        continue;
                    }
                    if (c.size() <= h.size()) {
                        if (tree.size() == h.size() && !java.util.Arrays.equals(tree.rootAt(c.size()), c.rootHash())) {
                            findings.add(origin + ": the backup's ledger differs from the signed checkpoint of size " + c.size());
                        }
                    } else {
                        ledgers.rootAt(h.log(), h.size()).filter(r -> !HexFormat.of().formatHex(r).equals(h.root()))
                                .ifPresent(r -> findings.add(origin + ": the installation's ledger (checkpoint of size "
                                        + c.size() + ") does not begin with the backup's " + h.size() + " entries"));
                    }
                }
            }
        }
        return record(new Check(generation, chain.size(), segments, bytes, findings), by);
    }

    private Check record(Check c, Agent by) {
        String detail = c.ok() ? "ok" : c.findings().size() + " findings";
        try {
            Manifest m = Manifest.read(c.generation());
            jdbc.update("UPDATE backup_run SET verified_at = ?, verified_ok = ?, verify_detail = ? WHERE id = ?::uuid",
                    java.sql.Timestamp.from(clock.instant()), c.ok(), c.ok() ? "ok" : String.join("; ", c.findings()),
                    m.id());
        } catch (IOException | IllegalArgumentException e) {
            // no readable manifest: nothing to record against (the finding says so)
        }
        audit.record(AuditRecord.of(by, "backup.verify", c.ok() ? AuditRecord.Outcome.SUCCESS : AuditRecord.Outcome.FAILED)
                .withDetail(c.generation().getFileName() + ": " + detail));
        return c;
    }

    private static String origin(Map<String, Integer> logs, int log) {
        return logs.entrySet().stream().filter(e -> e.getValue() == log).map(Map.Entry::getKey).findFirst()
                .orElse("log " + log);
    }

    /** The checkpoints to compare with: the backup's own, the external ones and the installation's newest. */
    private List<Checkpoint> checkpoints(Manifest m, List<String> external, List<String> findings) {
        List<String> notes = new ArrayList<>(m.checkpoints());
        notes.addAll(external);
        notes.addAll(jdbc.queryForList("SELECT DISTINCT ON (log) note FROM ledger_checkpoint ORDER BY log, size DESC",
                String.class));
        List<Checkpoint> out = new ArrayList<>();
        for (String n : notes) {
            try {
                out.add(ledgers.checkpoint(n));
            } catch (RuntimeException e) {
                findings.add("a checkpoint does not verify with this installation's checkpoint key: " + e.getMessage());
            }
        }
        return out;
    }

    void signature(Path g, Manifest m, List<String> findings) throws IOException {
        Path sig = g.resolve(Manifest.SIGNATURE);
        if (!Files.isRegularFile(sig)) {
            findings.add(g.getFileName() + ": the manifest signature " + Manifest.SIGNATURE + " is missing");
            return;
        }
        try {
            List<String> lines = ledgers.openStatement(Files.readString(sig, StandardCharsets.UTF_8));
            String expected = "sha256 " + Segments.sha256(Files.readAllBytes(g.resolve(Manifest.FILE)));
            if (lines.size() != 3 || !lines.get(0).equals(Backups.MANIFEST_ORIGIN) || !lines.get(1).equals(m.id())
                    || !lines.get(2).equals(expected)) {
                findings.add(g.getFileName() + ": the manifest is not the one its signature signs");
            }
        } catch (IllegalArgumentException e) {
            findings.add(g.getFileName() + ": the manifest signature does not verify: " + e.getMessage());
        }
    }

    /** The generation's backup key, or null (with a finding) when this installation's master key cannot open it. */
    byte[] key(Path g, Manifest m, List<String> findings) {
        try {
            return master.unwrap(Base64.getDecoder().decode(m.wrappedKey()), Backups.keyContext(m.id()), m.masterKeyId());
        } catch (RuntimeException e) {
            findings.add(g.getFileName() + ": its backup key does not open with master key " + m.masterKeyId() + " ("
                    + e.getMessage() + "); restore that key backup to check the seals (SHA-256 checked only)");
            return null;
        }
    }

    /** Feeds the ledger entries (in log, index order) to their trees; the indexes must follow on without a gap. */
    private static void entries(InputStream in, List<String> columns, Map<Integer, StreamingRoot> trees,
                                List<String> findings, Path g) throws IOException {
        int logAt = columns.indexOf("log");
        int idxAt = columns.indexOf("idx");
        int hashAt = columns.indexOf("leaf_hash");
        try (CopyRows rows = new CopyRows(in)) {
            byte[][] row;
            while ((row = rows.next()) != null) {
                int log = CopyRows.int2(row[logAt]);
                long idx = CopyRows.int8(row[idxAt]);
                StreamingRoot tree = trees.computeIfAbsent(log, k -> new StreamingRoot());
                if (idx != tree.size()) {
                    findings.add(g.getFileName() + ": ledger " + log + " jumps from entry " + tree.size() + " to " + idx);
                    return;
                }
                tree.append(row[hashAt]);
            }
        }
    }
}
