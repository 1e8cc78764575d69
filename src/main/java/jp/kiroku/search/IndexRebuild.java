package jp.kiroku.search;

import java.util.List;
import java.util.function.LongConsumer;

import org.hl7.fhir.instance.model.api.IBaseResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.PessimisticLockingFailureException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import ca.uhn.fhir.context.FhirContext;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.crypto.BlindIndex;
import jp.kiroku.store.RecordStore;
import jp.kiroku.store.ResourceKey;
import jp.kiroku.store.StoredVersion;

/**
 * Re-indexes every current resource under the current index key: once when the blind index is first built (before
 * Kiroku serves), and as the third step of an index key rotation ({@link #rotate}), which runs online. The walk goes in
 * key order, a batch per transaction, and records how far it got with the batch, so a crash loses at most one batch.
 */
@Service
public class IndexRebuild {

    private static final Logger log = LoggerFactory.getLogger(IndexRebuild.class);

    /** What a rotation did: the new generation, how many resources it re-indexed, the generations retired. */
    public record Rotation(int generation, long reindexed, List<Integer> retired, boolean resumed) {
    }

    private final JdbcTemplate jdbc;
    private final SearchIndex index;
    private final RecordStore store;
    private final FhirContext ctx;
    private final BlindIndex blind;
    private final AuditTrail audit;
    private final TransactionTemplate tx;
    private final int batch;

    IndexRebuild(JdbcTemplate jdbc, SearchIndex index, RecordStore store, FhirContext ctx, BlindIndex blind, AuditTrail audit,
                 PlatformTransactionManager transactions, jp.kiroku.platform.KirokuProperties props) {
        this.jdbc = jdbc;
        this.index = index;
        this.store = store;
        this.ctx = ctx;
        this.blind = blind;
        this.audit = audit;
        this.tx = new TransactionTemplate(transactions);
        this.batch = Math.max(1, props.getSearch().getReindexBatch());
        buildFirst();
    }

    /** At start: the first generation, and the index built under it when resources exist (a finished build is kept). */
    private void buildFirst() {
        withLock(() -> {
            blind.createFirst();
            List<BlindIndex.Generation> all = blind.list();
            BlindIndex.Generation current = all.stream().filter(g -> g.state() == BlindIndex.State.CURRENT).findFirst()
                    .orElseThrow();
            boolean rotating = all.stream().anyMatch(g -> g.state() == BlindIndex.State.QUERIED
                    || g.state() == BlindIndex.State.PREVIOUS);
            if (rotating) {
                log.warn("An index key rotation is unfinished (generation {}): searches use both keys until"
                        + " 'kiroku keys rotate-index' is run again to complete it", current.gen());
            } else if (!current.reindexDone()) {
                log.info("Building the search index under index key {} for {} resources", current.gen(),
                        countAfter(current.cursorType(), current.cursorId()));
                long n = reindex(current, x -> { });
                blind.reindexDone(current.gen());
                log.info("Search index built: {} resources", n);
            }
            return null;
        });
    }

    /**
     * Rotates the index key, online: (1) a new key that searches match, (2) writes move to it, (3) every resource is
     * re-indexed under it, (4) the old key is no longer searched and is destroyed. Between steps it waits until every
     * process has seen the change. Run again after a crash, it continues where the last run stopped.
     */
    public Rotation rotate(Agent by, LongConsumer progress) {
        return withLock(() -> {
            var underway = blind.rotating();
            boolean resumed = underway.isPresent();
            BlindIndex.Generation g = underway.orElseGet(blind::addQueried);
            audit.record(AuditRecord.of(by, "index-key.rotate", AuditRecord.Outcome.SUCCESS)
                    .withDetail((resumed ? "resumed" : "started") + " generation=" + g.gen()));
            if (g.state() == BlindIndex.State.QUERIED) {
                settle();
                blind.makeCurrent(g.gen());
            }
            settle();
            g = blind.list().stream().filter(x -> x.state() == BlindIndex.State.CURRENT).findFirst().orElseThrow();
            long n = reindex(g, progress);
            blind.reindexDone(g.gen());
            List<Integer> retired = blind.retirePrevious(by.kind().code() + ":" + by.id());
            blind.reload();
            audit.record(AuditRecord.of(by, "index-key.rotate", AuditRecord.Outcome.SUCCESS)
                    .withDetail("completed generation=" + g.gen() + " reindexed=" + n + " retired=" + retired));
            return new Rotation(g.gen(), g.reindexed() + n, retired, resumed);
        });
    }

