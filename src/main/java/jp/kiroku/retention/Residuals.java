package jp.kiroku.retention;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.crypto.DataKeys;
import jp.kiroku.crypto.Envelope;
import jp.kiroku.platform.ConnectionInfo;
import jp.kiroku.platform.DatabaseRuntime;
import jp.kiroku.search.SearchIndex;

/**
 * What a disposal leaves behind, and removing it (DISP-02: "no readable information remains").
 * <ul>
 * <li>{@link #compact}: rewrites the tables a disposal touched ({@code VACUUM (FULL, ANALYZE)} as their owner: the
 * removed rows' bytes leave the files) and, on the embedded cluster, the statistics catalog, then switches and
 * checkpoints the WAL twice so that segments holding the removed rows are deleted. It locks each table while it is
 * rewritten: run it in a quiet hour.</li>
 * <li>{@link #scan}: looks for given canary values — as written and in every keyed-hash form the index could hold them —
 * in the database's files (tables, WAL) and in any other directories named (backups, exports); checks that every
 * disposed patient's data key is destroyed; and tries every remaining sealed item of a disposed patient with every
 * key Kiroku holds (none may open).</li>
 * </ul>
 */
@Service
public class Residuals {

    /** The tables whose rows a disposal removes or replaces. */
    private static final List<String> TOUCHED = List.of("resource_version", "resource_current", "resource_reference",
            "search_token", "search_string", "search_date", "search_reference", "search_number", "search_quantity",
            "search_uri", "search_composite", "care_relation", "consent_restriction", "consent_share", "data_key");

    /** One thing the scan looked at: what, and what it found (empty = nothing). */
    public record Check(String what, List<String> found) {
        public boolean clean() {
            return found.isEmpty();
        }
    }

    private final JdbcTemplate jdbc;
    private final DatabaseRuntime database;
    private final SearchIndex search;
    private final DataKeys keys;
    private final AuditTrail audit;
    private final jp.kiroku.platform.KirokuProperties props;
    private final jp.kiroku.platform.ProcessRole role;
    private java.util.concurrent.ScheduledExecutorService background;

    Residuals(JdbcTemplate jdbc, DatabaseRuntime database, SearchIndex search, DataKeys keys, AuditTrail audit,
              jp.kiroku.platform.KirokuProperties props,
              @org.springframework.beans.factory.annotation.Value("${kiroku.runtime.role:serve}") jp.kiroku.platform.ProcessRole role) {
        this.jdbc = jdbc;
        this.database = database;
        this.search = search;
        this.keys = keys;
        this.audit = audit;
        this.props = props;
        this.role = role;
    }

