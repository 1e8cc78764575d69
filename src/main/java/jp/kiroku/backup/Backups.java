package jp.kiroku.backup;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.function.LongConsumer;

import org.postgresql.PGConnection;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.crypto.KeyProvider;
import jp.kiroku.ledger.Ledgers;
import jp.kiroku.platform.ConnectionInfo;
import jp.kiroku.platform.DatabaseRuntime;
import jp.kiroku.platform.KirokuProperties;

/**
 * Backup generations (issue 8, BACKUP-01..03): an online, consistent snapshot of the database copied table by table
 * (PostgreSQL's binary COPY, several tables at once on connections that share one exported snapshot) into sealed,
 * hashed segment files, with a manifest signed by the ledger checkpoint key. The server keeps serving meanwhile.
 */
@Service
public class Backups {

    static final String MANIFEST_ORIGIN = "kiroku/backup";
    private static final DateTimeFormatter NAME_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

    private final DatabaseRuntime database;
    private final KeyProvider master;
    private final Ledgers ledgers;
    private final AuditTrail audit;
    private final JdbcTemplate jdbc;
    private final Clock clock;
    private final KirokuProperties props;
    private final SecureRandom random = new SecureRandom();

    Backups(DatabaseRuntime database, KeyProvider master, Ledgers ledgers, AuditTrail audit, JdbcTemplate jdbc, Clock clock,
            KirokuProperties props) {
        this.database = database;
        this.master = master;
        this.ledgers = ledgers;
        this.audit = audit;
        this.jdbc = jdbc;
        this.clock = clock;
        this.props = props;
    }

    /** A generation made: where, its manifest, why it is full when an incremental one was asked for, how long it took. */
    public record Created(Path generation, Manifest manifest, String fullBecause, Duration took) {
    }

