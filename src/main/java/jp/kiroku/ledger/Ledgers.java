package jp.kiroku.ledger;

import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

import jp.kiroku.platform.ClockCheck;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.platform.ProcessRole;

/**
 * The record and access ledgers (issue 4): append-only Merkle logs over resource_version and audit_log. Rows are
 * queued by the database in the writer's transaction; the server appends them in the background (every
 * kiroku.ledger.sequence-interval) and signs checkpoints (every kiroku.ledger.checkpoint-interval when a log grew).
 */
@Service
public class Ledgers {

    private static final Logger log = LoggerFactory.getLogger(Ledgers.class);

    /** The name the checkpoint key signs under (signed-note key name). */
    public static final String KEY_NAME = "kiroku";

    private final JdbcTemplate jdbc;
    private final Sequencer sequencer;
    private final Verifier verifier;
    private final Clock clock;
    private final ClockCheck clockCheck;
    private volatile KeyPair keys;
    private final List<LeafSource> sources;
    private final KirokuProperties props;
    private final ProcessRole role;
    private ScheduledExecutorService background;

    Ledgers(JdbcTemplate jdbc, TransactionTemplate tx, List<LeafSource> sources, Clock clock, ClockCheck clockCheck,
            KirokuProperties props, @Value("${kiroku.runtime.role:serve}") ProcessRole role) {
        this.clockCheck = clockCheck;
        this.jdbc = jdbc;
        this.sources = sources.stream().sorted(java.util.Comparator.comparingInt(LeafSource::log)).toList();
        this.sequencer = new Sequencer(jdbc, tx, this.sources, clock, props.getLedger().getBatchSize());
        this.verifier = new Verifier(jdbc, readOnly(tx));
        this.clock = clock;
        this.props = props;
        this.role = role;
    }

    /** Tells {@code listener} the size of every batch the sequencer appends in this process, by log origin. */
    void onBatch(java.util.function.ObjIntConsumer<String> listener) {
        sequencer.onBatch(listener);
    }

    /** A log's size and root hash as the sequencer last left them. */
    public record Head(String origin, long size, byte[] root) {
    }

    /** One thing verification found wrong: what, at which log index and source row (when known), in words. */
    public record Finding(String kind, Long index, Long seq, String detail) {
    }

    /** How one checkpoint compared: {@code matches}, {@code root-differs} or {@code not-reached}. */
    public record CheckpointCheck(long size, Instant signed, String status) {
    }

    /** One log verified: its entries, rows still queued, the checkpoints checked and what was found. */
    /** One log verified; {@code disposed}: entries whose rows a registered disposal removed (not findings). */
    public record LogReport(String origin, long entries, long pending, long disposed, List<CheckpointCheck> checkpoints,
                            List<Finding> findings, Long firstDivergence) {
        public boolean ok() {
            return findings.isEmpty();
        }
    }

    /** Both logs verified. */
    public record Verification(List<LogReport> logs) {
        public boolean ok() {
            return logs.stream().allMatch(LogReport::ok);
        }

        /** "ok", or how many findings: what the audit event of a verification says. */
        public String summary() {
            return ok() ? "ok" : logs.stream().mapToLong(l -> l.findings().size()).sum() + " findings";
        }
    }

