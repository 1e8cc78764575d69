package jp.kiroku.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfoService;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

/**
 * Upgrades (issue 13, item 4): the schema migrations are forward-only, and an installation at any earlier Flyway
 * version — with data in it — upgrades to the newest one.
 * <p>
 * One embedded cluster; for every version V1..V(n-1) found in {@code db/migration}, a database is cloned from a
 * template migrated exactly that far (Flyway {@code target}), seeded through SQL the schema accepts at that version (a
 * record version with its current pointer, an access-log event, from V7 an account), then migrated to the newest
 * version as the owner role with {@link DatabaseRoles} — as a start of the server does. Checked as the application's
 * role: the rows are there byte for byte, queued for the ledgers, and the reads the application makes (current version
 * of a resource, a patient's access log, an account by name) answer; the ledgers stay append-only for that role.
 * PRES-05: a software upgrade leaves no record unreadable.
 */
@Tag("PRES-05")
class MigrationUpgradeTest {

    static final Path MIGRATIONS = Path.of("src/main/resources/db/migration");
    static final Path RELEASED = Path.of("src/test/resources/db/released-migrations.sha256");
    static final Pattern VERSIONED = Pattern.compile("V(\\d+)__.+\\.sql");

    /** Released migrations never change (their checksum is committed); new ones are appended; there are no undo ones. */
    @Test
    void migrationsAreForwardOnly() throws Exception {
        Map<String, String> released = new LinkedHashMap<>();
        for (String line : Files.readAllLines(RELEASED)) {
            if (!line.isBlank() && !line.startsWith("#")) {
                String[] f = line.trim().split("\\s+", 2);
                released.put(f[1], f[0]);
            }
        }
        assertThat(released).as(RELEASED + " lists the released migrations").isNotEmpty();
        List<String> files;
        try (Stream<Path> s = Files.list(MIGRATIONS)) {
            files = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertThat(files).as("no undo migrations: upgrades are forward-only (restore a backup to go back)")
                .noneMatch(f -> f.startsWith("U"));
        assertThat(files).as("every migration is versioned: V<n>__<description>.sql")
                .allMatch(f -> VERSIONED.matcher(f).matches());
        int newestReleased = 0;
        for (Map.Entry<String, String> e : released.entrySet()) {
            Path file = MIGRATIONS.resolve(e.getKey());
            assertThat(file).as("released migration %s was removed or renamed", e.getKey()).exists();
            assertThat(sha256(file)).as("released migration %s was modified after release: write a new migration instead",
                    e.getKey()).isEqualTo(e.getValue());
            newestReleased = Math.max(newestReleased, version(e.getKey()));
        }
        for (String f : files) {
            if (!released.containsKey(f)) {
                assertThat(version(f)).as("%s is new but not after the newest released migration V%d (append, never insert)",
                        f, newestReleased).isGreaterThan(newestReleased);
            }
        }
    }

    @Test
    void everyEarlierVersionUpgradesWithItsData() throws Exception {
        List<Integer> versions = versions();
        int latest = versions.get(versions.size() - 1);
        assertThat(versions).as("versions are dense from 1").isEqualTo(java.util.stream.IntStream.rangeClosed(1, latest).boxed().toList());
        Path dir = Files.createTempDirectory("kiroku-upgrade-");
        try (EmbeddedDatabase db = EmbeddedDatabase.start(dir, DataSize.ofMegabytes(32))) {
            Properties secrets = new Properties();
            try (InputStream in = Files.newInputStream(dir.resolve("postgres.secret"))) {
                secrets.load(in);
            }
            String server = db.owner().url().substring(0, db.owner().url().lastIndexOf('/') + 1);
            try (Connection su = DriverManager.getConnection(server + "postgres", "postgres", secrets.getProperty("superuser"));
                 Statement s = su.createStatement()) {
                s.execute("CREATE DATABASE upgrade_template OWNER kiroku_owner");
                List<String> report = new ArrayList<>();
                for (int v = 1; v < latest; v++) {
                    long t0 = System.nanoTime();
                    flyway(server + "upgrade_template", db.owner(), String.valueOf(v)).migrate();
                    String name = "upgrade_from_v" + v;
                    createFromTemplate(s, name);
                    String url = server + name;
                    try (Connection owner = DriverManager.getConnection(url, db.owner().user(), db.owner().password())) {
                        assertThat(schemaVersion(owner)).isEqualTo(v);
                        seed(owner, v);
                    }
                    var result = flyway(url, db.owner(), "latest").migrate();
                    assertThat(result.success).isTrue();
                    MigrationInfoService info = flyway(url, db.owner(), "latest").info();
                    assertThat(info.pending()).isEmpty();
                    assertThat(Integer.parseInt(info.current().getVersion().getVersion())).isEqualTo(latest);
                    try (Connection app = DriverManager.getConnection(url, db.connection().user(), db.connection().password())) {
                        check(app, v);
                    }
                    s.execute("DROP DATABASE " + name);
                    report.add("V" + v + " → V" + latest + " " + (System.nanoTime() - t0) / 1_000_000 + " ms");
                }
                System.out.println("Upgrades checked: " + report);
            }
        } finally {
            org.springframework.util.FileSystemUtils.deleteRecursively(dir);
        }
    }

    static Flyway flyway(String url, ConnectionInfo owner, String target) {
        return Flyway.configure().dataSource(url, owner.user(), owner.password()).locations("classpath:db/migration")
                .target(target).callbacks(new DatabaseRoles(EmbeddedDatabase.APP_ROLE)).load();
    }

    /** A copy of the template, retried while the migration's connection to the template is still closing. */
    static void createFromTemplate(Statement su, String name) throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                su.execute("CREATE DATABASE " + name + " TEMPLATE upgrade_template OWNER kiroku_owner");
                return;
            } catch (SQLException e) {
                if (attempt > 50 || !String.valueOf(e.getMessage()).contains("being accessed")) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    static int schemaVersion(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT max(version::int) FROM flyway_schema_history WHERE success")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static String id(int v) {
        return "upgrade-v" + v;
    }

    static byte[] body(int v) {
        return ("{\"resourceType\":\"Patient\",\"id\":\"" + id(v) + "\",\"name\":[{\"family\":\"記録\",\"given\":[\"太郎\"]}]}")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** Data the schema at version v accepts, written as the application wrote it then. */
    static void seed(Connection c, int v) throws Exception {
        String id = id(v);
        byte[] body = body(v);
        Map<String, Object> version = new LinkedHashMap<>();
        version.put("res_type", "Patient");
        version.put("res_id", id);
        version.put("version_id", 1);
        version.put("patient_key", id);
        version.put("facility_id", "home");
        version.put("last_updated", sql("now()"));
        version.put("deleted", false);
        version.put("author_kind", "client");
        version.put("author_id", "upgrade-seed");
        version.put("body", body);
        version.put("content_hash", MessageDigest.getInstance("SHA-256").digest(body));
        insert(c, "resource_version", version);
        Map<String, Object> current = new LinkedHashMap<>();
        current.put("res_type", "Patient");
        current.put("res_id", id);
        current.put("version_id", 1);
        current.put("deleted", false);
        current.put("patient_key", id);
        current.put("last_updated", sql("now()"));
        current.put("facility_id", "home");
        current.put("category", "clinical");
        current.put("status", "confirmed");
        current.put("created_at", sql("now()"));
        current.put("created_by", "client:upgrade-seed");
        insert(c, "resource_current", current);
        Map<String, Object> audit = new LinkedHashMap<>();
        audit.put("recorded", sql("now()"));
        audit.put("action", "read");
        audit.put("outcome", "success");
        audit.put("agent_kind", "client");
        audit.put("agent_id", "upgrade-seed");
        audit.put("detail", "seeded at V" + v);
        if (tableExists(c, "audit_log")) {
            audit.put("patients", sql("ARRAY['" + id + "']::text[]"));
            audit.put("entities", sql("ARRAY['Patient/" + id + "/_history/1']::text[]"));
            insert(c, "audit_log", audit);
        } else {
            audit.put("patient_key", id);
            audit.put("res_type", "Patient");
            audit.put("res_id", id);
            audit.put("version_id", 1);
            insert(c, "audit_event", audit);
        }
        if (tableExists(c, "account")) {
            Map<String, Object> account = new LinkedHashMap<>();
            account.put("id", UUID.randomUUID());
            account.put("username", "upgrade.v" + v);
            account.put("kind", "staff");
            account.put("roles", sql("ARRAY['physician']::text[]"));
            account.put("name", "記録 太郎");
            account.put("name_kana", "キロク タロウ");
            account.put("facility", "home");
            account.put("created_at", sql("now()"));
            account.put("created_by", "upgrade-seed");
            account.put("password_hash", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA");
            account.put("password_set_at", sql("now()"));
            insert(c, "account", account);
        }
    }

    record Sql(String expression) {
    }

    static Sql sql(String expression) {
        return new Sql(expression);
    }

    static boolean tableExists(Connection c, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /**
     * Inserts the given columns that the table has at this version, and a neutral value for any other required column
     * a later migration added without a default (so that one description of a row fits every version).
     */
    static void insert(Connection c, String table, Map<String, Object> values) throws SQLException {
        Map<String, Object> row = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT column_name, is_nullable = 'NO' AND column_default IS NULL"
                + " AND is_identity = 'NO' AND is_generated = 'NEVER', data_type FROM information_schema.columns"
                + " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String column = rs.getString(1);
                    if (values.containsKey(column)) {
                        row.put(column, values.get(column));
                    } else if (rs.getBoolean(2)) {
                        row.put(column, sql(neutral(rs.getString(3))));
                    }
                }
            }
        }
        StringBuilder cols = new StringBuilder();
        StringBuilder vals = new StringBuilder();
        List<Object> params = new ArrayList<>();
        for (Map.Entry<String, Object> e : row.entrySet()) {
            cols.append(cols.length() == 0 ? "" : ", ").append(e.getKey());
            vals.append(vals.length() == 0 ? "" : ", ");
            if (e.getValue() instanceof Sql x) {
                vals.append(x.expression());
            } else {
                vals.append('?');
                params.add(e.getValue());
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " (" + cols + ") VALUES (" + vals + ")")) {
            for (int i = 0; i < params.size(); i++) {
                ps.setObject(i + 1, params.get(i));
            }
            ps.executeUpdate();
        }
    }

    static String neutral(String type) {
        switch (type) {
            case "boolean": return "false";
            case "integer": case "bigint": case "smallint": case "numeric": return "0";
            case "timestamp with time zone": case "timestamp without time zone": return "now()";
            case "date": return "current_date";
            case "bytea": return "'\\x00'::bytea";
            case "ARRAY": return "'{}'";
            case "uuid": return "gen_random_uuid()";
            case "jsonb": case "json": return "'{}'";
            default: return "''";
        }
    }

    /** As the application's role, on the newest schema: the data seeded at version v is there and readable. */
    static void check(Connection app, int v) throws Exception {
        String id = id(v);
        try (PreparedStatement ps = app.prepareStatement("SELECT v.body, v.content_hash, v.seq FROM resource_current c"
                + " JOIN resource_version v ON v.res_type = c.res_type AND v.res_id = c.res_id AND v.version_id = c.version_id"
                + " WHERE c.res_type = 'Patient' AND c.res_id = ? AND NOT c.deleted")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).as("the current version of Patient/%s after the upgrade from V%d", id, v).isTrue();
                assertThat(rs.getBytes(1)).isEqualTo(body(v));
                assertThat(rs.getBytes(2)).isEqualTo(MessageDigest.getInstance("SHA-256").digest(body(v)));
                assertThat(count(app, "SELECT count(*) FROM ledger_pending WHERE log = 1 AND source_seq = " + rs.getLong(3)))
                        .as("the record version waits for the record ledger").isEqualTo(1);
            }
        }
        try (PreparedStatement ps = app.prepareStatement("SELECT seq, agent_id, entities FROM audit_log"
                + " WHERE patients @> ARRAY[?]::text[] ORDER BY seq")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).as("the access log of Patient/%s after the upgrade from V%d", id, v).isTrue();
                assertThat(rs.getString(2)).isEqualTo("upgrade-seed");
                assertThat((Object[]) rs.getArray(3).getArray()).containsExactly("Patient/" + id + "/_history/1");
                assertThat(count(app, "SELECT count(*) FROM ledger_pending WHERE log = 2 AND source_seq = " + rs.getLong(1)))
                        .as("the event waits for the access ledger").isEqualTo(1);
                assertThat(rs.next()).isFalse();
            }
        }
        if (v >= 7) {
            try (PreparedStatement ps = app.prepareStatement("SELECT status, roles FROM account WHERE username = ?")) {
                ps.setString(1, "upgrade.v" + v);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).as("account seeded at V%d", v).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("active");
                    assertThat((Object[]) rs.getArray(2).getArray()).containsExactly("physician");
                }
            }
        }
        for (String ledgered : List.of("resource_version", "audit_log", "ledger_entry", "ledger_checkpoint")) {
            assertThat(count(app, "SELECT count(*) FROM pg_class WHERE relname = '" + ledgered
                    + "' AND has_table_privilege(oid, 'UPDATE')")).as("UPDATE on %s for the application's role", ledgered).isZero();
        }
        try (Statement s = app.createStatement()) {
            assertThatThrownBy(() -> s.executeUpdate("UPDATE resource_version SET deleted = true WHERE res_id = '" + id + "'"))
                    .isInstanceOf(SQLException.class);
        }
    }

    static long count(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static List<Integer> versions() throws IOException {
        try (Stream<Path> s = Files.list(MIGRATIONS)) {
            return s.map(p -> p.getFileName().toString()).filter(f -> VERSIONED.matcher(f).matches())
                    .map(MigrationUpgradeTest::version).sorted().toList();
        }
    }

    static int version(String file) {
        Matcher m = VERSIONED.matcher(file);
        if (!m.matches()) {
            throw new IllegalArgumentException(file);
        }
        return Integer.parseInt(m.group(1));
    }

    static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
