package jp.kiroku.crypto;

import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.List;
import java.util.UUID;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionSynchronizationManager;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

/**
 * Data keys, one per owner ({@link #patient}, {@link #facility}), created at first use, stored wrapped by the
 * {@link KeyProvider} and kept unwrapped in memory for a short while. Destroying an owner's key (crypto-shredding)
 * makes everything sealed under it unreadable everywhere, backups included, and is final.
 */
public class DataKeys {

    private final JdbcTemplate jdbc;
    private final KeyProvider master;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final Cache<String, byte[]> unwrapped;

    /**
     * @param cacheFor how long an unwrapped key is kept in memory: also how long another process may still use a key
     *                 after it was destroyed here (this process forgets it at once)
     */
    public DataKeys(JdbcTemplate jdbc, KeyProvider master, Clock clock, java.time.Duration cacheFor) {
        this.unwrapped = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(cacheFor).build();
        this.jdbc = jdbc;
        this.master = master;
        this.clock = clock;
        jdbc.query("SELECT destroyed_at FROM data_key WHERE owner = ?", (org.springframework.jdbc.core.RowCallbackHandler) rs -> {
            throw new IllegalStateException("This installation was decommissioned on " + rs.getTimestamp(1).toInstant()
                    + ": every key is destroyed and its records cannot be read; Kiroku does not start on it again");
        }, DECOMMISSIONED);
        destroyRevived();
    }

    /**
     * A restore never revives a destroyed key: every data key the master key's register lists as destroyed, but that
     * the database holds wrapped (a database restored from before a disposal), is destroyed again. Returns the owners.
     */
    public List<String> destroyRevived() {
        java.util.Set<String> destroyed = master.destroyedKeyIds();
        if (destroyed.isEmpty()) {
            return List.of();
        }
        List<String> revived = jdbc.queryForList("SELECT owner FROM data_key WHERE wrapped IS NOT NULL AND key_id::text ="
                + " ANY(?::text[])", String.class, (Object) destroyed.toArray(String[]::new));
        for (String owner : revived) {
            jdbc.update("UPDATE data_key SET wrapped = NULL, destroyed_at = coalesce(destroyed_at, ?), destroyed_by ="
                    + " coalesce(destroyed_by, 'register') WHERE owner = ?", Timestamp.from(clock.instant()), owner);
            unwrapped.invalidate(owner);
            org.slf4j.LoggerFactory.getLogger(DataKeys.class).warn("The data key of {} was destroyed by a disposal but is in"
                    + " the database again (a restore from before it?): destroyed again", owner.startsWith("patient:")
                    ? "a disposed patient" : owner);
        }
        return revived;
    }

    /** The register row that marks the installation as decommissioned. */
    private static final String DECOMMISSIONED = "installation:decommissioned";

    /**
     * Decommissioning: every data key destroyed at once and the installation marked, so that no process starts on it
     * again. Returns how many keys were destroyed. (The master key goes with {@link KeyProvider#destroyAll}.)
     */
    public int destroyAll(String by) {
        Timestamp now = Timestamp.from(clock.instant());
        int n = jdbc.update("UPDATE data_key SET wrapped = NULL, destroyed_at = ?, destroyed_by = ? WHERE wrapped IS NOT NULL",
                now, by);
        jdbc.update("INSERT INTO data_key (owner, key_id, wrapped, master_key_id, created_at, destroyed_at, destroyed_by)"
                + " VALUES (?, ?, NULL, 'none', ?, ?, ?) ON CONFLICT (owner) DO NOTHING", DECOMMISSIONED, UUID.randomUUID(),
                now, now, by);
        unwrapped.invalidateAll();
        return n;
    }

    /** Data keys still wrapped (for a decommissioning certificate: none may be left). */
    public long wrappedLeft() {
        return jdbc.queryForObject("SELECT count(*) FROM data_key WHERE wrapped IS NOT NULL", Long.class);
    }

    public static String patient(String patientKey) {
        return "patient:" + patientKey;
    }

    public static String facility(String facility) {
        return "facility:" + facility;
    }

    /**
     * The owner's key, created when it has none (in the caller's transaction: if that rolls back, the key goes with
     * what it sealed, and it is not cached before it is committed); refused once destroyed.
     */
    public byte[] keyFor(String owner) {
        byte[] known = unwrapped.getIfPresent(owner);
        if (known != null) {
            return known;
        }
        List<Wrapped> found = stored(owner);
        boolean created = false;
        if (found.isEmpty()) {
            byte[] key = new byte[32];
            random.nextBytes(key);
            // a concurrent creator's insert makes this one wait and then do nothing: both use the stored key
            created = jdbc.update("INSERT INTO data_key (owner, key_id, wrapped, master_key_id, created_at)"
                    + " VALUES (?,?,?,?,?) ON CONFLICT (owner) DO NOTHING", owner, UUID.randomUUID(),
                    master.wrap(key, owner), master.masterKeyId(), Timestamp.from(clock.instant())) == 1;
            found = stored(owner);
        }
        if (found.isEmpty() || found.get(0).bytes() == null) {
            throw new IllegalStateException("the data key of " + owner + " was destroyed: its records cannot be read"
                    + " or written any more");
        }
        byte[] key = master.unwrap(found.get(0).bytes(), owner, found.get(0).masterKeyId());
        if (!created || !TransactionSynchronizationManager.isActualTransactionActive()) {
            unwrapped.put(owner, key);
        }
        return key;
    }

