package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.WebSession;

/**
 * Several Kiroku instances behind one load balancer (issue 13, item 5): two {@code kiroku serve} processes on one
 * PostgreSQL server (started by this test, as an operator's external server), with their own data directories and one
 * shared keys directory. Writers spread over both write concurrently and both ledgers verify with contiguous leaf
 * indexes, one leaf per row; a token and a web session issued by one instance are good on the other; and when the
 * instance seen holding the ledger sequencer's advisory lock is killed ({@code kill -9}), the survivor sequences
 * everything that was committed, within a bound, and the ledgers still verify.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TwoInstancesTest {

    private static final String CLIENT = "process-test"; // ServeProcessTest.kiroku's bootstrap client
    private static final String SECRET = "process-test-secret-0123456789abcdefghij";
    private static final String ADMIN = "ops.admin";
    /** The sequencer's advisory lock (ledger.Sequencer.LOCK), as pg_locks shows a bigint key: classid, objid. */
    private static final long LOCK = 0x4b69726f6b75L;

    private static EmbeddedPostgres postgres;
    private static DataSource db;
    /** JUnit removes it after {@link #stop()}. */
    @TempDir
    static Path work;
    private static final Process[] servers = new Process[2];
    private static final int[] ports = new int[2];
    private static final Path[] logs = new Path[2];
    private static String token;
    private static String auditorToken;
    private static final ConcurrentLinkedQueue<String> acknowledged = new ConcurrentLinkedQueue<>();

    @BeforeAll
    static void startDatabaseAndTwoServers() throws Exception {
        // the operator's PostgreSQL server: roles and database as operations.md says ("An external PostgreSQL server")
        postgres = EmbeddedPostgres.builder().setServerConfig("max_connections", "80").start();
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE kiroku_owner LOGIN PASSWORD 'owner-pw'");
            s.execute("CREATE ROLE kiroku LOGIN PASSWORD 'app-pw'");
            s.execute("CREATE DATABASE kiroku OWNER kiroku_owner ENCODING 'UTF8'");
        }
        db = postgres.getDatabase("postgres", "kiroku");
        // one after the other: the first creates the schema and the shared keys, the second finds them
        servers[0] = start(0);
        // an auditor client for the ledger API, created by the admin command (its own JVM, on the same database)
        Path cliOut = work.resolve("client-create.log");
        Process cli = environment(ServeProcessTest.kiroku("client", "create", "--data-dir", work.resolve("data-cli").toString(),
                "--name", "ledger auditor", "--scopes", "system/AuditEvent.rs"), "cli")
                .redirectErrorStream(true).redirectOutput(cliOut.toFile()).start();
        try {
            servers[1] = start(1);
            assertThat(cli.waitFor(120, TimeUnit.SECONDS)).isTrue();
        } finally {
            cli.destroyForcibly();
        }
        String created = Files.readString(cliOut);
        assertThat(cli.exitValue()).as(created).isZero();
        auditorToken = FhirHttp.fetchToken(root(1), created.replaceAll("(?s).*client_id:\\s+(\\S+).*", "$1"),
                created.replaceAll("(?s).*client_secret:\\s+(\\S+).*", "$1"), null);
        token = FhirHttp.fetchToken(root(0), CLIENT, SECRET, null);
    }

    private static Process start(int i) throws Exception {
        ports[i] = ServeProcessTest.freePort();
        logs[i] = work.resolve("serve-" + i + ".log");
        ProcessBuilder pb = environment(ServeProcessTest.kiroku("serve", "--data-dir", work.resolve("data-" + i).toString(),
                "--port", Integer.toString(ports[i])), Integer.toString(i));
        Process p = pb.redirectErrorStream(true).redirectOutput(logs[i].toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
        FhirHttp http = new FhirHttp(root(i));
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new AssertionError("serve " + i + " exited with " + p.exitValue() + ":\n" + Files.readString(logs[i]));
            }
            try {
                if (http.get(root(i) + "/actuator/health").status() == 200) {
                    return p;
                }
            } catch (RuntimeException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        p.destroyForcibly();
        throw new AssertionError("serve " + i + " did not become healthy:\n" + Files.readString(logs[i]));
    }

    /** The settings every process of this installation shares: the database, the keys; {@code name} names it in pg_stat_activity. */
    private static ProcessBuilder environment(ProcessBuilder pb, String name) {
        // three JVMs start on a shared 2-core machine: the client compiler alone and the serial collector start faster
        pb.command().addAll(1, List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
        pb.environment().put("KIROKU_DB_URL", "jdbc:postgresql://127.0.0.1:" + postgres.getPort()
                + "/kiroku?ApplicationName=kiroku-" + name);
        pb.environment().put("KIROKU_DB_USER", "kiroku");
        pb.environment().put("KIROKU_DB_PASSWORD", "app-pw");
        pb.environment().put("KIROKU_DB_OWNER_USER", "kiroku_owner");
        pb.environment().put("KIROKU_DB_OWNER_PASSWORD", "owner-pw");
        pb.environment().put("KIROKU_DB_POOL_SIZE", "6");
        pb.environment().put("KIROKU_KEYS_DIR", work.resolve("keys").toString());
        pb.environment().put("KIROKU_BOOTSTRAP_ADMIN", ADMIN);
        // staff log in from any browser here (TerminalBindingTest covers the terminal rule)
        pb.environment().put("KIROKU_DEVICES_TERMINAL_REQUIRED", "false");
        return pb;
    }

    @AfterAll
    static void stop() throws Exception {
        for (Process p : servers) {
            if (p != null && p.isAlive()) {
                p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
        if (postgres != null) {
            postgres.close();
        }
    }

    private static String root(int i) {
        return "http://127.0.0.1:" + ports[i];
    }

    /** {@code threads} writers, each creating {@code each} patients through the instances in {@code through}, in turn. */
    private static void write(int threads, int each, int... through) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int writer = t;
                done.add(pool.submit(() -> {
                    for (int n = 0; n < each; n++) {
                        int i = through[(writer + n) % through.length];
                        var created = new FhirHttp(root(i)).withToken(token).post("Patient",
                                "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"並行" + writer + "\",\"given\":[\"" + n + "\"]}]}");
                        assertThat(created.status()).as(created.body()).isEqualTo(201);
                        acknowledged.add(created.as(Patient.class).getIdElement().getIdPart());
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static long count(String sql) throws Exception {
        try (Connection c = db.getConnection(); ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Waits until nothing is pending (some instance sequenced it); false after {@code seconds}. */
    private static boolean drained(int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (count("SELECT count(*) FROM ledger_pending") == 0) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    /** Both ledgers, as the database holds them: one entry per row, indexes 0..n-1, no row numbered twice. */
    private static void assertLedgersComplete() throws Exception {
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ); // one snapshot for all the counts
            for (String[] log : new String[][] {{"1", "resource_version"}, {"2", "audit_log"}}) {
                try (ResultSet rs = c.createStatement().executeQuery("SELECT count(*), count(DISTINCT idx), coalesce(min(idx), 0),"
                        + " coalesce(max(idx), -1), count(DISTINCT source_seq),"
                        + " (SELECT count(*) FROM ledger_pending WHERE log = " + log[0] + "),"
                        + " (SELECT count(*) FROM " + log[1] + ")"
                        + " FROM ledger_entry WHERE log = " + log[0])) {
                    rs.next();
                    long entries = rs.getLong(1);
                    assertThat(rs.getLong(2)).as(log[1] + ": distinct indexes").isEqualTo(entries);
                    assertThat(rs.getLong(3)).as(log[1] + ": first index").isZero();
                    assertThat(rs.getLong(4)).as(log[1] + ": last index (no gap)").isEqualTo(entries - 1);
                    assertThat(rs.getLong(5)).as(log[1] + ": no row numbered twice").isEqualTo(entries);
                    assertThat(entries + rs.getLong(6)).as(log[1] + ": every row is a leaf or pending").isEqualTo(rs.getLong(7));
                }
            }
            c.rollback();
        }
    }

    private static void assertVerifies(int i) {
        var verified = new FhirHttp(root(i)).withToken(auditorToken).get(root(i) + "/admin/ledger/verify");
        assertThat(verified.status()).as(verified.body()).isEqualTo(200);
        assertThat(verified.body()).as(verified.body()).contains("\"ok\":true").contains("\"findings\":[]")
                .doesNotContain("\"kind\"");
    }

    @Test
    @Order(1)
    @Tag("LOG-02")
    @Tag("INTEG-03")
    void twoInstancesWriteConcurrentlyAndBothLedgersVerifyWithNoGaps() throws Exception {
        write(8, 5, 0, 1);
        assertThat(acknowledged).hasSize(40);
        assertThat(drained(20)).as("everything sequenced").isTrue();
        assertLedgersComplete();
        assertThat(count("SELECT count(*) FROM resource_version WHERE res_type = 'Patient'")).isEqualTo(40);
        // both instances sequenced nothing twice and report the same verification
        assertVerifies(0);
        assertVerifies(1);
        // every acknowledged write reads back through either instance
        for (String id : List.copyOf(acknowledged).subList(0, 4)) {
            assertThat(new FhirHttp(root(1)).withToken(token).get("Patient/" + id).status()).isEqualTo(200);
            assertThat(new FhirHttp(root(0)).withToken(token).get("Patient/" + id).status()).isEqualTo(200);
        }
    }

    @Test
    @Order(2)
    void aSessionStartedOnOneInstanceIsGoodOnTheOther() throws Exception {
        Path file = work.resolve("data-0/bootstrap-admin-password.txt");
        if (!Files.exists(file)) {
            file = work.resolve("data-1/bootstrap-admin-password.txt");
        }
        Matcher m = Pattern.compile("one-time password:\\s+(\\S+)").matcher(Files.readString(file));
        assertThat(m.find()).isTrue();
        WebSession onA = new WebSession(root(0));
        var password = PersonLogin.passwordStep(onA, ADMIN, m.group(1));
        assertThat(password.redirect()).as(password.status() + " " + password.body()).isEqualTo("/login/password");
        onA.get("/login/password");
        var changed = onA.post("/login/password", Map.of("password", PersonLogin.GOOD_PASSWORD, "confirm", PersonLogin.GOOD_PASSWORD));
        assertThat(changed.redirect()).as(changed.body()).isEqualTo("/login/totp/enroll");
        byte[] secret = PersonLogin.secretShownOn(onA.get("/login/totp/enroll"));
        assertThat(onA.post("/login/totp/enroll", Map.of("code", PersonLogin.totp(secret, System.currentTimeMillis() / 30_000)))
                .status()).isEqualTo(200);
        assertThat(onA.get("/account/passkeys").status()).isEqualTo(200);

        WebSession onB = new WebSession(root(1));
        assertThat(onB.get("/account/passkeys").redirect()).as("no session: to the login").isEqualTo("/login");
        onB.setCookie("SESSION", onA.sessionCookie());
        var page = onB.get("/account/passkeys");
        assertThat(page.status()).as(page.body()).isEqualTo(200);
        assertThat(page.body()).contains(ADMIN);
    }

    @Test
    @Order(3)
    @Tag("LOG-02")
    @Tag("INTEG-03")
    void whenTheSequencerIsKilledTheOtherInstanceTakesOver() throws Exception {
        int before = acknowledged.size();
        // writers through both instances (through the survivor once one is dead, as a load balancer would) until
        // told to stop; meanwhile watch pg_locks for the instance that holds the sequencer's lock
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        ExecutorService writers = Executors.newFixedThreadPool(4);
        List<Future<?>> running = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int writer = t;
            running.add(writers.submit(() -> {
                for (int n = 0; !stop.get(); n++) {
                    int i = (writer + n) % 2;
                    if (!servers[i].isAlive()) {
                        i = 1 - i;
                    }
                    try {
                        var created = new FhirHttp(root(i)).withToken(token).post("Patient",
                                "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"交代" + writer + "\"}]}");
                        if (created.status() == 201) {
                            acknowledged.add(created.as(Patient.class).getIdElement().getIdPart());
                        }
                    } catch (RuntimeException refused) {
                        // the instance died under this request: not acknowledged, so not counted
                    }
                }
                return null;
            }));
        }
        int holder = -1;
        int survivor;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            try (Connection c = db.getConnection()) {
                while (holder < 0 && System.nanoTime() < deadline) {
                    try (ResultSet rs = c.createStatement().executeQuery("SELECT a.application_name FROM pg_locks l"
                            + " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
                            + " AND l.classid = " + (LOCK >>> 32) + " AND l.objid = " + (LOCK & 0xffffffffL)
                            + " AND l.objsubid = 1")) {
                        if (rs.next()) {
                            holder = Integer.parseInt(rs.getString(1).substring("kiroku-".length()));
                        }
                    }
                }
            }
            assertThat(holder).as("an instance was seen holding the sequencer lock").isNotNegative();
            servers[holder].destroyForcibly(); // kill -9, most likely inside a batch
            assertThat(servers[holder].waitFor(30, TimeUnit.SECONDS)).isTrue();
            System.out.println("TwoInstancesTest: killed instance " + holder + ", the sequencer lock's holder");
            survivor = 1 - holder;
            int atKill = acknowledged.size();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (acknowledged.size() < atKill + 8 && System.nanoTime() < until) {
                Thread.sleep(50); // the writers go on through the survivor
            }
        } finally {
            stop.set(true);
            writers.shutdown();
            assertThat(writers.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
        }
        for (Future<?> f : running) {
            f.get();
        }
        int mid = acknowledged.size();
        // keep writing through the survivor alone
        write(4, 3, survivor);
        assertThat(acknowledged).hasSize(mid + 12);
        assertThat(mid).isGreaterThan(before);

        assertThat(drained(15)).as("the survivor sequenced everything pending within 15 s").isTrue();
        assertThat(count("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                + " WHERE a.application_name = 'kiroku-" + holder + "'")).as("the killed instance holds nothing").isZero();
        assertLedgersComplete();
        // nothing acknowledged was lost: every acknowledged id is stored and each version is a leaf
        try (Connection c = db.getConnection(); ResultSet rs = c.createStatement().executeQuery(
                "SELECT count(DISTINCT v.res_id) FROM resource_version v JOIN ledger_entry e ON e.log = 1"
                        + " AND e.source_seq = v.seq WHERE v.res_type = 'Patient' AND v.res_id = ANY('{"
                        + String.join(",", acknowledged) + "}'::text[])")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(acknowledged.size());
        }
        assertVerifies(survivor);
    }
}
