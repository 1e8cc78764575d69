package jp.kiroku.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.KirokuApplication;
import jp.kiroku.audit.Agent;
import jp.kiroku.fhir.Interactions;
import jp.kiroku.identity.Caller;

/**
 * Read replicas (issue 13, item 5): two PostgreSQL 15 clusters made by the test with Debian's binaries — a primary and
 * a streaming standby from {@code pg_basebackup -R} — and a Kiroku server with {@code kiroku.db.url} on the primary
 * and {@code kiroku.db.replica-url} on the standby. Replica reads obey the staleness bound: reads and searches are
 * served by the standby while it is fresh; with replay paused, a read within the bound may show the older version
 * (the documented behaviour), the writer itself reads its own write, and once the standby is older than the bound every
 * read shows the new version (from the primary) and the replica is reported STALE; resumed, reads go back to it;
 * stopped, reads go to the primary.
 */
class ReadReplicaTest {

    private static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
    private static final Duration BOUND = Duration.ofSeconds(3);
    private static Path dir;
    private static int primaryPort;
    private static int standbyPort;
    private static final List<Path> started = new ArrayList<>();
    private static ConfigurableApplicationContext context;

    private static ReadReplica replica;
    private static Interactions interactions;
    private static HealthIndicator health;

    /** The clusters, then a Kiroku server on them (its own Spring context, closed before the clusters stop). */
    @BeforeAll
    static void clustersAndServer() throws Exception {
        clusters();
        Path data = Files.createTempDirectory(dir, "kiroku-data-");
        context = new org.springframework.boot.builder.SpringApplicationBuilder(KirokuApplication.class).properties(Map.of(
                "kiroku.data-dir", data.toString(),
                "kiroku.port", "0",
                "kiroku.runtime.role", "serve",
                "kiroku.db.url", "jdbc:postgresql://127.0.0.1:" + primaryPort + "/kiroku",
                "kiroku.db.user", "kiroku",
                "kiroku.db.password", "kiroku-test",
                "kiroku.db.replica-url", "jdbc:postgresql://127.0.0.1:" + standbyPort + "/kiroku",
                "kiroku.db.replica-max-staleness", BOUND.toString(),
                "kiroku.db.pool-size", "4")).run();
        replica = context.getBean(ReadReplica.class);
        interactions = context.getBean(Interactions.class);
        health = context.getBean("replicaHealthIndicator", HealthIndicator.class);
    }