    /** The resources a rotation (begun or to begin) still has to re-index, for a progress bar. */
    public long remaining() {
        var g = blind.rotating();
        return countAfter(g.map(BlindIndex.Generation::cursorType).orElse(null), g.map(BlindIndex.Generation::cursorId).orElse(null));
    }

    private long countAfter(String type, String id) {
        return type == null
                ? jdbc.queryForObject("SELECT count(*) FROM resource_current WHERE NOT deleted", Long.class)
                : jdbc.queryForObject("SELECT count(*) FROM resource_current WHERE NOT deleted AND (res_type, res_id) > (?, ?)",
                        Long.class, type, id);
    }

    private void settle() {
        try {
            blind.settle();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for other processes to see the new index key", e);
        }
    }

    /** Re-indexes the resources after the generation's cursor; returns how many. */
    private long reindex(BlindIndex.Generation g, LongConsumer progress) {
        String[] cursor = {g.cursorType(), g.cursorId()};
        long total = 0;
        while (true) {
            Integer n = batch(g.gen(), cursor);
            if (n == 0) {
                return total;
            }
            total += n;
            progress.accept(n);
        }
    }

    /**
     * One batch in one transaction. Rows are locked without waiting (a writer holding one makes the batch start over
     * a moment later), so that a body read here cannot be overtaken by a newer version's index rows.
     */
    private Integer batch(int gen, String[] cursor) {
        for (int attempt = 0; ; attempt++) {
            try {
                return tx.execute(t -> {
                    List<ResourceKey> keys = cursor[0] == null
                            ? jdbc.query("SELECT res_type, res_id FROM resource_current WHERE NOT deleted ORDER BY res_type,"
                                    + " res_id LIMIT " + batch + " FOR UPDATE NOWAIT", (rs, i) -> new ResourceKey(rs.getString(1),
                                    rs.getString(2)))
                            : jdbc.query("SELECT res_type, res_id FROM resource_current WHERE NOT deleted AND (res_type, res_id)"
                                    + " > (?, ?) ORDER BY res_type, res_id LIMIT " + batch + " FOR UPDATE NOWAIT",
                                    (rs, i) -> new ResourceKey(rs.getString(1), rs.getString(2)), cursor[0], cursor[1]);
                    if (keys.isEmpty()) {
                        return 0;
                    }
                    List<SearchIndex.Entry> entries = store.currentAll(keys).stream().map(this::entry).toList();
                    index.replace(entries);
                    ResourceKey last = keys.get(keys.size() - 1);
                    blind.advance(gen, last.type(), last.id(), keys.size());
                    cursor[0] = last.type();
                    cursor[1] = last.id();
                    return keys.size();
                });
            } catch (PessimisticLockingFailureException busy) {
                if (attempt > 600) {
                    throw busy;
                }
                sleep(50);
            }
        }
    }

    private SearchIndex.Entry entry(StoredVersion v) {
        IBaseResource r = ctx.newJsonParser().parseResource(new String(v.body(), java.nio.charset.StandardCharsets.UTF_8));
        return new SearchIndex.Entry(new ResourceKey(v.type(), v.id()), v.patientKey(), index.extract(r), false);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** One rebuild or rotation at a time across processes (a session advisory lock held on one connection). */
    private <T> T withLock(java.util.function.Supplier<T> work) {
        return jdbc.execute((java.sql.Connection con) -> {
            try (var s = con.createStatement()) {
                s.execute("SELECT pg_advisory_lock(hashtext('kiroku.index-rebuild'))");
            }
            try {
                return work.get();
            } finally {
                try (var s = con.createStatement()) {
                    s.execute("SELECT pg_advisory_unlock(hashtext('kiroku.index-rebuild'))");
                }
            }
        });
    }
}
