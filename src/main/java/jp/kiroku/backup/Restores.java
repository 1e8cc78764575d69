package jp.kiroku.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationVersion;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.crypto.DataKeys;
import jp.kiroku.ledger.Checkpoint;
import jp.kiroku.ledger.Ledgers;
import jp.kiroku.platform.DatabaseRuntime;

/**
 * Restores a generation (with the generations it continues) into an empty database (BACKUP-04), then brings the
 * schema up to this version, destroys again any data key a disposal destroyed after the backup, verifies the
 * ledgers and writes the damage report. Refused while a server runs on the same database: a restore is offline.
 */
@Service
public class Restores {

    private final Backups backups;
    private final BackupChecks checks;
    private final Ledgers ledgers;
    private final DataKeys dataKeys;
    private final ObjectProvider<Flyway> flyway;
    private final AuditTrail audit;
    private final DatabaseRuntime database;
    private final JdbcTemplate jdbc;
    private final Clock clock;

    Restores(Backups backups, BackupChecks checks, Ledgers ledgers, DataKeys dataKeys, ObjectProvider<Flyway> flyway,
             AuditTrail audit, DatabaseRuntime database, JdbcTemplate jdbc, Clock clock) {
        this.backups = backups;
        this.checks = checks;
        this.ledgers = ledgers;
        this.dataKeys = dataKeys;
        this.flyway = flyway;
        this.audit = audit;
        this.database = database;
        this.jdbc = jdbc;
        this.clock = clock;
    }

    /** What a restore did: the chain loaded, rows per table, the ledger verification and the damage report. */
    public record Restored(List<Path> chain, Manifest manifest, Map<String, Long> rows, Ledgers.Verification verification,
                           DamageReport damage, List<String> keysDestroyedAgain, Duration took, Duration loading, Duration verifying) {
    }

    /**
     * The generation to restore from {@code from} (a generation, or a target directory: its newest generation, or the
     * newest at or before {@code toPosition} (records ledger size) or {@code toTime}).
     */
    public static Path choose(Path from, Long toPosition, Instant toTime) throws IOException {
        if (Files.isRegularFile(from.resolve(Manifest.FILE))) {
            return from;
        }
        Path chosen = null;
        for (Path g : Targets.generations(from)) {
            Manifest m = Manifest.read(g);
            if ((toPosition == null || m.position() <= toPosition) && (toTime == null || !m.started().isAfter(toTime))) {
                chosen = g;
            }
        }
        if (chosen == null) {
            throw new IllegalArgumentException("no backup generation in " + from
                    + (toPosition != null || toTime != null ? " at or before the position or time asked for" : ""));
        }
        return chosen;
    }

    /** The plain bytes of the chain that ends at {@code generation} (what a progress bar counts). */
    public static long plainBytes(Path generation) throws IOException {
        long n = 0;
        for (Path g : Restorer.chain(generation.toAbsolutePath().getParent(), generation)) {
            n += Manifest.read(g).totals().plainBytes();
        }
        return n;
    }

    /** The id of a generation (from its manifest). */
    public static String generationId(Path generation) throws IOException {
        return Manifest.read(generation).id();
    }

    /** The schema version the generation needs the empty database migrated to before it is loaded. */
    public static String schemaVersion(Path generation) throws IOException {
        return Manifest.read(generation).schemaVersion();
    }

    /**
     * Restores; {@code external} are signed checkpoints kept outside (for the damage report), {@code damagedDbUrl}
     * the damaged system's database if it can still be read (JDBC URL with its credentials), else null.
     */
    public Restored restore(Path generation, List<String> external, String damagedDbUrl, Agent by, LongConsumer progress)
            throws IOException {
        Instant started = clock.instant();
        if (database.isSharedWithServer() || Boolean.TRUE.equals(jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM"
                + " pg_stat_activity WHERE application_name = 'kiroku-serve' AND datname = current_database())", Boolean.class))) {
            throw new IllegalStateException("a Kiroku server is running on this database: stop it first (a restore is"
                    + " offline)");
        }
        Path target = generation.toAbsolutePath().getParent();
        List<Path> chain = Restorer.chain(target, generation);
        List<Restorer.Link> links = new ArrayList<>();
        for (Path g : chain) {
            Manifest m = Manifest.read(g);
            List<String> problems = new ArrayList<>();
            checks.signature(g, m, problems);
            byte[] key = checks.key(g, m, problems);
            if (!problems.isEmpty()) {
                throw new IllegalStateException("refusing to restore: " + String.join("; ", problems));
            }
            links.add(new Restorer.Link(g, m, key));
        }
        Manifest last = links.get(links.size() - 1).manifest();
        Map<String, Long> rows;
        Instant loadStarted = clock.instant();
        try (Connection c = backups.connect()) {
            rows = Restorer.load(c, links, progress);
        } catch (SQLException | RuntimeException e) {
            throw new IllegalStateException("the restore failed and was rolled back, nothing was loaded: "
                    + e.getMessage(), e);
        }
        Flyway f = flyway.getIfAvailable();
        if (f != null) {
            Flyway.configure().configuration(f.getConfiguration()).target(MigrationVersion.LATEST).load().migrate();
        }
        Duration loading = Duration.between(loadStarted, clock.instant());
        List<String> destroyed = dataKeys.destroyRevived();
        Instant verifyStarted = clock.instant();
        // against the checkpoints the backup holds: those kept outside are newer, the damage report compares with them
        Ledgers.Verification v = ledgers.verify(List.of(), n -> { });
        Duration verifying = Duration.between(verifyStarted, clock.instant());
        DamageReport damage;
        List<Checkpoint> known = new ArrayList<>();
        for (String note : external) {
            known.add(ledgers.checkpoint(note));
        }
        try (Connection damaged = damagedDbUrl == null ? null : DriverManager.getConnection(damagedDbUrl)) {
            if (damaged != null) {
                damaged.setReadOnly(true);
                known.addAll(damagedCheckpoints(damaged));
            }
            damage = DamageReport.compute(links.get(links.size() - 1).generation().getFileName().toString(), last,
                    known, ledgers, jdbc, damaged);
        } catch (SQLException e) {
            throw new IllegalStateException("the damaged system's database cannot be read: " + e.getMessage(), e);
        }
        audit.record(AuditRecord.of(by, "backup.restore", v.ok() ? AuditRecord.Outcome.SUCCESS : AuditRecord.Outcome.FAILED)
                .withDetail(chain.size() + " generation(s) up to " + generation.getFileName() + "; ledgers " + v.summary()
                        + "; damage: " + damage.logs().stream().map(l -> l.origin() + " " + l.status() + " " + l.lost())
                        .toList()));
        return new Restored(chain, last, rows, v, damage, destroyed, Duration.between(started, clock.instant()), loading,
                verifying);
    }

    /** The damaged system's newest checkpoints, when their signatures verify with this installation's key. */
    private List<Checkpoint> damagedCheckpoints(Connection damaged) throws SQLException {
        List<Checkpoint> out = new ArrayList<>();
        try (var st = damaged.createStatement();
             var rs = st.executeQuery("SELECT DISTINCT ON (log) note FROM ledger_checkpoint ORDER BY log, size DESC")) {
            while (rs.next()) {
                try {
                    out.add(ledgers.checkpoint(rs.getString(1)));
                } catch (RuntimeException e) {
                    // a checkpoint that does not verify is not evidence
                }
            }
        }
        return out;
    }
}
