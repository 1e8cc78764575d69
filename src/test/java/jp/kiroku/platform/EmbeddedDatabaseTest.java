package jp.kiroku.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.util.unit.DataSize;

/** The embedded cluster: its memory setting, on every start; its two roles, also for a data directory from before them. */
class EmbeddedDatabaseTest {

    private static String sharedBuffers(EmbeddedDatabase db) throws Exception {
        ConnectionInfo c = db.connection();
        try (var con = DriverManager.getConnection(c.url(), c.user(), c.password());
             var rs = con.createStatement().executeQuery("SHOW shared_buffers")) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void sharedBuffersFollowTheSetting(@TempDir Path tmp) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "kiroku-embedded-");
        try (EmbeddedDatabase db = EmbeddedDatabase.start(dir, DataSize.ofMegabytes(32))) {
            assertThat(sharedBuffers(db)).isEqualTo("32MB");
        }
        try (EmbeddedDatabase db = EmbeddedDatabase.start(dir, DataSize.ofMegabytes(48))) {
            assertThat(sharedBuffers(db)).isEqualTo("48MB");
        }
        assertThatThrownBy(() -> EmbeddedDatabase.start(dir, DataSize.ofMegabytes(8)))
                .hasMessageContaining("kiroku.db.shared-buffers");
    }

    /**
     * A start that fails after the cluster came up stops the cluster again: nothing else would (the cluster has no
     * JVM shutdown hook, so that a server's stop can finish its requests first).
     */
    @Test
    void aStartThatFailsAfterTheClusterCameUpStopsIt(@TempDir Path tmp) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "kiroku-embedded-");
        // the connection file cannot be written: a non-empty directory stands where it goes
        Files.createDirectories(dir.resolve("run/db.properties/in-the-way"));
        KirokuProperties props = new KirokuProperties();
        props.setDataDir(dir);
        props.getDb().setSharedBuffers(DataSize.ofMegabytes(16));
        assertThatThrownBy(() -> DatabaseRuntime.open(props, ProcessRole.SERVE)).hasMessageContaining("db.properties");
        assertThat(dir.resolve("postgres/postmaster.pid")).as("the cluster was left running").doesNotExist();
        // and the data directory is free again: the next start succeeds once the way is clear
        Files.delete(dir.resolve("run/db.properties/in-the-way"));
        Files.delete(dir.resolve("run/db.properties"));
        try (DatabaseRuntime again = DatabaseRuntime.open(props, ProcessRole.SERVE)) {
            assertThat(query(again.connection(), "SELECT 1")).isEqualTo("1");
        }
    }

    private static String query(ConnectionInfo c, String sql) throws Exception {
        try (var con = DriverManager.getConnection(c.url(), c.user(), c.password());
             var rs = con.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    @org.junit.jupiter.api.Tag("LOG-02")
    void aDataDirectoryWhereTheApplicationOwnedEverythingIsHandedToTheOwnerRole(@TempDir Path tmp) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "kiroku-embedded-");
        Path secrets = dir.resolve("postgres.secret");
        try (EmbeddedDatabase db = EmbeddedDatabase.start(dir, DataSize.ofMegabytes(16))) {
            assertThat(query(db.connection(), "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"))
                    .isEqualTo("kiroku_owner");
            // the layout before the owner role: the application's role owned the database and its tables
            var p = new java.util.Properties();
            try (var in = Files.newInputStream(secrets)) {
                p.load(in);
            }
            ConnectionInfo superuser = new ConnectionInfo(db.connection().url(), "postgres", p.getProperty("superuser"));
            try (var con = DriverManager.getConnection(superuser.url(), superuser.user(), superuser.password());
                 var s = con.createStatement()) {
                s.execute("ALTER DATABASE kiroku OWNER TO kiroku");
                s.execute("DROP ROLE kiroku_owner");
            }
            try (var con = DriverManager.getConnection(db.connection().url(), "kiroku", db.connection().password());
                 var s = con.createStatement()) {
                s.execute("CREATE TABLE from_before (x int)");
            }
            p.remove("owner");
            var out = new java.io.ByteArrayOutputStream();
            p.store(out, null);
            Files.write(secrets, out.toByteArray());
        }
        try (EmbeddedDatabase db = EmbeddedDatabase.start(dir, DataSize.ofMegabytes(16))) {
            assertThat(query(db.owner(), "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"))
                    .isEqualTo("kiroku_owner");
            assertThat(query(db.owner(), "SELECT tableowner FROM pg_tables WHERE tablename = 'from_before'"))
                    .isEqualTo("kiroku_owner");
            assertThat(Files.readString(secrets)).contains("owner=");
            assertThatThrownBy(() -> query(db.connection(), "SELECT count(*) FROM from_before"))
                    .hasMessageContaining("permission denied");
        }
    }
}