    private record Wrapped(String owner, byte[] bytes, String masterKeyId) {
    }

    private List<Wrapped> stored(String owner) {
        // the primary even inside a replica read: a key destroyed there must not be cached from a replica behind it
        return jp.kiroku.platform.ReadReplica.onPrimary(() -> jdbc.query(
                "SELECT owner, wrapped, master_key_id FROM data_key WHERE owner = ?", WRAPPED, owner));
    }

    private static final org.springframework.jdbc.core.RowMapper<Wrapped> WRAPPED = (rs, i) -> new Wrapped(rs.getString(1),
            rs.getBytes(2), rs.getString(3));

    /** What a master key rotation did: the new master key, the data keys re-wrapped, the master keys removed. */
    public record MasterRotation(String masterKeyId, long rewrapped, List<String> removed, boolean resumed,
                                 List<String> unreadable) {
    }

    /**
     * Rotates the master key, online: a new master key (unless a rotation is unfinished: then it continues), a moment
     * for other processes' wraps in flight, every data key re-wrapped under it in batches (each row by itself, so a
     * crash loses nothing and a second run continues), then the older master keys are removed from the key store.
     * Destroyed keys stay destroyed: only rows that still hold a wrapped key are touched. A wrapped key that does not
     * unwrap (altered, or not wrapped by this key store) is left as it is and named, and then no master key is removed.
     */
    public MasterRotation rotateMaster(java.util.function.LongConsumer progress, java.time.Duration grace)
            throws InterruptedException {
        String current = master.masterKeyId();
        boolean resumed = master.masterKeyIds().size() > 1;
        if (!resumed) {
            current = master.addMasterKey();
            Thread.sleep(grace.toMillis()); // another process that read the old store just before may still be wrapping
        }
        long rewrapped = 0;
        List<String> unreadable = new java.util.ArrayList<>();
        while (true) {
            List<Wrapped> rows = jdbc.query("SELECT owner, wrapped, master_key_id FROM data_key WHERE wrapped IS NOT NULL"
                    + " AND master_key_id <> ? AND owner <> ALL(?::text[]) ORDER BY owner LIMIT 500", WRAPPED, current,
                    unreadable.toArray(String[]::new));
            if (rows.isEmpty()) {
                break;
            }
            List<Wrapped> batch = new java.util.ArrayList<>();
            for (Wrapped w : rows) {
                try {
                    batch.add(new Wrapped(w.owner(), master.wrap(master.unwrap(w.bytes(), w.owner(), w.masterKeyId()), w.owner()),
                            w.masterKeyId()));
                } catch (IllegalStateException e) {
                    unreadable.add(w.owner());
                }
            }
            String target = current;
            int[][] n = jdbc.batchUpdate("UPDATE data_key SET wrapped = ?, master_key_id = ? WHERE owner = ? AND master_key_id = ?"
                    + " AND wrapped IS NOT NULL", batch, 500, (ps, w) -> {
                        ps.setBytes(1, w.bytes());
                        ps.setString(2, target);
                        ps.setString(3, w.owner());
                        ps.setString(4, w.masterKeyId());
                    });
            for (int[] chunk : n) {
                for (int c : chunk) {
                    rewrapped += Math.max(c, 0) > 0 ? 1 : 0;
                }
            }
            progress.accept(rows.size());
        }
        List<String> removed = new java.util.ArrayList<>();
        for (String id : master.masterKeyIds()) {
            if (!id.equals(current) && unreadable.isEmpty()) {
                master.removeMasterKey(id);
                removed.add(id);
            }
        }
        return new MasterRotation(current, rewrapped, removed, resumed, List.copyOf(unreadable));
    }

    /** The data keys a rotation (begun or to begin) still has to re-wrap, for a progress bar. */
    public long toRewrap() {
        return master.masterKeyIds().size() > 1
                ? jdbc.queryForObject("SELECT count(*) FROM data_key WHERE wrapped IS NOT NULL AND master_key_id <> ?",
                        Long.class, master.masterKeyId())
                : jdbc.queryForObject("SELECT count(*) FROM data_key WHERE wrapped IS NOT NULL", Long.class);
    }

    /**
     * Destroys the owner's key: the wrapped bytes go, the row stays as the disposal register. True if it existed. The
     * caller audits it ({@code by} is who did it, as the audit log names agents): the audit log itself seals with a
     * data key, so this module cannot depend on it.
     */
    public boolean destroy(String owner, String by) {
        jdbc.query("SELECT key_id FROM data_key WHERE owner = ? AND wrapped IS NOT NULL", (org.springframework.jdbc.core.RowCallbackHandler)
                rs -> master.recordDestroyed(rs.getString(1)), owner);
        int n = jdbc.update("UPDATE data_key SET wrapped = NULL, destroyed_at = ?, destroyed_by = ? WHERE owner = ?"
                + " AND wrapped IS NOT NULL", Timestamp.from(clock.instant()), by, owner);
        unwrapped.invalidate(owner);
        return n == 1;
    }
}