    /**
     * Appends every pending row now (waiting for another process that holds the sequencer lock to finish); the number
     * of leaves this call appended.
     */
    public int sequenceNow() {
        int n;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((n = sequencer.run()) < 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Another process has held the ledger sequencer lock for 30 s");
            }
            sleep(50);
        }
        return n;
    }

    /** Rows queued but not yet in their log, per origin. */
    public Map<String, Long> pending() {
        Map<Integer, Long> byLog = sequencer.pending();
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        for (LeafSource s : sources) {
            out.put(s.origin(), byLog.getOrDefault(s.log(), 0L));
        }
        return out;
    }

    public List<Head> heads() {
        return sources.stream().map(s -> {
            StreamingRoot tree = LedgerState.load(jdbc, s.log()).tree();
            return new Head(s.origin(), tree.size(), tree.root());
        }).toList();
    }

    /**
     * Signs a checkpoint of every log that grew since its last one (after appending what is pending); the latest
     * checkpoint of each log, as signed notes by origin.
     */
    public Map<String, String> checkpointNow() {
        sequenceNow();
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (LeafSource s : sources) {
            out.put(s.origin(), checkpoint(s));
        }
        return out;
    }

    private String checkpoint(LeafSource source) {
        StreamingRoot tree = LedgerState.load(jdbc, source.log()).tree();
        List<String> latest = jdbc.queryForList("SELECT note FROM ledger_checkpoint WHERE log = ? ORDER BY size DESC LIMIT 1",
                String.class, source.log());
        if (!latest.isEmpty() && Checkpoint.parse(latest.get(0), keys().getPublic(), KEY_NAME).size() == tree.size()) {
            return latest.get(0);
        }
        String refusal = clockCheck.refusal(); // a checkpoint vouches for its time (LOG-03)
        if (refusal != null) {
            throw new IllegalStateException("Not signing a checkpoint of " + source.origin() + ": " + refusal);
        }
        Checkpoint c = new Checkpoint(source.origin(), tree.size(), tree.root(), clock.instant());
        String note = c.sign(keys().getPrivate(), KEY_NAME);
        jdbc.update("INSERT INTO ledger_checkpoint (log, size, root, signed_at, note, clock, timestamp_token)"
                + " VALUES (?,?,?,?,?,?,?) ON CONFLICT (log, size) DO NOTHING", source.log(), c.size(), c.rootHash(),
                java.sql.Timestamp.from(c.timestamp()), note, clockCheck.state().summary(), stamp(note));
        return note;
    }

    /** The TSA's time-stamp of a note, or null without a TSA or when it cannot be had (the checkpoint stands anyway). */
    private byte[] stamp(String note) {
        java.net.URI tsa = props.getLedger().getTsaUrl();
        if (tsa == null) {
            return null;
        }
        try {
            return new TimeStamps(tsa).stamp(note);
        } catch (java.io.IOException e) {
            log.warn("Checkpoint not time-stamped: {}", e.getMessage());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /**
     * Proof that a source row is in its log (RFC 9162 §2.1.3): its leaf index and hash, and the audit path to the root
     * of a signed checkpoint (signed now if the latest one does not cover the row yet), so that anyone holding the
     * checkpoint key can check it without Kiroku. Empty when the row is not in the log.
     */
    public java.util.Optional<InclusionProof> prove(String origin, long sourceSeq) {
        LeafSource source = sources.stream().filter(s -> s.origin().equals(origin)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("No ledger named " + origin));
        sequenceNow();
        List<Map<String, Object>> entry = jdbc.queryForList("SELECT idx, leaf_hash FROM ledger_entry WHERE log = ?"
                + " AND source_seq = ?", source.log(), sourceSeq);
        if (entry.isEmpty()) {
            return java.util.Optional.empty();
        }
        long index = ((Number) entry.get(0).get("idx")).longValue();
        String note = checkpoint(source); // of the whole log as sequenced above, so it covers the entry
        Checkpoint c = Checkpoint.parse(note, keys().getPublic(), KEY_NAME);
        List<byte[]> path = MerkleTree.inclusionProof(new StoredLeaves(jdbc, source.log(), c.size()), index, c.size());
        return java.util.Optional.of(new InclusionProof(origin, index, c.size(), (byte[]) entry.get(0).get("leaf_hash"),
                path, note));
    }

    /**
     * The leaf index of each of these source rows in log {@code origin} (rows not sequenced yet are left out): where a
     * printed version can be found again, in one query however many there are.
     */
    public Map<Long, Long> leafIndexes(String origin, java.util.Collection<Long> sourceSeqs) {
        int log = logs().getOrDefault(origin, -1);
        Map<Long, Long> out = new java.util.HashMap<>();
        if (sourceSeqs.isEmpty() || log < 0) {
            return out;
        }
        jdbc.query("SELECT source_seq, idx FROM ledger_entry WHERE log = ? AND source_seq = ANY (?)",
                (org.springframework.jdbc.core.RowCallbackHandler) rs -> out.put(rs.getLong(1), rs.getLong(2)), log,
                sourceSeqs.toArray(Long[]::new));
        return out;
    }

    /** A leaf's place in a signed tree: check with {@link MerkleProofs#verifyInclusion} against the note's root. */
    public record InclusionProof(String origin, long index, long treeSize, byte[] leafHash, List<byte[]> path,
                                 String checkpoint) {
    }

    /**
     * What to keep outside Kiroku: the latest signed checkpoint of every log (signed now if it grew), then the public
     * key that verifies them (PEM).
     */
    public String checkpointFile() {
        StringBuilder text = new StringBuilder();
        checkpointNow().values().forEach(n -> text.append(n).append('\n'));
        return text.append(publicKeyPem()).toString();
    }

    /**
     * Signs a statement (its origin line, then {@code lines}) with the checkpoint key, as a signed note: how a backup
     * manifest is bound to the installation that made it.
     */
    public String signStatement(String origin, List<String> lines) {
        StringBuilder text = new StringBuilder(origin).append('\n');
        lines.forEach(l -> text.append(l).append('\n'));
        return SignedNote.sign(text.toString(), keys().getPrivate(), KEY_NAME);
    }

    /**
     * The lines (origin first) of a statement signed with this installation's checkpoint key; an
     * {@link IllegalArgumentException} saying why when the signature does not verify.
     */
    public List<String> openStatement(String note) {
        try {
            return List.of(SignedNote.open(note, keys().getPublic(), KEY_NAME).split("\n"));
        } catch (CheckpointException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    /** A signed checkpoint once it verifies with this installation's checkpoint key ({@link CheckpointException} if not). */
    public Checkpoint checkpoint(String note) {
        return Checkpoint.parse(note, keys().getPublic(), KEY_NAME);
    }

    /** The root of log {@code log} at {@code size} leaves, recomputed from its stored entries (empty if it is shorter). */
    public java.util.Optional<byte[]> rootAt(int log, long size) {
        StreamingRoot tree = tree(log, size);
        return tree.size() == size ? java.util.Optional.of(tree.root()) : java.util.Optional.empty();
    }

    /** The tree of log {@code log}'s stored entries below index {@code size}, to compare or to continue. */
    public StreamingRoot tree(int log, long size) {
        StreamingRoot tree = new StreamingRoot();
        jdbc.query("SELECT leaf_hash FROM ledger_entry WHERE log = ? AND idx < ? ORDER BY idx",
                (org.springframework.jdbc.core.RowCallbackHandler) rs -> tree.append(rs.getBytes(1)), log, size);
        return tree;
    }

    /** Each log's number by its origin (e.g. kiroku/record → 1), in log order. */
    public Map<String, Integer> logs() {
        Map<String, Integer> out = new java.util.LinkedHashMap<>();
        sources.forEach(s -> out.put(s.origin(), s.log()));
        return out;
    }

    /** The public key that verifies checkpoints, as PEM (for auditors and for keeping outside Kiroku). */
    public String publicKeyPem() {
        return LedgerKeys.publicKeyPem(keys().getPublic());
    }

    /**
     * Recomputes both logs and checks them against every stored checkpoint and the {@code external} signed notes
     * (kept outside Kiroku; each must verify with the checkpoint key and name one of the logs). Appends what is pending
     * first. {@code progress} receives the number of log entries read as it goes.
     */
    public Verification verify(List<String> external, java.util.function.LongConsumer progress) {
        sequenceNow();
        List<LogReport> reports = new ArrayList<>();
        for (LeafSource s : sources) {
            List<Checkpoint> trusted = new ArrayList<>();
            List<Finding> bad = new ArrayList<>();
            jdbc.query("SELECT size, note, timestamp_token FROM ledger_checkpoint WHERE log = ? ORDER BY size", rs -> {
                try {
                    Checkpoint c = Checkpoint.parse(rs.getString(2), keys().getPublic(), KEY_NAME);
                    if (c.size() != rs.getLong(1) || !c.origin().equals(s.origin())) {
                        throw new CheckpointException("it is stored as size " + rs.getLong(1) + " of " + s.origin());
                    }
                    byte[] token = rs.getBytes(3);
                    if (token != null) {
                        try {
                            TimeStamps.verify(token, rs.getString(2));
                        } catch (IllegalArgumentException e) {
                            bad.add(new Finding("checkpoint", null, null, "the RFC 3161 time-stamp of the checkpoint of"
                                    + " size " + rs.getLong(1) + " does not hold: " + e.getMessage()));
                        }
                    }
                    trusted.add(c);
                } catch (CheckpointException e) {
                    bad.add(new Finding("checkpoint", null, null, "the stored checkpoint of size " + rs.getLong(1)
                            + " does not verify: " + e.getMessage()));
                }
            }, s.log());
            for (String note : external) {
                Checkpoint c = Checkpoint.parse(note, keys().getPublic(), KEY_NAME);
                if (c.origin().equals(s.origin())) {
                    trusted.add(c);
                }
            }
            LogReport r = verifier.verify(s, trusted, progress);
            if (!bad.isEmpty()) {
                List<Finding> all = new ArrayList<>(bad);
                all.addAll(r.findings());
                r = new LogReport(r.origin(), r.entries(), r.pending(), r.disposed(), r.checkpoints(), all, r.firstDivergence());
            }
            reports.add(r);
        }
        return new Verification(reports);
    }

    private KeyPair keys() {
        KeyPair k = keys;
        if (k == null) {
            synchronized (this) {
                if (keys == null) {
                    keys = LedgerKeys.loadOrCreate(props.getKeysDir());
                }
                k = keys;
            }
        }
        return k;
    }

    /**
     * Verification reads in one snapshot (REPEATABLE READ): while servers keep writing and sequencing, the log in index
     * order, the rows joined to their entries and the sequencer's state must all be seen as of one moment.
     */
    private static TransactionTemplate readOnly(TransactionTemplate tx) {
        TransactionTemplate t = new TransactionTemplate(tx.getTransactionManager());
        t.setReadOnly(true);
        t.setIsolationLevel(org.springframework.transaction.TransactionDefinition.ISOLATION_REPEATABLE_READ);
        return t;
    }

    @EventListener(ApplicationReadyEvent.class)
    void startBackground() {
        if (role != ProcessRole.SERVE) {
            return;
        }
        background = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kiroku-ledger");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(10, props.getLedger().getSequenceInterval().toMillis());
        background.scheduleWithFixedDelay(this::sequenceQuietly, every, every, TimeUnit.MILLISECONDS);
        long signEvery = Math.max(1000, props.getLedger().getCheckpointInterval().toMillis());
        background.scheduleWithFixedDelay(this::checkpointQuietly, signEvery, signEvery, TimeUnit.MILLISECONDS);
    }

    @jakarta.annotation.PreDestroy
    void stopBackground() {
        if (background != null) {
            background.shutdown();
            try {
                background.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void sequenceQuietly() {
        try {
            sequencer.run();
        } catch (RuntimeException e) { // retried at the next tick; the rows stay pending meanwhile
            log.warn("Ledger sequencing failed, will retry: {}", e.getMessage());
        }
    }

    private void checkpointQuietly() {
        try {
            checkpointNow();
        } catch (RuntimeException e) { // retried at the next tick
            log.warn("Ledger checkpoint failed, will retry: {}", e.getMessage());
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for the ledger sequencer", e);
        }
    }
}
