package jp.kiroku.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;
import org.springframework.core.io.DefaultResourceLoader;
import org.springframework.core.io.Resource;

import jp.kiroku.platform.ClockCheck;
import jp.kiroku.platform.ConnectionInfo;
import jp.kiroku.platform.DatabaseRuntime;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.platform.ProcessRole;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code kiroku doctor}: checks an installation — configuration, database, keys, clock, disk, TLS — and prints each
 * finding as OK, WARN or FAIL with what to fix. Exit status 0 when everything is OK, 1 with warnings, 2 with failures.
 * It changes nothing: no migration, no key, no audit event (it reads what the installation holds). While a server runs
 * it reaches the database through the server's connection file; otherwise it starts the embedded cluster under the
 * data-directory lock, like any admin command, and stops it again.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = {"Check configuration, database, keys, clock, disk and TLS; print what to fix.",
                "Exit status: 0 all OK, 1 warnings, 2 failures."})
final class DoctorCommand implements Callable<Integer> {

    enum Status { OK, WARN, FAIL }

    /** One finding: its area, status, what was found and, unless OK, what to do. */
    record Finding(String area, Status status, String message, String fix) {
    }

    /** Free space below which the disk check fails, and below which (or below 10 % of the file system) it warns. */
    static final long FAIL_BELOW = 1L << 30;
    static final long WARN_BELOW = 10L << 30;
    /** Certificates that expire within this warn. */
    static final Duration CERTIFICATE_WARNING = Duration.ofDays(30);
    /** A key backup older than this warns (schedule it daily). */
    static final Duration KEY_BACKUP_WARNING = Duration.ofDays(2);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    KirokuCli.Common common = new KirokuCli.Common();

    @CommandLine.Unmatched
    List<String> settings = new ArrayList<>();

    private final List<Finding> findings = new ArrayList<>();

    @Override
    public Integer call() {
        PrintWriter out = KirokuCli.out(spec);
        ConfigurableApplicationContext ctx = null;
        try {
            ctx = KirokuCli.settingsContext(common, settings);
        } catch (RuntimeException e) {
            add("configuration", Status.FAIL, "the settings do not load: " + KirokuCli.rootMessage(e),
                    "correct the setting named (kiroku.yml in the data directory, KIROKU_* variables, --kiroku.* arguments;"
                            + " docs/configuration.md)");
        }
        if (ctx != null) {
            try (ConfigurableApplicationContext settingsOnly = ctx) {
                KirokuProperties props = settingsOnly.getBean(KirokuProperties.class);
                Environment env = settingsOnly.getEnvironment();
                out.println("Kiroku doctor: data directory " + props.getDataDir().toAbsolutePath());
                boolean dataDirOk = configuration(props, env);
                Database db = dataDirOk || props.getDb().isExternal() ? database(props)
                        : skipped("database", "the embedded database lives in the data directory");
                keys(props, db);
                clock(props);
                disk(props);
                tls(props, env);
            } catch (RuntimeException e) {
                add("doctor", Status.FAIL, "the checks stopped: " + KirokuCli.rootMessage(e), "report this, with the output above");
            }
        }
        for (Finding f : findings) {
            out.printf("%-5s %-14s %s%n", f.status(), f.area(), f.message());
            if (f.fix() != null && f.status() != Status.OK) {
                out.printf("%-20s→ %s%n", "", f.fix());
            }
        }
        long warnings = findings.stream().filter(f -> f.status() == Status.WARN).count();
        long failures = findings.stream().filter(f -> f.status() == Status.FAIL).count();
        out.println((failures > 0 ? "FAIL" : warnings > 0 ? "WARN" : "OK") + ": " + findings.size() + " checks, "
                + warnings + " warning(s), " + failures + " failure(s)");
        out.flush();
        return failures > 0 ? 2 : warnings > 0 ? 1 : 0;
    }

    private void add(String area, Status status, String message, String fix) {
        findings.add(new Finding(area, status, message, fix));
    }