    private static void clusters() throws Exception {
        boolean present = Files.isExecutable(BIN.resolve("initdb")) && Files.isExecutable(BIN.resolve("pg_basebackup"));
        if (!present) {
            String why = "PostgreSQL 15 server binaries (initdb, pg_ctl, pg_basebackup) are missing in " + BIN
                    + ": install Debian's postgresql-15 (.ci/run does)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail(why);
            }
            Assumptions.abort(why);
        }
        dir = Files.createTempDirectory("kiroku-replica-");
        dir.toFile().setWritable(true, false);
        dir.toFile().setExecutable(true, false);
        dir.toFile().setReadable(true, false);
        primaryPort = freePort();
        standbyPort = freePort();
        Path primary = dir.resolve("primary");
        Path standby = dir.resolve("standby");
        run("initdb", "-D", primary.toString(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync");
        Files.writeString(primary.resolve("postgresql.conf"), "\nlisten_addresses = '127.0.0.1'\nport = " + primaryPort
                + "\nunix_socket_directories = '" + dir + "'\nwal_level = replica\nmax_wal_senders = 4\nfsync = off\n"
                + "shared_buffers = 32MB\nhot_standby = on\n", java.nio.file.StandardOpenOption.APPEND);
        // replication connections from this machine only (initdb's trust lines already say so; explicit for the reader)
        Files.writeString(primary.resolve("pg_hba.conf"), "\nhost replication replicator 127.0.0.1/32 trust\n",
                java.nio.file.StandardOpenOption.APPEND);
        start(primary);
        try (Connection c = superuser(primaryPort, "postgres"); Statement st = c.createStatement()) {
            st.execute("CREATE ROLE replicator REPLICATION LOGIN");
            st.execute("CREATE ROLE kiroku LOGIN PASSWORD 'kiroku-test'");
            st.execute("CREATE DATABASE kiroku OWNER kiroku ENCODING 'UTF8'");
        }
        run("pg_basebackup", "-h", "127.0.0.1", "-p", Integer.toString(primaryPort), "-U", "replicator", "-D",
                standby.toString(), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync");
        Files.writeString(standby.resolve("postgresql.conf"), "\nport = " + standbyPort + "\n",
                java.nio.file.StandardOpenOption.APPEND);
        start(standby);
        try (Connection c = superuser(standbyPort, "postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            rs.next();
            assertThat(rs.getBoolean(1)).as("the second cluster is a standby").isTrue();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (context != null) {
                context.close(); // before the clusters go: its pools and the sequencer still hold connections
            }
        } finally {
            for (int i = started.size() - 1; i >= 0; i--) {
                try {
                    run("pg_ctl", "-D", started.get(i).toString(), "-m", "immediate", "-w", "stop");
                } catch (Exception e) {
                    System.err.println("could not stop " + started.get(i) + ": " + e);
                }
            }
            if (dir != null) {
                // the JVM's first Tomcat makes its base directory catalina.home, which every later one creates again
                for (String tomcat : List.of("catalina.home", "catalina.base")) {
                    if (System.getProperty(tomcat, "").startsWith(dir.toString())) {
                        System.clearProperty(tomcat);
                    }
                }
                try (var walk = Files.walk(dir)) {
                    walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    private static final Caller WRITER = new Caller(new Agent(Agent.Kind.CLIENT, "replica-writer", "127.0.0.1"),
            List.of("system/*.cruds"));
    private static final Caller READER = new Caller(new Agent(Agent.Kind.CLIENT, "replica-reader", "127.0.0.1"),
            List.of("system/*.cruds"));

    @Test
    void replicaReadsObeyTheStalenessBound() throws Exception {
        assertThat(replica.configured()).isTrue();
        String id = "replica-" + System.nanoTime();
        put(id, "Yamada");
        waitFor("the replica to replay the first version", () -> replica.status().usable() && freshFor(READER));

        // (1) reads and searches are served by the standby
        long before = replica.status().replicaReads();
        assertThat(familyOf(interactions.read(READER, "Patient", id))).isEqualTo("Yamada");
        assertThat(searchFamily(READER, id)).isEqualTo("Yamada");
        assertThat(replica.status().replicaReads()).as("read and search answered by the replica").isGreaterThan(before);
        assertThat(standbySessions()).as("the server holds connections on the standby").isPositive();

        // (2) replay paused: a new version on the primary
        long paused = System.nanoTime();
        sql(standbyPort, "SELECT pg_wal_replay_pause()");
        waitFor("replay to pause", () -> "paused".equals(query(standbyPort, "SELECT pg_get_wal_replay_pause_state()")));
        long written = System.nanoTime();
        put(id, "Suzuki");
        // the writer reads its own write at once (read-your-writes: from the primary)
        assertThat(familyOf(interactions.read(WRITER, "Patient", id))).isEqualTo("Suzuki");
        // another caller, within the bound: the replica may still answer with the older version — documented
        String early = familyOf(interactions.read(READER, "Patient", id));
        long elapsed = System.nanoTime() - paused; // the replica is fresh as of about the pause (less one check interval)
        if (elapsed < BOUND.toNanos() / 2) {
            assertThat(early).as("within the bound the paused replica answers (older version)").isEqualTo("Yamada");
        } else {
            System.out.println("ReadReplicaTest: the machine was too slow to check the read within the bound ("
                    + TimeUnit.NANOSECONDS.toMillis(elapsed) + " ms); it answered " + early);
        }
        // longer than the bound: never older than the bound, so the primary answers, and the replica is reported stale
        Thread.sleep(Math.max(0, BOUND.toMillis() + 500 - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - written)));
        long primaryBefore = replica.status().primaryReads();
        assertThat(familyOf(interactions.read(READER, "Patient", id))).isEqualTo("Suzuki");
        assertThat(searchFamily(READER, id)).isEqualTo("Suzuki");
        assertThat(familyOf(interactions.vread(READER, "Patient", id, 2))).isEqualTo("Suzuki");
        assertThat(interactions.history(READER, "Patient", id, 10)).hasSize(2);
        assertThat(chartFamily(READER, id)).isEqualTo("Suzuki");
        ReadReplica.Status stale = replica.status();
        assertThat(stale.usable()).isFalse();
        assertThat(stale.primaryReads()).isGreaterThan(primaryBefore);
        assertThat(stale.staleness()).isGreaterThan(BOUND);
        assertThat(health.health().getStatus().getCode()).isEqualTo("STALE");
        assertThat(usableGauge()).as("kiroku.db.replica.usable while stale").isZero();

        // (3) replay resumed: reads go back to the replica
        sql(standbyPort, "SELECT pg_wal_replay_resume()");
        waitFor("the replica to catch up", () -> replica.status().usable() && freshFor(READER));
        long replicaBefore = replica.status().replicaReads();
        assertThat(familyOf(interactions.read(READER, "Patient", id))).isEqualTo("Suzuki");
        assertThat(searchFamily(READER, id)).isEqualTo("Suzuki");
        assertThat(interactions.history(READER, "Patient", id, 10)).hasSize(2);
        assertThat(chartFamily(READER, id)).isEqualTo("Suzuki");
        assertThat(replica.status().replicaReads()).isGreaterThan(replicaBefore + 3);
        assertThat(usableGauge()).as("kiroku.db.replica.usable when fresh again").isEqualTo(1.0);
        assertThat(context.getBean(io.micrometer.core.instrument.MeterRegistry.class).get("kiroku.db.replica.reads")
                .tag("target", "replica").functionCounter().count()).isEqualTo((double) replica.status().replicaReads());
        assertThat(health.health().getStatus().getCode()).isEqualTo("UP");

        // (4) the standby goes away: reads fall back to the primary (a failed replica read is repeated there)
        Path standby = started.remove(started.size() - 1);
        run("pg_ctl", "-D", standby.toString(), "-m", "immediate", "-w", "stop");
        put(id, "Tanaka");
        assertThat(familyOf(interactions.read(READER, "Patient", id))).isEqualTo("Tanaka");
        assertThat(searchFamily(READER, id)).isEqualTo("Tanaka");
        waitFor("the replica to be reported unreachable", () -> !replica.status().reachable());
        assertThat(familyOf(interactions.read(READER, "Patient", id))).isEqualTo("Tanaka");
        assertThat(health.health().getStatus().getCode()).isEqualTo("STALE");
        assertThat(replica.status().problem()).startsWith("unreachable");
    }

    /** Whether the replica would serve this caller now (no recent write of theirs, fresh within the bound). */
    private boolean freshFor(Caller caller) {
        return replica.usable(caller.agent().kind().code() + ":" + caller.agent().id());
    }

    private void put(String id, String family) {
        Patient p = new Patient();
        p.setId(id);
        p.addName(new HumanName().setFamily(family).addGiven("Taro"));
        Bundle b = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        b.addEntry().setResource(p).getRequest().setMethod(Bundle.HTTPVerb.PUT).setUrl("Patient/" + id);
        interactions.transaction(WRITER, b);
    }

    private String searchFamily(Caller caller, String id) {
        Bundle found = interactions.search(caller, "Patient", Map.of("_id", List.of(id)));
        assertThat(found.getEntry()).hasSize(1);
        return familyOf((Resource) found.getEntryFirstRep().getResource());
    }

    private String chartFamily(Caller caller, String id) {
        Bundle chart = interactions.chart(caller, id, Map.of());
        return chart.getEntry().stream().map(Bundle.BundleEntryComponent::getResource).filter(Patient.class::isInstance)
                .map(r -> familyOf((Resource) r)).findFirst().orElseThrow();
    }

    private static String familyOf(Resource r) {
        return ((Patient) r).getNameFirstRep().getFamily();
    }

    private static long standbySessions() throws Exception {
        return Long.parseLong(query(standbyPort, "SELECT count(*) FROM pg_stat_activity WHERE application_name ="
                + " 'kiroku-serve-replica'"));
    }

    private static void waitFor(String what, BooleanSupplier done) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > until) {
                throw new AssertionError("timed out waiting for " + what + ": " + ReadReplicaTest.class.getSimpleName()
                        + " status " + statusText());
            }
            Thread.sleep(100);
        }
    }

    private static String statusText() {
        return context == null ? "?" : context.getBean(ReadReplica.class).status().toString();
    }

    private static String query(int port, String sql) {
        try (Connection c = superuser(port, "kiroku"); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sql(int port, String sql) {
        query(port, sql);
    }

    private static Connection superuser(int port, String db) throws java.sql.SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + db, "postgres", "");
    }

    private static void start(Path data) throws Exception {
        run("pg_ctl", "-D", data.toString(), "-l", data.resolveSibling(data.getFileName() + ".log").toString(), "-w",
                "-t", "30", "start");
        started.add(data);
    }

    /** Runs a PostgreSQL program; as root (these machines), as the postgres account, which initdb requires. */
    private static void run(String program, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        if ("root".equals(System.getProperty("user.name"))) {
            cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        cmd.add(BIN.resolve(program).toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(program + " failed: " + out);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static double usableGauge() {
        return context.getBean(io.micrometer.core.instrument.MeterRegistry.class).get("kiroku.db.replica.usable").gauge().value();
    }
}
