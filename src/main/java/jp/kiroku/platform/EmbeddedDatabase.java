package jp.kiroku.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * The embedded PostgreSQL 15 cluster in {@code <data-dir>/postgres}: real PostgreSQL binaries, loopback only, password
 * (SCRAM) authentication with generated passwords kept in a 0600 file beside the cluster. Two roles: {@code kiroku_owner}
 * owns the database and its tables (migrations, maintenance), {@code kiroku} is what the application connects as, with
 * no UPDATE or DELETE on append-only tables ({@link DatabaseRoles}). A postmaster left running by a killed server is shut
 * down before the cluster starts again, and PostgreSQL's own crash recovery does the rest.
 */
final class EmbeddedDatabase implements AutoCloseable {

    static final String DATABASE = "kiroku";
    static final String APP_ROLE = "kiroku";
    static final String OWNER_ROLE = "kiroku_owner";
    private static final String HBA_MARKER = "# kiroku: scram only";
    private static final Logger log = LoggerFactory.getLogger(EmbeddedDatabase.class);

    private final EmbeddedPostgres postgres;
    private final ConnectionInfo connection;
    private final ConnectionInfo owner;

    private EmbeddedDatabase(EmbeddedPostgres postgres, ConnectionInfo connection, ConnectionInfo owner) {
        this.postgres = postgres;
        this.connection = connection;
        this.owner = owner;
    }

    /** Starts (creating on first use) the cluster in {@code dataDir/postgres} with this much shared buffer memory. */
    static EmbeddedDatabase start(Path dataDir, org.springframework.util.unit.DataSize sharedBuffers) {
        if (sharedBuffers.toMegabytes() < 16) {
            throw new IllegalStateException("kiroku.db.shared-buffers must be at least 16MB, not " + sharedBuffers);
        }
        Path cluster = dataDir.toAbsolutePath().resolve("postgres");
        Properties secrets = loadOrCreateSecrets(dataDir.resolve("postgres.secret"));
        stopOrphanedPostmaster(cluster);
        try {
            Files.createDirectories(cluster);
            EmbeddedPostgres pg = EmbeddedPostgres.builder()
                    .setDataDirectory(cluster)
                    .setCleanDataDirectory(false)
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("unix_socket_directories", "''")
                    // zonky's defaults suit throw-away test databases (no fsync); a record vault needs durability
                    .setServerConfig("fsync", "on")
                    .setServerConfig("full_page_writes", "on")
                    .setServerConfig("synchronous_commit", "on")
                    // old WAL segments are removed, not renamed for reuse: a disposal's compaction leaves no old WAL behind
                    .setServerConfig("wal_recycle", "off")
                    .setServerConfig("max_connections", "100")
                    .setServerConfig("password_encryption", "scram-sha-256")
                    .setServerConfig("shared_buffers", sharedBuffers.toMegabytes() + "MB")
                    // the index and tables are read from memory or SSD: with the default 4.0 the planner preferred
                    // scanning a whole type to ~100 index probes (bench/RESULTS.md, 2026-12-07)
                    .setServerConfig("random_page_cost", "1.1")
                    .setServerConfig("log_min_messages", "warning")
                    .setConnectConfig("password", secrets.getProperty("superuser"))
                    .setPGStartupWait(Duration.ofSeconds(60))
                    // stopped by close(), which Spring calls after everything that uses the database (the graceful
                    // shutdown's requests, the audit writer, the ledger): the library's own hook stopped the cluster at
                    // the moment a stop began, under the requests still running
                    .setRegisterShutdownHook(false)
                    .start();
            secure(pg, cluster, secrets);
            String url = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/" + DATABASE;
            return new EmbeddedDatabase(pg, new ConnectionInfo(url, APP_ROLE, secrets.getProperty("app")),
                    new ConnectionInfo(url, OWNER_ROLE, secrets.getProperty("owner")));
        } catch (IOException e) {
            throw new UncheckedIOException("Embedded PostgreSQL did not start in " + cluster, e);
        }
    }

    ConnectionInfo connection() {
        return connection;
    }

    ConnectionInfo owner() {
        return owner;
    }

