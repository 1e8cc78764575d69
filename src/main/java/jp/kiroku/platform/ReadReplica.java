package jp.kiroku.platform;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Routing of reads to a PostgreSQL streaming-replication standby (issue 13, item 5). Other modules mark the read
 * paths that may be served from the replica with {@link #read}; everything else — writes, ledgers, audit, sessions,
 * tokens, access checks — uses the primary, because the application's one {@link DataSource} hands out primary
 * connections unless the current thread is inside {@link #read} (and no Spring transaction is active).
 *
 * <p>Staleness is measured by WAL position, not by the replay timestamp (which stops advancing when the primary is
 * idle): every check interval the primary's {@code pg_current_wal_insert_lsn()} is sampled with the (monotonic) time
 * taken <em>before</em> asking, and the replica's {@code pg_last_wal_replay_lsn()} is compared with the samples. The
 * newest sample whose position the replica has replayed proves that every transaction committed before that sample's
 * time is visible on the replica: that time is the replica's "fresh as of". A read uses the replica only while
 * <code>now - freshAsOf &le; max-staleness</code>, so a read never sees data older than the bound, however stale the
 * replica is or however old the last check is. Read-your-writes within this process: after a caller's write commits,
 * that caller's reads use the replica only once it is fresh as of a time after the commit; a write that changes who
 * may see what (consents, care relations) does the same for every caller.
 */
public final class ReadReplica implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ReadReplica.class);
    private static final ThreadLocal<Boolean> ON_REPLICA = new ThreadLocal<>();
    /** Health status of a configured replica that reads do not use (too far behind, unreachable): reads still work. */
    static final org.springframework.boot.health.contributor.Status STALE =
            new org.springframework.boot.health.contributor.Status("STALE");

    /** What an operator (health, logs, tests) sees of the replica. */
    public record Status(boolean configured, boolean usable, boolean reachable, Duration staleness, Duration bound,
                         long replicaReads, long primaryReads, long fallbacks, String problem) {
    }

    private final DataSource primary;
    private final DataSource replica; // null: no replica configured
    private final long boundNanos;
    private final Duration bound;
    private final ScheduledExecutorService checker;
    private final Deque<long[]> samples = new ArrayDeque<>(); // {nanoTime, primary insert LSN}, oldest first
    private final Map<String, Long> barriers = new ConcurrentHashMap<>();
    private final AtomicLong replicaReads = new AtomicLong();
    private final AtomicLong primaryReads = new AtomicLong();
    private final AtomicLong fallbacks = new AtomicLong();
    private volatile long freshAsOf;
    private volatile boolean everFresh;
    private volatile long sharedBarrier = System.nanoTime(); // every sample is younger (nanoTime may be negative)
    private volatile boolean reachable;
    private volatile String problem = "not checked yet";
    private volatile boolean reportedStale;

    /** No replica: every read uses the primary. */
    static ReadReplica none() {
        return new ReadReplica(null, null, Duration.ZERO);
    }

    ReadReplica(DataSource primary, DataSource replica, Duration bound) {
        this.primary = primary;
        this.replica = replica;
        this.bound = bound;
        this.boundNanos = bound.toNanos();
        if (replica == null) {
            checker = null;
            return;
        }
        long interval = Math.max(50, Math.min(1000, bound.toMillis() / 5));
        checker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kiroku-replica-check");
            t.setDaemon(true);
            return t;
        });
        checker.scheduleWithFixedDelay(this::checkQuietly, 0, interval, TimeUnit.MILLISECONDS);
    }

    /**
     * Runs {@code work} on the primary even inside {@link #read}: for what fills caches shared across requests (data
     * keys, index key generations), which must not be filled from a replica that is behind.
     */
    public static <T> T onPrimary(Supplier<T> work) {
        Boolean routed = ON_REPLICA.get();
        if (routed == null) {
            return work.get();
        }
        ON_REPLICA.remove();
        try {
            return work.get();
        } finally {
            ON_REPLICA.set(routed);
        }
    }

    /** Whether a replica is configured at all. */
    public boolean configured() {
        return replica != null;
    }

    /**
     * Runs a read-only piece of work on the replica when it is fresh enough for {@code who} (the caller's agent, for
     * read-your-writes), else on the primary. The work must not write (a standby refuses writes) and should not fill
     * caches shared with other requests. A replica connection failure, or a query cancelled by replay (a recovery
     * conflict), repeats the work on the primary.
     */
    public <T> T read(String who, Supplier<T> work) {
        if (replica == null || ON_REPLICA.get() != null) {
            return work.get(); // no replica, or already routed by an enclosing read
        }
        if (TransactionSynchronizationManager.isActualTransactionActive() || !usable(who)) {
            primaryReads.incrementAndGet();
            return work.get();
        }
        ON_REPLICA.set(Boolean.TRUE);
        try {
            T out = work.get();
            replicaReads.incrementAndGet();
            return out;
        } catch (DataAccessResourceFailureException | TransientDataAccessException e) {
            fallbacks.incrementAndGet();
            if (e instanceof DataAccessResourceFailureException) { // not used again until a check reaches it
                reachable = false;
                problem = "unreachable (a read failed: " + e.getClass().getSimpleName() + ")";
            }
            log.warn("A read failed on the replica ({}); repeated on the primary", e.getMostSpecificCause().getMessage());
        } finally {
            ON_REPLICA.remove();
        }
        primaryReads.incrementAndGet();
        return work.get();
    }

    /**
     * A write by {@code who} committed: their reads use the replica again only once it has replayed it. With
     * {@code everyone}, the write changes what others may see (a consent, a care relationship): nobody's reads use the
     * replica until it has replayed it, so such a change holds at once in this process, as without a replica.
     */
    public void wrote(String who, boolean everyone) {
        if (replica == null) {
            return;
        }
        long now = System.nanoTime();
        if (everyone) {
            sharedBarrier = now;
        } else {
            barriers.put(who, now);
        }
    }

    /** Whether {@link #read} would use the replica for {@code who} now. */
    boolean usable(String who) {
        if (replica == null || !reachable || !everFresh) {
            return false;
        }
        long fresh = freshAsOf;
        if (System.nanoTime() - fresh > boundNanos) {
            return false;
        }
        Long mine = barriers.get(who);
        return fresh - sharedBarrier > 0 && (mine == null || fresh - mine > 0);
    }

    /** Whether the current thread is inside {@link #read} on the replica (for the routing DataSource). */
    static boolean routedToReplica() {
        return ON_REPLICA.get() != null;
    }

    public Status status() {
        Duration staleness = replica == null || !everFresh ? null : Duration.ofNanos(Math.max(0, System.nanoTime() - freshAsOf));
        return new Status(replica != null, usable("\u0000status"), reachable, staleness, bound, replicaReads.get(),
                primaryReads.get(), fallbacks.get(), replica == null ? null : problem);
    }

    private void checkQuietly() {
        try {
            check();
        } catch (RuntimeException | Error e) {
            log.warn("Replica check failed: {}", e.toString());
        }
        boolean stale = replica != null && !usable("\u0000status");
        if (stale && !reportedStale) {
            log.warn("The read replica is not used: {} (max staleness {}); reads go to the primary", describe(), bound);
        } else if (!stale && reportedStale) {
            log.info("The read replica is fresh again ({}); reads go to it", describe());
        }
        reportedStale = stale;
    }

    private String describe() {
        Status s = status();
        return !s.reachable() ? s.problem()
                : s.staleness() == null ? s.problem() : "fresh as of " + s.staleness().toMillis() + " ms ago";
    }

    /** One check: sample the primary's WAL position, read the replica's replayed position, advance freshAsOf. */
    void check() {
        long t = System.nanoTime(); // before asking: everything committed before t is at or below the sampled position
        long primaryLsn;
        try (Connection c = primary.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint")) {
            rs.next();
            primaryLsn = rs.getLong(1);
        } catch (java.sql.SQLException e) {
            problem = "the primary cannot be asked for its WAL position: " + e.getSQLState();
            return;
        }
        synchronized (samples) {
            samples.addLast(new long[] {t, primaryLsn});
            while (samples.size() > 10_000) {
                samples.removeFirst();
            }
        }
        long replayed;
        try (Connection c = replica.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery(), (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                // promoted or pointed at a primary: its data may have diverged; never read from it
                reachable = false;
                problem = "the replica is not a standby in recovery (promoted?): not used";
                return;
            }
            replayed = rs.getLong(2);
            reachable = true;
        } catch (java.sql.SQLException | RuntimeException e) {
            reachable = false;
            problem = "unreachable (" + (e instanceof java.sql.SQLException s ? s.getSQLState() : e.getClass().getSimpleName())
                    + ")";
            return;
        }
        synchronized (samples) {
            long[] newest = null;
            while (!samples.isEmpty() && samples.peekFirst()[1] <= replayed) {
                newest = samples.removeFirst();
            }
            if (newest != null) {
                samples.addFirst(newest); // keep it: with an idle primary the next sample has the same position
                if (!everFresh || newest[0] - freshAsOf > 0) {
                    freshAsOf = newest[0];
                    everFresh = true;
                }
            }
        }
        long now = System.nanoTime();
        barriers.values().removeIf(w -> now - w > boundNanos); // older than the bound: the bound alone decides
        problem = usable("\u0000status") ? null : "behind by more than " + bound + " (replay paused or slow?)";
    }

    @Override
    public void close() {
        if (checker != null) {
            checker.shutdownNow();
        }
    }
}