    /**
     * Takes a generation into {@code target}: incremental (after the newest generation there) when asked and possible,
     * else full. {@code progress} receives plain bytes copied as it goes.
     */
    public Created create(Path target, boolean incremental, boolean writeOnce, Agent by, LongConsumer progress)
            throws IOException {
        Instant started = clock.instant();
        ledgers.sequenceNow();
        Files.createDirectories(target);
        String id = UUID.randomUUID().toString();
        byte[] key = new byte[32];
        random.nextBytes(key);
        String name = NAME_TIME.format(started) + "-" + id.substring(0, 8);
        Path partial = target.resolve(Targets.PARTIAL + name);
        Files.createDirectory(partial);
        try (Connection main = connect()) {
            Snapshot snap = Snapshot.take(main);
            Parent parent = null;
            String fullBecause = null;
            if (incremental) {
                Object p = parentFor(target, snap);
                if (p instanceof Parent found) {
                    parent = found;
                } else {
                    fullBecause = (String) p;
                }
            }
            Manifest.Kind kind = parent == null ? Manifest.Kind.FULL : Manifest.Kind.INCREMENTAL;
            if (writeOnce) {
                Files.writeString(partial.resolve(Targets.WRITE_ONCE_MARK), "Kiroku never rewrites or deletes this"
                        + " generation.\n", StandardCharsets.US_ASCII);
                Targets.makeReadOnly(partial.resolve(Targets.WRITE_ONCE_MARK));
            }
            List<Manifest.Table> tables = copy(snap, parent, partial, key, id, writeOnce, progress);
            long versions = rows(tables, "resource_version");
            long events = rows(tables, "audit_log");
            long plain = tables.stream().mapToLong(Manifest.Table::bytes).sum();
            long stored = tables.stream().flatMap(t -> t.segments().stream()).mapToLong(Manifest.Segment::bytes).sum();
            Manifest m = new Manifest(Manifest.FORMAT, id, kind, parent == null ? null : parent.manifest().id(), started,
                    clock.instant(), snap.schemaVersion, master.masterKeyId(),
                    Base64.getEncoder().encodeToString(master.wrap(key, keyContext(id))), snap.heads, snap.checkpoints,
                    snap.pending, snap.sequences, snap.indexKeys, snap.disposals, tables,
                    new Manifest.Totals(versions, events, plain, stored));
            main.rollback();
            byte[] json = m.toJson();
            Files.write(partial.resolve(Manifest.FILE), json, java.nio.file.StandardOpenOption.CREATE_NEW,
                    java.nio.file.StandardOpenOption.SYNC);
            Files.writeString(partial.resolve(Manifest.SIGNATURE), ledgers.signStatement(MANIFEST_ORIGIN,
                    List.of(id, "sha256 " + Segments.sha256(json))), StandardCharsets.UTF_8);
            Path generation = target.resolve(name);
            if (writeOnce) {
                Targets.makeReadOnly(partial.resolve(Manifest.FILE));
                Targets.makeReadOnly(partial.resolve(Manifest.SIGNATURE));
            }
            Files.move(partial, generation, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            if (writeOnce) {
                Targets.closeDirectory(generation);
            }
            Instant finished = clock.instant();
            jdbc.update("INSERT INTO backup_run (id, kind, parent_id, location, write_once, started_at, finished_at, position,"
                    + " audit_position, stored_bytes) VALUES (?::uuid,?,?::uuid,?,?,?,?,?,?,?)", id,
                    kind.name().toLowerCase(java.util.Locale.ROOT), m.parent(), generation.toAbsolutePath().toString(),
                    writeOnce, java.sql.Timestamp.from(started), java.sql.Timestamp.from(finished), m.position(),
                    m.head(2).size(), stored);
            audit.record(AuditRecord.of(by, "backup.create", AuditRecord.Outcome.SUCCESS).withDetail(
                    kind.name().toLowerCase(java.util.Locale.ROOT) + " " + name + ": " + versions + " versions, " + events
                            + " audit events, " + stored + " bytes" + (fullBecause == null ? "" : " (full: " + fullBecause + ")")));
            return new Created(generation, m, fullBecause, Duration.between(started, finished));
        } catch (SQLException e) {
            deleteQuietly(partial);
            throw new IllegalStateException("the backup failed: " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(partial);
            audit.record(AuditRecord.of(by, "backup.create", AuditRecord.Outcome.FAILED).withDetail(
                    e.getClass().getSimpleName()));
            throw e;
        }
    }

    /** A generation in a target, for people: its name, kind, ledger positions, size and last verification. */
    /** A backup made, as recorded: where, when, how big, and what its verification and drill found. */
    public record Run(String id, String kind, String location, boolean writeOnce, Instant finished, long storedBytes,
                      Instant verifiedAt, Boolean verifiedOk, String verifyDetail, Instant drilledAt, String drillDetail,
                      Instant prunedAt) {
    }

    /** The newest backups made by this installation, newest first. */
    public List<Run> runs(int limit) {
        return jdbc.query("SELECT * FROM backup_run ORDER BY finished_at DESC LIMIT ?", (rs, i) -> new Run(
                rs.getString("id"), rs.getString("kind"), rs.getString("location"), rs.getBoolean("write_once"),
                instant(rs, "finished_at"), rs.getLong("stored_bytes"), instant(rs, "verified_at"),
                (Boolean) rs.getObject("verified_ok"), rs.getString("verify_detail"), instant(rs, "drilled_at"),
                rs.getString("drill_detail"), instant(rs, "pruned_at")), limit);
    }

    private static Instant instant(java.sql.ResultSet rs, String column) throws java.sql.SQLException {
        java.sql.Timestamp t = rs.getTimestamp(column);
        return t == null ? null : t.toInstant();
    }

    public record Generation(String name, String kind, Instant started, long position, long auditPosition,
                             long storedBytes, String verified, boolean writeOnce) {
    }

    /** The complete generations in {@code target}, oldest first. */
    public List<Generation> generations(Path target) throws IOException {
        List<Generation> out = new ArrayList<>();
        for (Path g : Targets.generations(target)) {
            Manifest m = Manifest.read(g);
            List<String> verified = jdbc.queryForList("SELECT verified_at || CASE WHEN verified_ok THEN ' ok' ELSE"
                    + " ' FAILED' END FROM backup_run WHERE id = ?::uuid AND verified_at IS NOT NULL", String.class, m.id());
            out.add(new Generation(g.getFileName().toString(), m.kind().name().toLowerCase(java.util.Locale.ROOT),
                    m.started(), m.position(), m.head(2).size(), m.totals().storedBytes(),
                    verified.isEmpty() ? null : "verified " + verified.get(0), Targets.isWriteOnce(g)));
        }
        return out;
    }

    /** What a retention run did: the generations removed and those kept, each with why. */
    public record Pruned(List<String> removed, Map<String, String> kept) {
    }

    /** A generation as retention sees it. */
    record Candidate(String name, String id, String parent, Instant started, boolean writeOnce, boolean verified) {
    }

    /**
     * Applies the retention of generations (kiroku.backup.keep-daily/weekly/monthly) to {@code target}: keeps the newest
     * generation of each of the last N days, weeks and months, the newest one, the newest one verified, every write-once
     * one (its storage expires it, never Kiroku) and every generation a kept one continues; removes the rest, and
     * generations left unfinished more than a day ago.
     */
    public Pruned prune(Path target, Agent by) throws IOException {
        List<Candidate> all = new ArrayList<>();
        Map<String, Path> dirs = new LinkedHashMap<>();
        for (Path g : Targets.generations(target)) {
            Manifest m = Manifest.read(g);
            Boolean ok = jdbc.query("SELECT verified_ok FROM backup_run WHERE id = ?::uuid", rs -> rs.next()
                    ? (Boolean) rs.getObject(1) : null, m.id());
            all.add(new Candidate(g.getFileName().toString(), m.id(), m.parent(), m.started(), Targets.isWriteOnce(g),
                    Boolean.TRUE.equals(ok)));
            dirs.put(g.getFileName().toString(), g);
        }
        var b = props.getBackup();
        Map<String, String> kept = keep(all, props.getTimeZone(), b.getKeepDaily(), b.getKeepWeekly(), b.getKeepMonthly());
        List<String> removed = new ArrayList<>();
        for (Candidate c : all) {
            if (!kept.containsKey(c.name())) {
                Targets.delete(dirs.get(c.name()));
                jdbc.update("UPDATE backup_run SET pruned_at = ? WHERE id = ?::uuid", java.sql.Timestamp.from(clock.instant()),
                        c.id());
                removed.add(c.name());
            }
        }
        for (Path partial : Targets.stalePartials(target, clock.instant())) {
            Targets.delete(partial);
            removed.add(partial.getFileName().toString() + " (unfinished)");
        }
        if (!removed.isEmpty()) {
            audit.record(AuditRecord.of(by, "backup.prune", AuditRecord.Outcome.SUCCESS).withDetail("removed "
                    + removed.size() + " generation(s): " + String.join(", ", removed)));
        }
        return new Pruned(removed, kept);
    }

    /** Which generations retention keeps, and why (the first reason found). */
    static Map<String, String> keep(List<Candidate> all, java.time.ZoneId zone, int daily, int weekly, int monthly) {
        List<Candidate> newest = new ArrayList<>(all);
        newest.sort(Comparator.comparing(Candidate::started).reversed());
        Map<String, String> kept = new LinkedHashMap<>();
        if (!newest.isEmpty()) {
            kept.put(newest.get(0).name(), "the newest");
        }
        newest.stream().filter(Candidate::verified).findFirst().ifPresent(c -> kept.putIfAbsent(c.name(), "the newest verified"));
        newest.stream().filter(Candidate::writeOnce).forEach(c -> kept.putIfAbsent(c.name(), "write-once"));
        bucket(newest, c -> c.started().atZone(zone).toLocalDate(), daily, "daily", kept);
        bucket(newest, c -> {
            var d = c.started().atZone(zone);
            return d.get(java.time.temporal.IsoFields.WEEK_BASED_YEAR) + "-W" + d.get(java.time.temporal.IsoFields.WEEK_OF_WEEK_BASED_YEAR);
        }, weekly, "weekly", kept);
        bucket(newest, c -> java.time.YearMonth.from(c.started().atZone(zone)), monthly, "monthly", kept);
        // a kept incremental generation needs every generation it continues
        Map<String, Candidate> byId = new LinkedHashMap<>();
        newest.forEach(c -> byId.put(c.id(), c));
        for (String name : List.copyOf(kept.keySet())) {
            Candidate c = newest.stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
            while (c.parent() != null && byId.containsKey(c.parent())) {
                c = byId.get(c.parent());
                kept.putIfAbsent(c.name(), "continued by " + name);
            }
        }
        return kept;
    }

    private static void bucket(List<Candidate> newestFirst, java.util.function.Function<Candidate, Object> period, int slots,
                               String why, Map<String, String> kept) {
        java.util.Set<Object> seen = new java.util.HashSet<>();
        for (Candidate c : newestFirst) {
            Object p = period.apply(c);
            if (seen.size() >= slots && !seen.contains(p)) {
                break;
            }
            if (seen.add(p)) {
                kept.putIfAbsent(c.name(), why + " " + p);
            }
        }
    }

    /** Records a restore drill of a generation (backup drill): when, and what it measured. */
    public void recordDrill(String generationId, String detail, boolean ok, Agent by) {
        jdbc.update("UPDATE backup_run SET drilled_at = ?, drill_detail = ? WHERE id = ?::uuid",
                java.sql.Timestamp.from(clock.instant()), detail, generationId);
        audit.record(AuditRecord.of(by, "backup.drill", ok ? AuditRecord.Outcome.SUCCESS : AuditRecord.Outcome.FAILED)
                .withDetail(detail));
    }

    static String keyContext(String generationId) {
        return "backup:" + generationId;
    }

    private static long rows(List<Manifest.Table> tables, String name) {
        return tables.stream().filter(t -> t.name().equals(name)).mapToLong(Manifest.Table::rows).sum();
    }

    Connection connect() throws SQLException {
        ConnectionInfo owner = database.owner();
        Connection c = DriverManager.getConnection(owner.url(), owner.user(), owner.password());
        c.setAutoCommit(false);
        return c;
    }

    /** What the snapshot holds besides the tables: the ledgers' state and what decides whether incremental is sound. */
    static final class Snapshot {
        String id;
        String schemaVersion;
        List<Manifest.Head> heads = new ArrayList<>();
        List<String> checkpoints = new ArrayList<>();
        Map<Integer, List<Long>> pending = new LinkedHashMap<>();
        Map<String, Long> sequences = new LinkedHashMap<>();
        List<String> indexKeys = new ArrayList<>();
        long disposals;
        List<String> tables;
        Map<String, List<String>> columns;
        Map<String, Long> sizes = new LinkedHashMap<>();

        static Snapshot take(Connection c) throws SQLException {
            Snapshot s = new Snapshot();
            try (Statement st = c.createStatement()) {
                st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                s.id = one(st, "SELECT pg_export_snapshot()");
                s.schemaVersion = one(st, "SELECT version FROM flyway_schema_history WHERE success AND version IS NOT NULL"
                        + " ORDER BY installed_rank DESC LIMIT 1");
                try (ResultSet rs = st.executeQuery("SELECT log, size, root FROM ledger_state ORDER BY log")) {
                    while (rs.next()) {
                        s.heads.add(new Manifest.Head(rs.getInt(1), rs.getLong(2), HexFormat.of().formatHex(rs.getBytes(3))));
                    }
                }
                try (ResultSet rs = st.executeQuery("SELECT DISTINCT ON (log) note FROM ledger_checkpoint ORDER BY log, size DESC")) {
                    while (rs.next()) {
                        s.checkpoints.add(rs.getString(1));
                    }
                }
                try (ResultSet rs = st.executeQuery("SELECT log, source_seq FROM ledger_pending ORDER BY log, source_seq")) {
                    while (rs.next()) {
                        s.pending.computeIfAbsent(rs.getInt(1), k -> new ArrayList<>()).add(rs.getLong(2));
                    }
                }
                try (ResultSet rs = st.executeQuery("SELECT sequencename, last_value FROM pg_sequences"
                        + " WHERE schemaname = current_schema() AND last_value IS NOT NULL ORDER BY sequencename")) {
                    while (rs.next()) {
                        s.sequences.put(rs.getString(1), rs.getLong(2));
                    }
                }
                try (ResultSet rs = st.executeQuery("SELECT gen || ':' || state FROM index_key ORDER BY gen")) {
                    while (rs.next()) {
                        s.indexKeys.add(rs.getString(1));
                    }
                }
                s.disposals = Long.parseLong(one(st, "SELECT count(*) FROM disposal"));
                try (ResultSet rs = st.executeQuery("SELECT relname, pg_relation_size(oid) FROM pg_class"
                        + " WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'")) {
                    while (rs.next()) {
                        s.sizes.put(rs.getString(1), rs.getLong(2));
                    }
                }
            }
            s.tables = Tables.ordered(c);
            s.columns = Tables.columns(c);
            return s;
        }

        private static String one(Statement st, String sql) throws SQLException {
            try (ResultSet rs = st.executeQuery(sql)) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** The generation an incremental one continues, with its manifest. */
    record Parent(Path generation, Manifest manifest) {
    }

    /** The newest generation in the target if an incremental generation can follow it, else why not (a String). */
    private Object parentFor(Path target, Snapshot snap) throws IOException {
        List<Path> all = Targets.generations(target);
        if (all.isEmpty()) {
            return "no earlier generation in " + target;
        }
        Path newest = all.get(all.size() - 1);
        Manifest m = Manifest.read(newest);
        try {
            Restorer.chain(target, newest);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        for (Manifest.Head h : m.ledgers()) {
            // the parent must be of this installation's ledgers as they stand (not another's, nor from before a restore)
            if (!ledgers.rootAt(h.log(), h.size()).map(r -> HexFormat.of().formatHex(r).equals(h.root())).orElse(false)) {
                return newest.getFileName() + " is not a backup of this database's ledgers as they stand now";
            }
        }
        if (!m.schemaVersion().equals(snap.schemaVersion)) {
            return "the schema changed since " + newest.getFileName() + " (" + m.schemaVersion() + " -> "
                    + snap.schemaVersion + ")";
        }
        if (!m.indexKeys().equals(snap.indexKeys)) {
            return "the search index key changed since " + newest.getFileName() + " (the whole index was rewritten)";
        }
        if (m.disposals() != snap.disposals) {
            return "records were disposed of since " + newest.getFileName();
        }
        return new Parent(newest, m);
    }

    /** Copies every table on {@code kiroku.backup.parallel} connections sharing the snapshot; the manifest's tables. */
    private List<Manifest.Table> copy(Snapshot snap, Parent parent, Path dir, byte[] key, String id, boolean writeOnce,
                                      LongConsumer progress) throws IOException, SQLException {
        record Job(String table, String select, Tables.Mode mode, List<String> columns) {
        }
        List<Job> jobs = new ArrayList<>();
        for (String t : snap.tables) {
            Tables.Mode mode = Tables.mode(t);
            List<String> cols = snap.columns.get(t);
            jobs.add(new Job(t, select(t, cols, mode, parent), mode, cols));
        }
        if (parent != null) {
            jobs.add(new Job(Tables.CHANGED, "SELECT DISTINCT res_type, res_id FROM resource_version WHERE "
                    + appendedAfter("resource_version", parent.manifest()), Tables.Mode.CHANGED, List.of("res_type", "res_id")));
        }
        // biggest first, so that the largest table does not start last
        jobs.sort(Comparator.comparingLong((Job j) -> snap.sizes.getOrDefault(j.table(), 0L)).reversed());
        int workers = Math.max(1, props.getBackup().getParallel());
        int segmentSize = (int) Math.min(Integer.MAX_VALUE - 64, props.getBackup().getSegmentSize().toBytes());
        ExecutorService copiers = Executors.newFixedThreadPool(workers);
        ExecutorService sealers = Executors.newFixedThreadPool(workers);
        Semaphore buffers = new Semaphore(workers * 2);
        java.util.concurrent.BlockingQueue<Connection> connections = new java.util.concurrent.LinkedBlockingQueue<>();
        try {
            for (int i = 0; i < workers; i++) {
                Connection c = connect();
                try (Statement st = c.createStatement()) {
                    st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                    st.execute("SET TRANSACTION SNAPSHOT '" + snap.id + "'");
                }
                connections.add(c);
            }
            Map<String, Future<Manifest.Table>> done = new LinkedHashMap<>();
            for (Job j : jobs) {
                done.put(j.table(), copiers.submit(() -> {
                    Connection c = connections.take();
                    try {
                        SegmentSink sink = new SegmentSink(dir, j.table(), segmentSize, key, id, writeOnce, sealers, buffers,
                                progress);
                        long rows = c.unwrap(PGConnection.class).getCopyAPI().copyOut("COPY (" + j.select()
                                + ") TO STDOUT (FORMAT binary)", sink);
                        sink.close();
                        return new Manifest.Table(j.table(), j.mode().name().toLowerCase(java.util.Locale.ROOT), rows,
                                sink.plainBytes(), sink.segments(), j.columns());
                    } finally {
                        connections.add(c);
                    }
                }));
            }
            Map<String, Manifest.Table> byName = new LinkedHashMap<>();
            for (var e : done.entrySet()) {
                byName.put(e.getKey(), get(e.getValue()));
            }
            List<Manifest.Table> out = new ArrayList<>();
            for (String t : snap.tables) {
                out.add(byName.get(t));
            }
            if (byName.containsKey(Tables.CHANGED)) {
                out.add(byName.get(Tables.CHANGED));
            }
            return out;
        } finally {
            copiers.shutdownNow();
            sealers.shutdownNow();
            for (Connection c : connections) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // the snapshot is read-only: nothing to lose
                }
            }
        }
    }

    static <T> T get(Future<T> f) throws IOException, SQLException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof SQLException sql) {
                throw sql;
            }
            if (c instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(c);
        }
    }

    /** The query that takes a table's rows for this generation. */
    private static String select(String table, List<String> columns, Tables.Mode mode, Parent parent) {
        String all = "SELECT " + Tables.columnList(columns) + " FROM " + Tables.quote(table);
        if (table.equals(Tables.ENTRIES)) {
            // in log order, so that verification recomputes each tree in one pass
            return all + (parent == null ? "" : " WHERE " + entriesAfter(parent.manifest())) + " ORDER BY log, idx";
        }
        if (parent == null || mode == Tables.Mode.WHOLE) {
            return all;
        }
        if (mode == Tables.Mode.APPEND) {
            return all + " WHERE " + appendedAfter(table, parent.manifest());
        }
        String[] rc = Tables.resourceColumns(table);
        return all + " WHERE (" + rc[0] + ", " + rc[1] + ") IN (SELECT res_type, res_id FROM resource_version WHERE "
                + appendedAfter("resource_version", parent.manifest()) + ")";
    }

    private static String entriesAfter(Manifest parent) {
        List<String> parts = new ArrayList<>();
        for (Manifest.Head h : parent.ledgers()) {
            parts.add("(log = " + h.log() + " AND idx >= " + h.size() + ")");
        }
        int[] known = parent.ledgers().stream().mapToInt(Manifest.Head::log).toArray();
        parts.add("NOT (log = ANY('" + java.util.Arrays.toString(known).replace('[', '{').replace(']', '}') + "'::int[]))");
        return "(" + String.join(" OR ", parts) + ")";
    }

    /**
     * Rows of a ledgered table written after the parent's snapshot: those the sequencer appended after the parent's
     * ledger position, or that are still pending, but not those already pending (and so copied) at the parent's
     * snapshot. (Write order by seq would miss a transaction that took its seq before and committed after.)
     */
    static String appendedAfter(String table, Manifest parent) {
        int log = Tables.LOGGED.get(table);
        long from = parent.head(log).size();
        List<Long> pendingThen = parent.pendingAtSnapshot() == null ? List.of()
                : parent.pendingAtSnapshot().getOrDefault(log, List.of());
        String sql = "seq IN (SELECT source_seq FROM ledger_entry WHERE log = " + log + " AND idx >= " + from
                + " UNION ALL SELECT source_seq FROM ledger_pending WHERE log = " + log + ")";
        if (!pendingThen.isEmpty()) {
            sql += " AND NOT (seq = ANY('{" + String.join(",", pendingThen.stream().map(String::valueOf).toList())
                    + "}'::bigint[]))";
        }
        return sql;
    }

    /**
     * The COPY stream of one table cut into segment files: each full buffer is sealed and written on a sealer thread
     * while the copy goes on (at most two buffers in flight per worker).
     */
    private static final class SegmentSink extends OutputStream {
        private final Path dir;
        private final String table;
        private final int size;
        private final byte[] key;
        private final String id;
        private final boolean writeOnce;
        private final ExecutorService sealers;
        private final Semaphore buffers;
        private final LongConsumer progress;
        private final List<Future<Manifest.Segment>> parts = new ArrayList<>();
        private byte[] buf;
        private int len;
        private long plain;
        private boolean closed;

        SegmentSink(Path dir, String table, int size, byte[] key, String id, boolean writeOnce, ExecutorService sealers,
                    Semaphore buffers, LongConsumer progress) {
            this.dir = dir;
            this.table = table;
            this.size = size;
            this.key = key;
            this.id = id;
            this.writeOnce = writeOnce;
            this.sealers = sealers;
            this.buffers = buffers;
            this.progress = progress;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int n) throws IOException {
            while (n > 0) {
                if (buf == null) {
                    buffers.acquireUninterruptibly();
                    buf = new byte[size];
                }
                int take = Math.min(n, size - len);
                System.arraycopy(b, off, buf, len, take);
                len += take;
                off += take;
                n -= take;
                plain += take;
                if (len == size) {
                    seal();
                }
            }
        }

        private void seal() {
            byte[] full = buf;
            int length = len;
            String file = table + "." + String.format("%05d", parts.size()) + ".seg";
            buf = null;
            len = 0;
            parts.add(sealers.submit(() -> {
                try {
                    Manifest.Segment s = Segments.write(dir, file, full, length, key, id, writeOnce);
                    progress.accept(length);
                    return s;
                } finally {
                    buffers.release();
                }
            }));
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                if (buf != null || parts.isEmpty()) {
                    if (buf == null) {
                        buffers.acquireUninterruptibly();
                        buf = new byte[0];
                    }
                    seal();
                }
            }
        }

        long plainBytes() {
            return plain;
        }

        List<Manifest.Segment> segments() throws IOException, SQLException {
            List<Manifest.Segment> out = new ArrayList<>();
            for (Future<Manifest.Segment> f : parts) {
                out.add(get(f));
            }
            return out;
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            if (Files.exists(dir)) {
                Targets.delete(dir);
            }
        } catch (IOException ignored) {
            // a partial generation is never read, and retention removes it a day later: its name says so
        }
    }
}
