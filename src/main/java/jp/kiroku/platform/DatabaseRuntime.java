package jp.kiroku.platform;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How this process reaches the database, following the brief's process rules:
 * <ul>
 * <li>{@code serve} owns the data directory (its lock) and, without {@code kiroku.db.url}, runs the embedded cluster and
 * writes {@code run/db.properties} (0600) for admin commands;</li>
 * <li>an admin command uses that file while a server runs, or takes the lock and starts the cluster itself.</li>
 * </ul>
 * Two database roles: the application's ({@link #connection()}) and the owner's ({@link #owner()}), which migrates the
 * schema and will do maintenance. An external server configured without {@code kiroku.db.owner-user} has one role for
 * both (and the application could then change its own ledgers; verification still detects it).
 */
public final class DatabaseRuntime implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DatabaseRuntime.class);

    private final ConnectionInfo connection;
    private final ConnectionInfo owner;
    private final DataDirectoryLock lock;
    private final EmbeddedDatabase embedded;
    private final Path connectionFile;
    private final boolean sharedWithServer;
    private Path superuserSecret;

    private DatabaseRuntime(ConnectionInfo connection, ConnectionInfo owner, DataDirectoryLock lock,
                            EmbeddedDatabase embedded, Path connectionFile, boolean sharedWithServer) {
        this.connection = connection;
        this.owner = owner;
        this.lock = lock;
        this.embedded = embedded;
        this.connectionFile = connectionFile;
        this.sharedWithServer = sharedWithServer;
    }

    /**
     * Reaches the database as {@code role} would: public for commands that check an installation without starting
     * the application ({@code kiroku doctor}); close it to stop an embedded cluster it started.
     */
    public static DatabaseRuntime open(KirokuProperties props, ProcessRole role) {
        Path dataDir = props.getDataDir().toAbsolutePath();
        Path connectionFile = dataDir.resolve("run").resolve("db.properties");
        Optional<DataDirectoryLock> lock = DataDirectoryLock.tryAcquire(dataDir);
        if (lock.isEmpty() && role == ProcessRole.SERVE) {
            throw new IllegalStateException("Another Kiroku server is running on " + dataDir
                    + " (it holds run/kiroku.lock). Stop it first, or use another --data-dir.");
        }
        if (props.getDb().isExternal()) {
            var db = props.getDb();
            ConnectionInfo app = new ConnectionInfo(db.getUrl(), db.getUser(), db.getPassword());
            ConnectionInfo owner = db.getOwnerUser() == null || db.getOwnerUser().isBlank() ? app
                    : new ConnectionInfo(db.getUrl(), db.getOwnerUser(), db.getOwnerPassword());
            return new DatabaseRuntime(app, owner, lock.orElse(null), null, null, lock.isEmpty());
        }
        if (lock.isEmpty()) {
            Properties p = readConnectionFile(connectionFile);
            ConnectionInfo app = new ConnectionInfo(p.getProperty("url"), p.getProperty("user"), p.getProperty("password"));
            ConnectionInfo owner = p.getProperty("owner.user") == null ? app
                    : new ConnectionInfo(app.url(), p.getProperty("owner.user"), p.getProperty("owner.password"));
            DatabaseRuntime shared = new DatabaseRuntime(app, owner, null, null, null, true);
            shared.superuserSecret = dataDir.resolve("postgres.secret");
            return shared;
        }
        EmbeddedDatabase embedded = null;
        try {
            embedded = EmbeddedDatabase.start(dataDir, props.getDb().getSharedBuffers());
            ConnectionInfo info = embedded.connection();
            Properties p = new Properties();
            p.setProperty("url", info.url());
            p.setProperty("user", info.user());
            p.setProperty("password", info.password());
            p.setProperty("owner.user", embedded.owner().user());
            p.setProperty("owner.password", embedded.owner().password());
            var out = new java.io.ByteArrayOutputStream();
            p.store(out, "Written by the process that owns this data directory; admin commands connect with it.");
            SecretFiles.write(connectionFile, out.toByteArray());
            DatabaseRuntime own = new DatabaseRuntime(info, embedded.owner(), lock.get(), embedded, connectionFile, false);
            own.superuserSecret = dataDir.resolve("postgres.secret");
            return own;
        } catch (IOException | RuntimeException e) {
            if (embedded != null) { // nothing else stops it: the cluster has no shutdown hook of its own
                embedded.close();
            }
            lock.get().close();
            throw e instanceof RuntimeException re ? re : new UncheckedIOException((IOException) e);
        }
    }

    private static Properties readConnectionFile(Path file) {
        if (!Files.exists(file)) {
            throw new IllegalStateException("A Kiroku server holds the data directory but has not published "
                    + file + " yet; wait until it has started, then try again.");
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + file, e);
        }
        return p;
    }

    /** As whom the application connects. */
    public ConnectionInfo connection() {
        return connection;
    }

    /** As whom migrations (and maintenance) connect: the tables' owner. */
    public ConnectionInfo owner() {
        return owner;
    }

    /** True when the application's role is not the tables' owner, so that it can be denied changes to ledgers. */
    public boolean hasSeparateOwner() {
        return !owner.user().equals(connection.user());
    }

    /**
     * The embedded cluster's superuser (for maintenance that needs it: switching and removing WAL after a disposal), or
     * empty with an external server, whose administrator does that.
     */
    public Optional<ConnectionInfo> superuser() {
        if (superuserSecret == null || !Files.exists(superuserSecret)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(superuserSecret)) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + superuserSecret, e);
        }
        String password = p.getProperty("superuser");
        return password == null ? Optional.empty() : Optional.of(new ConnectionInfo(connection.url(), "postgres", password));
    }

    /** The embedded cluster's files (tables and WAL), for a residual scan; empty with an external server. */
    public Optional<Path> clusterFiles() {
        return superuserSecret == null ? Optional.empty() : Optional.of(superuserSecret.resolveSibling("postgres"));
    }

    public boolean isEmbedded() {
        return embedded != null;
    }

    /** True when this process works through a running server's database rather than owning the data directory. */
    public boolean isSharedWithServer() {
        return sharedWithServer;
    }

    @Override
    public void close() {
        if (connectionFile != null) {
            try {
                Files.deleteIfExists(connectionFile);
            } catch (IOException e) {
                log.warn("Cannot remove {}: {}", connectionFile, e.getMessage());
            }
        }
        if (embedded != null) {
            embedded.close();
        }
        if (lock != null) {
            lock.close();
        }
    }
}
