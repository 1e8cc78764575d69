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

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;

/**
 * Data keys, one per owner ({@link #patient}, {@link #facility}), created at first use, stored wrapped by the
 * {@link KeyProvider} and kept unwrapped in memory for a short while. Destroying an owner's key (crypto-shredding)
 * makes everything sealed under it unreadable everywhere, backups included, and is final.
 */
public class DataKeys {

    private final JdbcTemplate jdbc;
    private final KeyProvider master;
    private final AuditTrail audit;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final Cache<String, byte[]> unwrapped;

    /**
     * @param cacheFor how long an unwrapped key is kept in memory: also how long another process may still use a key
     *                 after it was destroyed here (this process forgets it at once)
     */
    public DataKeys(JdbcTemplate jdbc, KeyProvider master, AuditTrail audit, Clock clock, java.time.Duration cacheFor) {
        this.unwrapped = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(cacheFor).build();
        this.jdbc = jdbc;
        this.master = master;
        this.audit = audit;
        this.clock = clock;
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
        List<byte[]> found = stored(owner);
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
        if (found.isEmpty() || found.get(0) == null) {
            throw new IllegalStateException("the data key of " + owner + " was destroyed: its records cannot be read"
                    + " or written any more");
        }
        byte[] key = master.unwrap(found.get(0), owner);
        if (!created || !TransactionSynchronizationManager.isActualTransactionActive()) {
            unwrapped.put(owner, key);
        }
        return key;
    }

    private List<byte[]> stored(String owner) {
        return jdbc.query("SELECT wrapped FROM data_key WHERE owner = ?", (rs, i) -> rs.getBytes(1), owner);
    }

    /** Destroys the owner's key: the wrapped bytes go, the row stays as the disposal register. True if it existed. */
    public boolean destroy(String owner, Agent by) {
        int n = jdbc.update("UPDATE data_key SET wrapped = NULL, destroyed_at = ?, destroyed_by = ? WHERE owner = ?"
                + " AND wrapped IS NOT NULL", Timestamp.from(clock.instant()), by.kind().code() + ":" + by.id(), owner);
        unwrapped.invalidate(owner);
        String patient = owner.startsWith("patient:") ? owner.substring("patient:".length()) : null;
        audit.record(AuditRecord.of(by, "key.destroy", n == 1 ? AuditRecord.Outcome.SUCCESS : AuditRecord.Outcome.FAILED)
                .on(patient == null ? null : "Patient", patient, null, patient)
                .withDetail("owner=" + (patient == null ? owner : "patient")));
        return n == 1;
    }
}