    /** The server compacts daily at {@code kiroku.compact-at} when a disposal ran since the last compaction. */
    @org.springframework.context.event.EventListener(org.springframework.boot.context.event.ApplicationReadyEvent.class)
    void schedule() {
        if (role != jp.kiroku.platform.ProcessRole.SERVE) {
            return;
        }
        background = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kiroku-compaction");
            t.setDaemon(true);
            return t;
        });
        var now = java.time.ZonedDateTime.now(props.getTimeZone());
        var next = now.with(props.getCompactAt());
        if (!next.isAfter(now)) {
            next = next.plusDays(1);
        }
        background.scheduleAtFixedRate(() -> {
            try {
                compactIfDisposed(Agent.localOperator());
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(Residuals.class).error("Scheduled compaction failed: {}", e.getMessage());
            }
        }, java.time.Duration.between(now, next).toMillis(), java.time.Duration.ofDays(1).toMillis(),
                java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    @jakarta.annotation.PreDestroy
    void stop() {
        if (background != null) {
            background.shutdownNow();
        }
    }

    /**
     * Compacts when a patient was disposed of after the last compaction; returns what was done, or empty when there was
     * nothing to do. (Two servers doing it at once only wait on each other's table locks.)
     */
    public java.util.Optional<List<String>> compactIfDisposed(Agent by) {
        Boolean due = jdbc.queryForObject("SELECT coalesce((SELECT max(done_at) FROM disposal_patient WHERE skipped IS NULL)"
                + " > coalesce((SELECT max(recorded) FROM audit_log WHERE action = 'disposal.compact'), '-infinity'), false)",
                Boolean.class);
        if (!Boolean.TRUE.equals(due)) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(compact(by));
    }

    /** Rewrites the touched tables and removes old WAL; returns what was done, step by step. */
    public List<String> compact(Agent by) {
        List<String> done = new ArrayList<>();
        ConnectionInfo owner = database.owner();
        try (Connection c = DriverManager.getConnection(owner.url(), owner.user(), owner.password());
             Statement s = c.createStatement()) {
            for (String table : TOUCHED) {
                s.execute("VACUUM (FULL, ANALYZE) " + table);
                done.add("rewrote " + table);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot rewrite the tables as their owner: " + e.getMessage(), e);
        }
        var superuser = database.superuser();
        if (superuser.isPresent()) {
            try (Connection c = DriverManager.getConnection(superuser.get().url(), superuser.get().user(), superuser.get().password());
                 Statement s = c.createStatement()) {
                s.execute("VACUUM FULL pg_catalog.pg_statistic"); // the statistics sample column values
                done.add("rewrote pg_statistic");
                for (int i = 0; i < 2; i++) {
                    s.execute("CHECKPOINT");
                    s.execute("SELECT pg_switch_wal()");
                }
                s.execute("CHECKPOINT");
                done.add("removed the WAL written before (two switches and checkpoints)");
            } catch (SQLException e) {
                throw new IllegalStateException("Cannot clean the statistics and the WAL: " + e.getMessage(), e);
            }
        } else {
            done.add("an external server: its administrator must rewrite pg_statistic and let old WAL segments go"
                    + " (CHECKPOINT, pg_switch_wal, archive retention)");
        }
        audit.record(AuditRecord.of(by, "disposal.compact", AuditRecord.Outcome.SUCCESS).withDetail(done.size() + " steps"));
        return done;
    }

    /** The scan: clean when every check found nothing. */
    public List<Check> scan(List<String> canaries, List<Path> elsewhere, Agent by) throws IOException {
        List<Check> checks = new ArrayList<>();
        List<Path> roots = new ArrayList<>(elsewhere);
        database.clusterFiles().ifPresent(roots::add);
        Map<String, String> needles = new LinkedHashMap<>(); // hash or text -> the canary it stands for
        for (String canary : canaries) {
            search.storedForms(canary).forEach(h -> needles.put(h, canary + " (keyed hash)"));
        }
        for (Path root : roots) {
            List<String> found = new ArrayList<>();
            try (Stream<Path> walk = Files.walk(root)) {
                for (Path f : walk.filter(Files::isRegularFile).toList()) {
                    for (String hit : hits(f, canaries, needles)) {
                        found.add(hit + " in " + root.relativize(f));
                    }
                }
            }
            checks.add(new Check("canaries in the files under " + root, found));
        }
        if (database.clusterFiles().isEmpty()) {
            checks.add(new Check("the database's files: an external server, not readable from here (scan its data"
                    + " directory and WAL archive with --path on its host)", List.of()));
        }
        List<String> disposed = jdbc.queryForList("SELECT patient_key FROM disposal_patient WHERE done_at IS NOT NULL AND"
                + " skipped IS NULL AND key_id IS NOT NULL ORDER BY done_at", String.class); // patients disposed of entirely
        List<String> keysLeft = new ArrayList<>();
        for (String patient : disposed) {
            Boolean destroyed = jdbc.query("SELECT wrapped IS NULL FROM data_key WHERE owner = ?", (rs, i) -> rs.getBoolean(1),
                    DataKeys.patient(patient)).stream().findFirst().orElse(true);
            if (!destroyed) {
                keysLeft.add("Patient/" + patient + ": its data key is still wrapped in data_key");
            }
        }
        checks.add(new Check("wrapped keys of the " + disposed.size() + " disposed patients (the key store holds master keys"
                + " only; key store backups: none made by Kiroku yet)", keysLeft));
        checks.add(new Check("sealed items of disposed patients opening with a key Kiroku holds", opened(disposed)));
        long findings = checks.stream().filter(c -> !c.clean()).count();
        audit.record(AuditRecord.of(by, "disposal.residual-scan", findings == 0 ? AuditRecord.Outcome.SUCCESS
                : AuditRecord.Outcome.FAILED).withDetail(checks.size() + " checks, " + findings + " with findings"));
        return checks;
    }

    /** Every ciphertext of a disposed patient still stored (versions, break-glass words) against every key held. */
    private List<String> opened(List<String> disposed) {
        List<String> out = new ArrayList<>();
        List<String> owners = jdbc.queryForList("SELECT owner FROM data_key WHERE wrapped IS NOT NULL", String.class);
        for (String patient : disposed) {
            List<Object[]> sealed = new ArrayList<>();
            jdbc.query("SELECT res_type || '/' || res_id || '/_history/' || version_id, body FROM resource_version"
                    + " WHERE patient_key = ? AND body IS NOT NULL", rs -> {
                        sealed.add(new Object[] {rs.getString(1), rs.getBytes(2)});
                    }, patient);
            jdbc.query("SELECT 'break_glass/' || id, reason_sealed FROM break_glass WHERE patient_key = ? AND reason_sealed"
                    + " IS NOT NULL", rs -> {
                        sealed.add(new Object[] {rs.getString(1), rs.getBytes(2)});
                    }, patient);
            for (Object[] item : sealed) {
                for (String owner : owners) {
                    try {
                        Envelope.open(keys.keyFor(owner), (byte[]) item[1], (String) item[0]);
                        out.add(item[0] + " of Patient/" + patient + " opens with the key of " + owner);
                    } catch (IllegalStateException expected) {
                        // does not open: as it should be
                    }
                }
            }
        }
        return out;
    }

    /** The canaries (as text) and hashes found in one file. */
    private static Set<String> hits(Path file, List<String> canaries, Map<String, String> hashes) throws IOException {
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (NoSuchFileException gone) {
            return Set.of();
        }
        Set<String> found = new java.util.LinkedHashSet<>();
        String bytes = new String(content, StandardCharsets.ISO_8859_1); // one char per byte: String search finds bytes
        for (String canary : canaries) {
            if (bytes.contains(new String(canary.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1))) {
                found.add(canary + " (as text)");
            }
        }
        // keyed hashes are 22 base64url characters: check each such window against the set
        int run = 0;
        for (int i = 0; i < content.length; i++) {
            byte b = content[i];
            boolean base64 = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '-' || b == '_';
            run = base64 ? run + 1 : 0;
            if (run >= 22) {
                String window = new String(content, i - 21, 22, StandardCharsets.US_ASCII);
                String canary = hashes.get(window);
                if (canary != null) {
                    found.add(canary);
                }
            }
        }
        return found;
    }
}