    // ---- configuration -------------------------------------------------------------------------------------------

    /** Settings parse (else the context would not start), the data directory and its mode, the listen address. */
    private boolean configuration(KirokuProperties props, Environment env) {
        add("configuration", Status.OK, "settings load (kiroku.*: arguments, KIROKU_* environment, kiroku.yml)", null);
        Path dataDir = props.getDataDir().toAbsolutePath();
        boolean ok = true;
        if (!Files.isDirectory(dataDir)) {
            add("configuration", Status.FAIL, "data directory " + dataDir + " does not exist",
                    "create it for the service's user: install -d -m 0700 -o kiroku -g kiroku " + dataDir
                            + " (or set kiroku.data-dir / KIROKU_DATA_DIR)");
            ok = false;
        } else {
            privateDirectory("configuration", "data directory", dataDir,
                    "chmod 0700 " + dataDir + " (records, the embedded database and its passwords are there)", Status.FAIL);
        }
        String host = props.getHost();
        try {
            boolean loopback = InetAddress.getByName(host).isLoopbackAddress();
            if (!loopback && !KirokuProperties.tlsConfigured(env)) {
                add("configuration", Status.FAIL, "kiroku.host " + host + " is not loopback but TLS is not configured:"
                        + " serve refuses to start (NET-03)", "configure TLS (docs/operations.md, 'TLS') or listen on 127.0.0.1"
                        + " behind a TLS-terminating proxy on this host");
            } else {
                add("configuration", Status.OK, "listens on " + host + ":" + props.getPort()
                        + (loopback ? " (loopback)" : " with TLS"), null);
            }
        } catch (IOException e) {
            add("configuration", Status.FAIL, "kiroku.host '" + host + "' is not a known address", "set kiroku.host to an address of this machine");
        }
        return ok;
    }

