package jp.kiroku.ledger;

import java.time.Clock;
import java.util.HexFormat;
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

    private final JdbcTemplate jdbc;
    private final Sequencer sequencer;
    private final List<LeafSource> sources;
    private final KirokuProperties props;
    private final ProcessRole role;
    private ScheduledExecutorService background;

    Ledgers(JdbcTemplate jdbc, TransactionTemplate tx, List<LeafSource> sources, Clock clock, KirokuProperties props,
            @Value("${kiroku.runtime.role:serve}") ProcessRole role) {
        this.jdbc = jdbc;
        this.sources = sources.stream().sorted(java.util.Comparator.comparingInt(LeafSource::log)).toList();
        this.sequencer = new Sequencer(jdbc, tx, this.sources, clock, props.getLedger().getBatchSize());
        this.props = props;
        this.role = role;
    }

    /** A log's size and root hash as the sequencer last left them. */
    public record Head(String origin, long size, byte[] root) {
        public String rootHex() {
            return HexFormat.of().formatHex(root);
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
            CompactRange tree = LedgerState.load(jdbc, s.log()).tree();
            return new Head(s.origin(), tree.size(), tree.root());
        }).toList();
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

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for the ledger sequencer", e);
        }
    }
}
