package jp.kiroku.crypto;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Keyed hashes for the search index (the brief's blind index): HMAC-SHA-256 under the index key, cut to 128 bits and
 * written as 22 base64url characters. Equal inputs give equal hashes, so equality search works, and nothing in the
 * index can be read back or guessed without the key.
 * <p>
 * The key has generations (table {@code index_key}; each key is a {@link DataKeys} key of owner {@code index:<gen>}).
 * Writes hash under the current one; searches match every generation still in use, which is what lets a rotation
 * re-index online. Each process re-reads the generations every {@code refresh}, so a rotation run by another process
 * (the admin CLI) waits two refreshes between its steps ({@link #settle}).
 */
public class BlindIndex {

    public enum State { QUERIED, CURRENT, PREVIOUS, RETIRED }

    /** One generation as the table holds it; the cursor is the last resource re-indexed under it. */
    public record Generation(int gen, State state, String cursorType, String cursorId, long reindexed, boolean reindexDone) {
    }

    private record Loaded(List<Mac> queriedMacs, Mac currentMac, Instant at) {
    }

    private static final Base64.Encoder BASE64 = Base64.getUrlEncoder().withoutPadding();

    private final JdbcTemplate jdbc;
    private final DataKeys keys;
    private final Clock clock;
    private final Duration refresh;
    private volatile Loaded loaded;

    public BlindIndex(JdbcTemplate jdbc, DataKeys keys, Clock clock, Duration refresh) {
        this.jdbc = jdbc;
        this.keys = keys;
        this.clock = clock;
        this.refresh = refresh;
    }

    /** The hash stored for a value written now (under the current generation). */
    public String hash(String value) {
        return hash(generations().currentMac(), value);
    }

    /** The hashes a search compares with: one per generation in use, the current one first. */
    public String[] hashes(String value) {
        Loaded g = generations();
        String[] out = new String[g.queriedMacs().size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = hash(g.queriedMacs().get(i), value);
        }
        return out;
    }

    private static String hash(Mac prototype, String value) {
        try {
            Mac mac = (Mac) prototype.clone();
            byte[] full = mac.doFinal(value.getBytes(StandardCharsets.UTF_8));
            return BASE64.encodeToString(java.util.Arrays.copyOf(full, 16));
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
    }

    private Loaded generations() {
        Loaded g = loaded;
        return g != null && !stale(g) ? g : loadIfStale();
    }

    /** One reader re-reads them; threads that waited for it use what it read. */
    private synchronized Loaded loadIfStale() {
        Loaded g = loaded;
        return g != null && !stale(g) ? g : load();
    }

    private boolean stale(Loaded g) {
        return g.at().plus(refresh).isBefore(clock.instant());
    }

    /** Reads the generations now (also what a rotation calls after each of its steps, in its own process). */
    public synchronized void reload() {
        load();
    }

    private synchronized Loaded load() {
        List<Generation> all = list();
        if (all.stream().noneMatch(x -> x.state() == State.CURRENT)) {
            throw new IllegalStateException("there is no current index key: Kiroku creates one when it first starts");
        }
        List<Mac> macs = new ArrayList<>();
        Mac currentMac = null;
        for (Generation x : all.stream().sorted((a, b) -> Integer.compare(order(a.state()), order(b.state()))).toList()) {
            if (x.state() == State.RETIRED) {
                continue;
            }
            Mac mac = mac(keys.keyFor(owner(x.gen())));
            macs.add(mac);
            if (x.state() == State.CURRENT) {
                currentMac = mac;
            }
        }
        Loaded g = new Loaded(List.copyOf(macs), currentMac, clock.instant());
        loaded = g;
        return g;
    }

    private static int order(State s) {
        return s == State.CURRENT ? 0 : 1;
    }

    private static Mac mac(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA-256 is not available", e);
        }
    }

    static String owner(int gen) {
        return "index:" + gen;
    }

    /** Every generation, oldest first. */
    public List<Generation> list() {
        return jp.kiroku.platform.ReadReplica.onPrimary(() -> jdbc.query("SELECT gen, state, cursor_type, cursor_id, reindexed, reindex_done FROM index_key ORDER BY gen",
                (rs, i) -> new Generation(rs.getInt(1), State.valueOf(rs.getString(2).toUpperCase(java.util.Locale.ROOT)),
                        rs.getString(3), rs.getString(4), rs.getLong(5), rs.getBoolean(6))));
    }

    /**
     * The first generation, when there is none (a new installation, or one whose plain index was removed by the
     * migration to the blind index): current at once, and to be indexed by the caller from the start.
     */
    public boolean createFirst() {
        Timestamp now = Timestamp.from(clock.instant());
        int n = jdbc.update("INSERT INTO index_key (gen, state, created_at, changed_at) SELECT 1, 'current', ?, ?"
                + " WHERE NOT EXISTS (SELECT 1 FROM index_key)", now, now);
        if (n == 1) {
            keys.keyFor(owner(1));
        }
        return n == 1;
    }

    /** The generation a rotation is building (queried or current with a previous one still in use), if any. */
    public Optional<Generation> rotating() {
        List<Generation> all = list();
        Optional<Generation> queried = all.stream().filter(x -> x.state() == State.QUERIED).findFirst();
        if (queried.isPresent()) {
            return queried;
        }
        boolean previous = all.stream().anyMatch(x -> x.state() == State.PREVIOUS);
        return previous ? all.stream().filter(x -> x.state() == State.CURRENT).findFirst() : Optional.empty();
    }

    /** Rotation step 1: a new generation that searches match but writes do not use yet. */
    public Generation addQueried() {
        int gen = jdbc.queryForObject("SELECT coalesce(max(gen), 0) + 1 FROM index_key", Integer.class);
        Timestamp now = Timestamp.from(clock.instant());
        jdbc.update("INSERT INTO index_key (gen, state, created_at, changed_at) VALUES (?, 'queried', ?, ?)", gen, now, now);
        keys.keyFor(owner(gen));
        return list().stream().filter(x -> x.gen() == gen).findFirst().orElseThrow();
    }

    /** Rotation step 2: writes move to the new generation; the one it replaces stays searchable. */
    public void makeCurrent(int gen) {
        Timestamp now = Timestamp.from(clock.instant());
        jdbc.update("UPDATE index_key SET state = 'previous', changed_at = ? WHERE state = 'current' AND gen <> ?", now, gen);
        jdbc.update("UPDATE index_key SET state = 'current', changed_at = ? WHERE gen = ?", now, gen);
    }

    /** Records re-index progress (in the caller's transaction, with the rows it re-indexed). */
    public void advance(int gen, String cursorType, String cursorId, int count) {
        jdbc.update("UPDATE index_key SET cursor_type = ?, cursor_id = ?, reindexed = reindexed + ? WHERE gen = ?",
                cursorType, cursorId, count, gen);
    }

    public void reindexDone(int gen) {
        jdbc.update("UPDATE index_key SET reindex_done = true, changed_at = ? WHERE gen = ?", Timestamp.from(clock.instant()), gen);
    }

    /**
     * Rotation step 4: the generations before the current one are no longer searched and their keys are destroyed.
     * The generations whose keys were destroyed.
     */
    public List<Integer> retirePrevious(String by) {
        List<Integer> previous = list().stream().filter(x -> x.state() == State.PREVIOUS).map(Generation::gen).toList();
        for (int gen : previous) {
            jdbc.update("UPDATE index_key SET state = 'retired', changed_at = ? WHERE gen = ?", Timestamp.from(clock.instant()), gen);
            keys.destroy(owner(gen), by);
        }
        return previous;
    }

    /** Waits until every process has re-read the generations (two refresh periods), then re-reads them here. */
    public void settle() throws InterruptedException {
        Thread.sleep(refresh.multipliedBy(2).toMillis() + 100);
        reload();
    }
}