    /**
     * A fresh cluster trusts loopback; replace that with SCRAM and create the roles and the database. A data directory
     * from before the owner role existed (the application role owned everything) is handed over to the owner role.
     */
    private static void secure(EmbeddedPostgres pg, Path cluster, Properties secrets) throws IOException {
        Path hba = cluster.resolve("pg_hba.conf");
        boolean secured = Files.readString(hba).contains(HBA_MARKER);
        DataSource admin = pg.getPostgresDatabase();
        try (Connection c = admin.getConnection(); Statement s = c.createStatement()) {
            if (!secured) {
                s.execute("ALTER ROLE postgres PASSWORD " + literal(secrets.getProperty("superuser")));
            }
            createRole(s, APP_ROLE, secrets.getProperty("app"));
            createRole(s, OWNER_ROLE, secrets.getProperty("owner"));
            String dbOwner = null;
            try (ResultSet rs = s.executeQuery("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '"
                    + DATABASE + "'")) {
                if (rs.next()) {
                    dbOwner = rs.getString(1);
                }
            }
            if (dbOwner == null) {
                s.execute("CREATE DATABASE " + DATABASE + " OWNER " + OWNER_ROLE + " ENCODING 'UTF8'");
            } else if (!dbOwner.equals(OWNER_ROLE)) {
                log.info("Handing the database and its tables from role {} to {}", dbOwner, OWNER_ROLE);
                s.execute("ALTER DATABASE " + DATABASE + " OWNER TO " + OWNER_ROLE);
                try (Connection k = pg.getDatabase("postgres", DATABASE).getConnection(); Statement ks = k.createStatement()) {
                    ks.execute("REASSIGN OWNED BY " + dbOwner + " TO " + OWNER_ROLE);
                }
            }
            if (!secured) {
                Files.writeString(hba, String.join("\n", List.of(HBA_MARKER,
                        "host all all 127.0.0.1/32 scram-sha-256",
                        "host all all ::1/128 scram-sha-256", "")), StandardCharsets.UTF_8);
                s.execute("SELECT pg_reload_conf()");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot prepare the embedded database: " + e.getMessage(), e);
        }
    }

    /** Creates the role, or sets its password to the one in the secrets file (which is what connects). */
    private static void createRole(Statement s, String role, String password) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_roles WHERE rolname = '" + role + "'")) {
            s.execute((rs.next() ? "ALTER" : "CREATE") + " ROLE " + role + " LOGIN PASSWORD " + literal(password));
        }
    }

    private static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    private static Properties loadOrCreateSecrets(Path file) {
        Properties fresh = new Properties();
        for (String role : List.of("superuser", "app", "owner")) {
            fresh.setProperty(role, SecretFiles.randomToken(24));
        }
        byte[] stored = SecretFiles.createIfAbsent(file, toBytes(fresh));
        Properties p = new Properties();
        try {
            p.load(new java.io.ByteArrayInputStream(stored));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (p.getProperty("owner") == null) { // a data directory from before the owner role
            p.setProperty("owner", fresh.getProperty("owner"));
            SecretFiles.write(file, toBytes(p));
        }
        return p;
    }

    private static byte[] toBytes(Properties p) {
        var out = new java.io.ByteArrayOutputStream();
        try {
            p.store(out, "Embedded PostgreSQL passwords (generated). Keep this file private.");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * After {@code kill -9} of the server its PostgreSQL keeps running (it is a separate process). The caller holds the
     * data-directory lock, so any postmaster still serving this cluster is an orphan: ask it for a fast shutdown.
     */
    private static void stopOrphanedPostmaster(Path cluster) {
        Path pidFile = cluster.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        try {
            long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
            Optional<ProcessHandle> handle = ProcessHandle.of(pid);
            if (handle.isEmpty() || !handle.get().isAlive()
                    || !handle.get().info().command().map(cmd -> cmd.endsWith("postgres")).orElse(false)) {
                return; // stale pid file: PostgreSQL removes it itself
            }
            log.warn("Found PostgreSQL (pid {}) left running by a previous Kiroku process; shutting it down", pid);
            new ProcessBuilder("kill", "-INT", Long.toString(pid)).inheritIO().start().waitFor();
            handle.get().onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("Cannot stop the orphaned PostgreSQL of " + cluster + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            log.warn("Embedded PostgreSQL did not stop cleanly: {}", e.getMessage());
        }
    }
}