    /** Mode of a directory holding secrets: {@code open} if others may enter it, WARN if the group may, else OK. */
    private void privateDirectory(String area, String what, Path dir, String fix, Status open) {
        Set<PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException | IOException e) {
            add(area, Status.WARN, what + " " + dir + ": its permissions cannot be read (" + e.getMessage() + ")", fix);
            return;
        }
        String mode = mode(perms);
        Set<PosixFilePermission> others = EnumSet.of(PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE,
                PosixFilePermission.OTHERS_EXECUTE);
        Set<PosixFilePermission> group = EnumSet.of(PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
                PosixFilePermission.GROUP_EXECUTE);
        if (!Collections.disjoint(perms, others)) {
            add(area, open, what + " " + dir + " is open to every user of this machine (mode " + mode + ")", fix);
        } else if (!Collections.disjoint(perms, group)) {
            add(area, Status.WARN, what + " " + dir + " is open to its group (mode " + mode + ")", fix);
        } else {
            add(area, Status.OK, what + " " + dir + " (mode " + mode + ")", null);
        }
    }

    static String mode(Set<PosixFilePermission> perms) {
        int m = 0;
        for (PosixFilePermission p : perms) {
            m |= 1 << (8 - p.ordinal());
        }
        return String.format("%04o", m);
    }

    // ---- database ------------------------------------------------------------------------------------------------

    /** What the database check learnt, for the keys check. */
    record Database(boolean reachable, long dataKeys, Instant lastKeyBackup) {
    }

    private Database skipped(String area, String why) {
        add(area, Status.FAIL, "not checked: " + why, "fix the findings above, then run kiroku doctor again");
        return new Database(false, 0, null);
    }

    private Database database(KirokuProperties props) {
        Path dataDir = props.getDataDir().toAbsolutePath();
        if (!props.getDb().isExternal() && !Files.isDirectory(dataDir.resolve("postgres"))
                && !Files.exists(dataDir.resolve("run").resolve("db.properties"))) {
            add("database", Status.WARN, "no embedded database in " + dataDir + " yet (kiroku.db.url is not set)",
                    "start kiroku serve once to create it, or set kiroku.db.url for an external PostgreSQL 15+ server");
            return new Database(false, 0, null);
        }
        DatabaseRuntime runtime;
        try {
            runtime = DatabaseRuntime.open(props, ProcessRole.ADMIN);
        } catch (RuntimeException e) {
            add("database", Status.FAIL, "cannot reach the database: " + KirokuCli.rootMessage(e),
                    props.getDb().isExternal() ? "check kiroku.db.url, user and password, and that the server accepts this host"
                            : "see the message; an embedded cluster left by a crash is recovered by the next start");
            return new Database(false, 0, null);
        }
        try (runtime) {
            ConnectionInfo app = runtime.connection();
            String where = runtime.isEmbedded() ? "embedded PostgreSQL (started for this check)"
                    : runtime.isSharedWithServer() && !props.getDb().isExternal() ? "embedded PostgreSQL of the running server"
                    : "external " + app.url().replaceAll("\\?.*", "");
            try (Connection c = DriverManager.getConnection(app.url(), app.user(), app.password());
                 Statement s = c.createStatement()) {
                int version = intValue(s, "SELECT current_setting('server_version_num')::int");
                if (version < 150000) {
                    add("database", Status.FAIL, "PostgreSQL " + version / 10000 + " at " + where + ": Kiroku needs 15 or newer",
                            "upgrade the server (pg_upgrade) to PostgreSQL 15 or newer");
                } else {
                    add("database", Status.OK, "reachable as " + app.user() + ": " + where + ", PostgreSQL " + version / 10000, null);
                }
                schema(runtime);
                privileges(s, runtime);
                long dataKeys = tableExists(s, "data_key") ? longValue(s, "SELECT count(*) FROM data_key") : 0;
                Instant lastKeyBackup = null;
                if (tableExists(s, "audit_log")) {
                    try (ResultSet rs = s.executeQuery("SELECT max(recorded) FROM audit_log WHERE action = 'keys.backup'"
                            + " AND outcome = 'success'")) {
                        rs.next();
                        java.sql.Timestamp t = rs.getTimestamp(1);
                        lastKeyBackup = t == null ? null : t.toInstant();
                    }
                }
                return new Database(true, dataKeys, lastKeyBackup);
            } catch (SQLException e) {
                add("database", Status.FAIL, "cannot query " + where + " as " + app.user() + ": " + e.getMessage(),
                        props.getDb().isExternal() ? "check kiroku.db.url, user and password, and that the server accepts"
                                + " this host" : "check the database role and password (docs/operations.md, 'Database roles')");
                return new Database(false, 0, null);
            }
        }
    }

    /** Flyway: is the schema at this Kiroku's version, with nothing failed or pending? */
    private void schema(DatabaseRuntime runtime) {
        ConnectionInfo owner = runtime.owner();
        try {
            MigrationInfoService info = Flyway.configure().dataSource(owner.url(), owner.user(), owner.password())
                    .locations("classpath:db/migration").load().info();
            MigrationInfo current = info.current();
            MigrationInfo[] all = info.all();
            String latest = all.length == 0 ? "?" : all[all.length - 1].getVersion().getVersion();
            long failed = java.util.Arrays.stream(all).filter(m -> m.getState().isFailed()).count();
            if (failed > 0) {
                add("database", Status.FAIL, failed + " migration(s) failed", "restore the backup taken before the upgrade"
                        + " (docs/operations.md, 'Upgrades'); migrations are forward-only");
            } else if (current == null) {
                add("database", Status.WARN, "the schema is empty: the first kiroku serve creates it (V" + latest + ")",
                        "start kiroku serve once");
            } else if (info.pending().length > 0) {
                add("database", Status.WARN, "schema at V" + current.getVersion().getVersion() + ", " + info.pending().length
                        + " migration(s) pending up to V" + latest, "take a backup, then start kiroku serve: it migrates at start"
                        + " (docs/operations.md, 'Upgrades')");
            } else {
                String v = current.getVersion().getVersion();
                if (!v.equals(latest)) {
                    add("database", Status.FAIL, "schema at V" + v + " is newer than this Kiroku (V" + latest + ")",
                            "run the Kiroku version that migrated this database; downgrades are not supported");
                } else {
                    add("database", Status.OK, "schema current (V" + v + ", no migration pending)", null);
                }
            }
        } catch (RuntimeException e) {
            add("database", Status.FAIL, "cannot read the migration history as " + owner.user() + ": " + KirokuCli.rootMessage(e),
                    "check kiroku.db.owner-user / owner-password");
        }
    }

    /** The application's role may not change the append-only (ledgered) tables nor the migration history. */
    private void privileges(Statement s, DatabaseRuntime runtime) throws SQLException {
        if (!runtime.hasSeparateOwner()) {
            add("database", Status.WARN, "the application's role " + runtime.connection().user()
                    + " owns the tables: it could change its own ledgers (verification would still detect it)",
                    "create an owner role and set kiroku.db.owner-user / owner-password (docs/operations.md, 'Database roles')");
            return;
        }
        List<String> wrong = new ArrayList<>();
        List<String> appendOnly = new ArrayList<>();
        try (ResultSet rs = s.executeQuery("SELECT DISTINCT r.relname, has_table_privilege(r.oid, 'UPDATE')"
                + " OR has_table_privilege(r.oid, 'DELETE') OR has_table_privilege(r.oid, 'TRUNCATE')"
                + " FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace"
                + " JOIN pg_proc f ON f.oid = t.tgfoid WHERE f.proname LIKE 'kiroku\\_refuse\\_change%'"
                + " AND n.nspname = current_schema() AND NOT t.tgisinternal ORDER BY 1")) {
            while (rs.next()) {
                appendOnly.add(rs.getString(1));
                if (rs.getBoolean(2)) {
                    wrong.add(rs.getString(1));
                }
            }
        }
        if (tableExists(s, "flyway_schema_history") && longValue(s, "SELECT count(*) FROM pg_class WHERE oid ="
                + " to_regclass('flyway_schema_history') AND (has_table_privilege(oid, 'INSERT')"
                + " OR has_table_privilege(oid, 'UPDATE') OR has_table_privilege(oid, 'DELETE'))") > 0) {
            wrong.add("flyway_schema_history");
        }
        if (!wrong.isEmpty()) {
            add("database", Status.FAIL, "the application's role " + runtime.connection().user()
                    + " may change " + String.join(", ", wrong), "start kiroku serve (it puts the privileges right after"
                    + " migrating) or REVOKE UPDATE, DELETE, TRUNCATE ON those tables FROM " + runtime.connection().user());
        } else {
            add("database", Status.OK, "role " + runtime.connection().user() + ": only SELECT and INSERT on the "
                    + appendOnly.size() + " append-only tables (" + String.join(", ", appendOnly) + ")", null);
        }
    }

    static boolean tableExists(Statement s, String table) throws SQLException {
        return longValue(s, "SELECT count(*) FROM pg_class WHERE oid = to_regclass('" + table + "')") > 0;
    }

    static long longValue(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static int intValue(Statement s, String sql) throws SQLException {
        return (int) longValue(s, sql);
    }

    // ---- keys ----------------------------------------------------------------------------------------------------

    private void keys(KirokuProperties props, Database db) {
        Path keysDir = props.getKeysDir().toAbsolutePath();
        Path dataDir = props.getDataDir().toAbsolutePath();
        Path store = keysDir.resolve("master-key.p12");
        Path trialPassphrase = keysDir.resolve("master-key.passphrase");
        if (!Files.exists(store)) {
            if (db.dataKeys() > 0) {
                add("keys", Status.FAIL, "master key store " + store + " is missing but the database holds " + db.dataKeys()
                        + " wrapped data keys: nothing can be read", "restore the keys: kiroku keys restore --from <key backup>"
                        + " (docs/operations.md, 'Keys'), or point kiroku.keys-dir at them");
            } else {
                add("keys", Status.WARN, "no master key store in " + keysDir + " yet", "the first kiroku serve creates it;"
                        + " set the passphrase first (KIROKU_MASTER_KEY_PASSPHRASE_FILE)");
            }
        } else {
            add("keys", Status.OK, "master key store " + store, null);
        }
        if (Files.isDirectory(keysDir)) {
            // its files are 0600 (checked below); an open directory shows their names only
            privateDirectory("keys", "keys directory", keysDir, "chmod 0700 " + keysDir, Status.WARN);
            List<String> readable = new ArrayList<>();
            try (var files = Files.list(keysDir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    // a public key (the ledger's checkpoint key, *.pub.pem) is meant to be read; nobody else may write it
                    EnumSet<PosixFilePermission> forbidden = f.getFileName().toString().endsWith(".pub.pem")
                            ? EnumSet.of(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE)
                            : EnumSet.of(PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ,
                                    PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE);
                    if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) && !Collections.disjoint(
                            Files.getPosixFilePermissions(f, LinkOption.NOFOLLOW_LINKS), forbidden)) {
                        readable.add(f.getFileName().toString());
                    }
                }
            } catch (IOException | UnsupportedOperationException e) {
                add("keys", Status.WARN, "the key files' permissions cannot be read: " + e.getMessage(), null);
            }
            if (!readable.isEmpty()) {
                add("keys", Status.FAIL, "key files others may read or write: " + String.join(", ", readable),
                        "chmod 0600 " + keysDir + "/* (owned by the service's user)");
            }
        }
        boolean passphraseSet = props.getMasterKeyPassphrase() != null && !props.getMasterKeyPassphrase().isBlank();
        Path passphraseFile = props.getMasterKeyPassphraseFile();
        if (passphraseFile != null) {
            if (!Files.isReadable(passphraseFile)) {
                add("keys", Status.FAIL, "kiroku.master-key-passphrase-file " + passphraseFile + " cannot be read",
                        "create it (mode 0600, owned by the service's user) or correct the setting");
            } else {
                passphraseSet = true;
                Path resolved = passphraseFile.toAbsolutePath();
                if (resolved.startsWith(keysDir) || resolved.startsWith(dataDir)) {
                    add("keys", Status.WARN, "the passphrase file " + resolved + " lies beside the key store or the data",
                            "keep it elsewhere: a systemd credential (LoadCredential=) or a mounted secret");
                }
            }
        } else if (passphraseSet && props.getMasterKeyPassphrase().length() < 12) {
            add("keys", Status.FAIL, "kiroku.master-key-passphrase is shorter than 12 characters", "use a longer passphrase");
        }
        if (!passphraseSet || Files.exists(trialPassphrase)) {
            add("keys", Status.WARN, "trial keys: the master key passphrase is " + (Files.exists(trialPassphrase)
                    ? "written beside the key store (" + trialPassphrase + ")" : "not configured")
                    + ", which protects nothing against theft of the disk", "production: set KIROKU_MASTER_KEY_PASSPHRASE_FILE"
                    + " (e.g. a systemd credential) and put kiroku.keys-dir on other storage (docs/operations.md, 'Keys')");
        } else if (keysDir.startsWith(dataDir)) {
            add("keys", Status.WARN, "the keys directory " + keysDir + " is inside the data directory",
                    "put kiroku.keys-dir on other storage than the data (a stolen data disk then holds no key)");
        } else {
            add("keys", Status.OK, "passphrase configured, keys apart from the data", null);
        }
        if (db.reachable()) {
            Duration retention = props.getKeyBackupRetention();
            if (db.lastKeyBackup() == null) {
                add("keys", Status.WARN, "no key backup recorded (kiroku keys backup)", "run kiroku keys backup --to <other"
                        + " storage> daily (timer in deploy/); without the key store no backup can be read");
            } else {
                Duration age = Duration.between(db.lastKeyBackup(), Instant.now());
                String text = "newest key backup " + db.lastKeyBackup() + " (" + age.toHours() + " h ago)";
                if (age.compareTo(retention) > 0) {
                    add("keys", Status.FAIL, text + ", older than kiroku.key-backup-retention (" + retention.toDays() + " d)",
                            "run kiroku keys backup --to <other storage> now, and schedule it daily");
                } else if (age.compareTo(KEY_BACKUP_WARNING) > 0) {
                    add("keys", Status.WARN, text, "schedule kiroku keys backup daily (the timer in deploy/)");
                } else {
                    add("keys", Status.OK, text, null);
                }
            }
        }
    }

    // ---- clock ---------------------------------------------------------------------------------------------------

    private void clock(KirokuProperties props) {
        ClockCheck check = new ClockCheck(props.getClock().getCheckCommand(), props.getClock().getMaxOffset(),
                props.getClock().isRequireSync());
        ClockCheck.State state = check.state();
        String refusal = check.refusal();
        if (refusal != null) {
            add("clock", Status.FAIL, "checkpoints are not signed: " + refusal, "synchronise the clock with NTP (chrony;"
                    + " chronyc tracking), check kiroku.clock.max-offset");
        } else if (!state.known()) {
            add("clock", Status.WARN, "the clock's synchronisation is " + state.summary(), "install and enable chrony"
                    + " (or set kiroku.clock.check-command to a command printing chronyc tracking's format)");
        } else if (!state.synchronised()) {
            add("clock", Status.WARN, "the clock is " + state.summary(), "check the time daemon's sources (chronyc sources)");
        } else {
            add("clock", Status.OK, "the clock is " + state.summary(), null);
        }
    }

    // ---- disk ----------------------------------------------------------------------------------------------------

    private void disk(KirokuProperties props) {
        Path dataDir = props.getDataDir().toAbsolutePath();
        FileStore dataStore = space("data directory", dataDir);
        Path target = props.getBackup().getTarget();
        if (target == null) {
            add("disk", Status.WARN, "kiroku.backup.target is not set: backups go to " + dataDir.resolve("backups")
                    + ", beside the data", "set kiroku.backup.target to a directory on other storage");
            return;
        }
        target = target.toAbsolutePath();
        if (!Files.isDirectory(target)) {
            add("disk", Status.FAIL, "backup target " + target + " does not exist (not mounted?)",
                    "mount the backup storage, or create the directory for the service's user");
            return;
        }
        FileStore targetStore = space("backup target", target);
        if (dataStore != null && dataStore.equals(targetStore)) {
            add("disk", Status.WARN, "backup target " + target + " is on the same file system as the data",
                    "put backups on other storage: a backup beside the data does not survive the loss of its disk");
        }
    }

    private FileStore space(String what, Path dir) {
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return null;
        }
        try {
            FileStore store = Files.getFileStore(existing);
            long free = store.getUsableSpace();
            long total = store.getTotalSpace();
            String text = what + " " + dir + ": " + gib(free) + " free of " + gib(total);
            if (free < FAIL_BELOW) {
                add("disk", Status.FAIL, text, "free space or move " + what + " to a larger disk now: PostgreSQL stops"
                        + " writing when the disk is full");
            } else if (free < WARN_BELOW || free < total / 10) {
                add("disk", Status.WARN, text, "plan more space (below 10 GiB or 10 % free)");
            } else {
                add("disk", Status.OK, text, null);
            }
            return store;
        } catch (IOException e) {
            add("disk", Status.WARN, what + " " + dir + ": free space unknown (" + e.getMessage() + ")", null);
            return null;
        }
    }

    static String gib(long bytes) {
        return String.format("%.1f GiB", bytes / (double) (1L << 30));
    }

    // ---- TLS -----------------------------------------------------------------------------------------------------

    private void tls(KirokuProperties props, Environment env) {
        if (!KirokuProperties.tlsConfigured(env)) {
            add("tls", Status.OK, "not configured: Kiroku serves plain HTTP on loopback only (" + props.getHost() + ")",
                    null);
            return;
        }
        try {
            List<X509Certificate> certs = certificates(env);
            if (certs.isEmpty()) {
                add("tls", Status.OK, "configured (its certificate is not read here: " + describe(env) + ")", null);
                return;
            }
            X509Certificate cert = certs.get(0);
            Instant notAfter = cert.getNotAfter().toInstant();
            Instant notBefore = cert.getNotBefore().toInstant();
            Instant now = Instant.now();
            String text = "certificate " + cert.getSubjectX500Principal().getName() + " valid until " + notAfter;
            if (notAfter.isBefore(now)) {
                add("tls", Status.FAIL, text + ": EXPIRED", "renew the certificate and restart (docs/operations.md, 'TLS')");
            } else if (notBefore.isAfter(now)) {
                add("tls", Status.FAIL, text + ": not valid before " + notBefore, "check the clock and the certificate");
            } else if (Duration.between(now, notAfter).compareTo(CERTIFICATE_WARNING) < 0) {
                add("tls", Status.WARN, text + " (" + Duration.between(now, notAfter).toDays() + " days left)",
                        "renew the certificate before it expires");
            } else {
                add("tls", Status.OK, text, null);
            }
            if (cert.getIssuerX500Principal().equals(cert.getSubjectX500Principal())) {
                add("tls", Status.WARN, "the certificate is self-signed (kiroku tls self-signed is for trials)",
                        "use a certificate from the hospital's or a public certification authority");
            }
        } catch (Exception e) {
            add("tls", Status.FAIL, "the TLS certificate cannot be read (" + describe(env) + "): " + e.getMessage(),
                    "correct server.ssl.* (docs/operations.md, 'TLS')");
        }
    }

    private static String describe(Environment env) {
        for (String p : List.of("server.ssl.certificate", "server.ssl.key-store", "server.ssl.bundle")) {
            if (env.containsProperty(p)) {
                return p + "=" + env.getProperty(p);
            }
        }
        return "server.ssl.*";
    }

    /** The server certificate (chain) configured through server.ssl.certificate (PEM) or server.ssl.key-store. */
    static List<X509Certificate> certificates(Environment env) throws Exception {
        DefaultResourceLoader loader = new DefaultResourceLoader();
        String pem = env.getProperty("server.ssl.certificate");
        if (pem != null) {
            try (InputStream in = resource(loader, pem).getInputStream()) {
                List<X509Certificate> out = new ArrayList<>();
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    out.add((X509Certificate) c);
                }
                return out;
            }
        }
        String store = env.getProperty("server.ssl.key-store");
        if (store != null) {
            String type = env.getProperty("server.ssl.key-store-type", store.endsWith(".jks") ? "JKS" : "PKCS12");
            String password = env.getProperty("server.ssl.key-store-password", "");
            KeyStore ks = KeyStore.getInstance(type);
            try (InputStream in = resource(loader, store).getInputStream()) {
                ks.load(in, password.toCharArray());
            }
            String alias = env.getProperty("server.ssl.key-alias");
            List<X509Certificate> out = new ArrayList<>();
            for (String a : Collections.list(ks.aliases())) {
                if ((alias == null || alias.equals(a)) && ks.getCertificate(a) instanceof X509Certificate x) {
                    out.add(x);
                }
            }
            out.sort(java.util.Comparator.comparing(X509Certificate::getNotAfter));
            return out;
        }
        return List.of();
    }

    private static Resource resource(DefaultResourceLoader loader, String location) {
        return location.contains(":") ? loader.getResource(location) : loader.getResource("file:" + location);
    }
}
