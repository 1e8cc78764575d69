package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import jp.kiroku.support.FhirHttp;

/**
 * {@code kiroku serve} as a real separate process, as an operator runs it: restarts keep data and keys, a
 * {@code kill -9} loses no acknowledged write and the next start recovers by itself, admin commands work while the
 * server runs (and are audited as the local operator), and the data directory has one owner.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ServeProcessTest {

    private static final String CLIENT = "process-test";
    private static final String SECRET = "process-test-secret-0123456789abcdefghij";
    /** Holds the data directory and the files written beside it; JUnit removes it after {@link #stop()}. */
    @TempDir
    static Path tmp;
    private static Path DATA;
    private static Process server;
    private static int port;
    private static String tokenBeforeRestart;
    private static final List<String> acknowledged = new ArrayList<>();

    @BeforeAll
    static void dataDirectory() throws IOException {
        DATA = Files.createTempDirectory(tmp, "kiroku-process-");
    }

    /** {@code kiroku ...} as a separate JVM on the test class path (also used by DemoModeTest). */
    static ProcessBuilder kiroku(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), "jp.kiroku.KirokuApplication"));
        int dataDir = List.of(args).indexOf("--data-dir");
        if (dataDir >= 0 && dataDir + 1 < args.length) {
            cmd.addAll(1, temporaryFilesIn(Path.of(args[dataDir + 1] + "-tmp")));
        }
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("KIROKU_BOOTSTRAP_CLIENT_ID", CLIENT);
        pb.environment().put("KIROKU_BOOTSTRAP_CLIENT_SECRET", SECRET);
        pb.environment().remove("KIROKU_DB_URL");
        return pb;
    }

    /**
     * The options that give a {@code kiroku} JVM {@code dir} (made now) for its temporary files: what a process killed
     * with {@code kill -9} cannot remove. The tests keep it beside the data directory in a temporary directory of their
     * own. PostgreSQL's binaries stay in the shared cache.
     */
    static List<String> temporaryFilesIn(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return List.of("-Djava.io.tmpdir=" + dir,
                "-Dot.epg.working-dir=" + Path.of(System.getProperty("java.io.tmpdir"), "embedded-pg"));
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static Process startServer() throws Exception {
        port = freePort();
        Path log = DATA.resolveSibling(DATA.getFileName() + "-serve-" + System.nanoTime() + ".log");
        Process p = kiroku("serve", "--data-dir", DATA.toString(), "--port", Integer.toString(port))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        FhirHttp http = new FhirHttp(root());
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new AssertionError("serve exited with " + p.exitValue() + ":\n" + Files.readString(log));
            }
            try {
                if (http.get(root() + "/actuator/health").status() == 200) {
                    assertThat(Files.readString(log)).contains("FHIR R4 base: http://127.0.0.1:" + port + "/fhir")
                            .contains(DATA.toString());
                    return p;
                }
            } catch (RuntimeException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        p.destroyForcibly();
        throw new AssertionError("serve did not become healthy:\n" + Files.readString(log));
    }

    private static String root() {
        return "http://127.0.0.1:" + port;
    }

    private static FhirHttp admin() {
        return new FhirHttp(root()).withToken(FhirHttp.fetchToken(root(), CLIENT, SECRET, null));
    }

    record Result(int exit, String out) {
    }

    /** A command run to its end: exit code and output (stdout and stderr). */
    static Result run(String... args) throws Exception {
        Process p = kiroku(args).redirectErrorStream(true).start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(p.waitFor(180, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out);
    }

    @Test
    @Order(1)
    void dataAndKeysSurviveARestart() throws Exception {
        server = startServer();
        tokenBeforeRestart = FhirHttp.fetchToken(root(), CLIENT, SECRET, null);
        FhirHttp http = new FhirHttp(root()).withToken(tokenBeforeRestart);
        var created = http.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"再起動\"}]}");
        assertThat(created.status()).isEqualTo(201);
        acknowledged.add(created.as(Patient.class).getIdElement().getIdPart());

        server.destroy(); // SIGTERM: graceful stop
        assertThat(server.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.exists(DATA.resolve("run/db.properties"))).as("connection file removed at stop").isFalse();

        server = startServer();
        // Tomcat's scratch directory is the data directory's run/tomcat, used again after the restart, and nothing is
        // left in the temporary directory (Spring Boot's default is a new tomcat.PORT.N there per start)
        assertThat(DATA.resolve("run/tomcat")).isDirectory();
        try (var left = Files.list(Path.of(DATA + "-tmp"))) {
            assertThat(left.map(f -> f.getFileName().toString())).noneMatch(name -> name.startsWith("tomcat"));
        }
        // the token issued before the restart still verifies: signing keys persist in the keys directory
        FhirHttp again = new FhirHttp(root()).withToken(tokenBeforeRestart);
        assertThat(again.get("Patient/" + acknowledged.get(0)).status()).isEqualTo(200);
        assertThat(Files.getPosixFilePermissions(DATA.resolve("keys/token-signing.jwks.json")))
                .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
    }

    @Test
    @Order(2)
    void aSecondServerOnTheSameDataDirectoryIsRefused() throws Exception {
        Result second = run("serve", "--data-dir", DATA.toString(), "--port", Integer.toString(freePort()));
        assertThat(second.exit()).isNotZero();
        assertThat(second.out()).contains("Another Kiroku server is running on");
    }

    @Test
    @Order(3)
    @Tag("LOG-01")
    void anAdminCommandWorksWhileTheServerRunsAndIsAuditedAsTheOperator() throws Exception {
        Result created = run("client", "create", "--data-dir", DATA.toString(), "--name", "lab system",
                "--scopes", "system/Patient.read");
        assertThat(created.exit()).as(created.out()).isZero();
        String id = created.out().replaceAll("(?s).*client_id:\\s+(\\S+).*", "$1");
        String secret = created.out().replaceAll("(?s).*client_secret:\\s+(\\S+).*", "$1");
        FhirHttp lab = new FhirHttp(root()).withToken(FhirHttp.fetchToken(root(), id, secret, null));
        assertThat(lab.get("Patient/" + acknowledged.get(0)).status()).isEqualTo(200);
        assertThat(lab.post("Patient", "{\"resourceType\":\"Patient\"}").status()).isEqualTo(403);

        Properties db = new Properties();
        try (InputStream in = Files.newInputStream(DATA.resolve("run/db.properties"))) {
            db.load(in);
        }
        assertThat(Files.getPosixFilePermissions(DATA.resolve("run/db.properties"))).hasSize(2);
        try (Connection c = DriverManager.getConnection(db.getProperty("url"), db.getProperty("user"), db.getProperty("password"));
             ResultSet rs = c.createStatement().executeQuery("SELECT agent_kind, agent_id, detail FROM audit_log"
                     + " WHERE action = 'client.create' AND detail LIKE 'client=" + id + " %'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("operator");
            assertThat(rs.getString(2)).isEqualTo(System.getProperty("user.name"));
            assertThat(rs.getString(3)).doesNotContain(secret);
        }
        Result bad = run("client", "create", "--data-dir", DATA.toString(), "--name", "x", "--scopes", "everything");
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.out()).contains("'everything' is not a SMART scope").doesNotContain("\tat ");

        // disabling from another process reaches the server within the active-check cache time (5 s)
        Result disabled = run("client", "disable", "--data-dir", DATA.toString(), id);
        assertThat(disabled.exit()).as(disabled.out()).isZero();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int status = 200;
        while (status == 200 && System.nanoTime() < deadline) {
            status = lab.get("Patient/" + acknowledged.get(0)).status();
            Thread.sleep(250);
        }
        assertThat(status).isEqualTo(401);
    }

    @Test
    @Order(5)
    void aShortBootstrapSecretIsRefusedAtStart() throws Exception {
        ProcessBuilder pb = kiroku("serve", "--data-dir", Files.createTempDirectory(tmp, "kiroku-short-").toString(),
                "--port", Integer.toString(freePort())).redirectErrorStream(true);
        pb.environment().put("KIROKU_BOOTSTRAP_CLIENT_SECRET", "too-short");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(180, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isNotZero();
        assertThat(out).contains("KIROKU_BOOTSTRAP_CLIENT_SECRET must have at least 32 characters").doesNotContain("too-short");
    }

    @Test
    @Order(4)
    @Tag("LOG-02")
    @Tag("INTEG-03")
    @Tag("PRES-06")
    void killMinus9WhileEightClientsWriteLosesNoAcknowledgedWriteAndBothLedgersVerify() throws Exception {
        FhirHttp http = admin();
        java.util.concurrent.ExecutorService clients = java.util.concurrent.Executors.newFixedThreadPool(8);
        java.util.concurrent.atomic.AtomicBoolean killed = new java.util.concurrent.atomic.AtomicBoolean();
        List<String> acked = java.util.Collections.synchronizedList(acknowledged);
        for (int c = 0; c < 8; c++) {
            int client = c;
            clients.submit(() -> {
                for (int i = 0; !killed.get(); i++) {
                    try {
                        var r = http.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"強制終了"
                                + client + "-" + i + "\"}]}");
                        if (r.status() == 201) {
                            acked.add(r.as(Patient.class).getIdElement().getIdPart());
                        }
                    } catch (RuntimeException connectionLost) {
                        return; // the server is gone: this write was not acknowledged
                    }
                }
            });
        }
        while (acked.size() < 40) {
            Thread.sleep(20);
        }
        server.destroyForcibly(); // SIGKILL mid-write: no shutdown hooks run, PostgreSQL is left behind
        killed.set(true);
        assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
        clients.shutdown();
        assertThat(clients.awaitTermination(60, TimeUnit.SECONDS)).isTrue();

        server = startServer();
        FhirHttp after = admin();
        for (String id : List.copyOf(acked)) {
            assertThat(after.get("Patient/" + id).status()).as(id).isEqualTo(200);
        }
        // both ledgers hold every version and event written before the kill, and verify (an admin command while the
        // server runs); a checkpoint exported now verifies too
        Path exported = DATA.resolveSibling(DATA.getFileName() + ".checkpoint");
        Result export = run("checkpoint", "export", "--data-dir", DATA.toString(), exported.toString());
        assertThat(export.exit()).as(export.out()).isZero();
        assertThat(Files.readString(exported)).contains("kiroku/record\n").contains("kiroku/audit\n").contains("BEGIN PUBLIC KEY");
        Result verify = run("verify", "--data-dir", DATA.toString(), "--checkpoint", exported.toString());
        assertThat(verify.exit()).as(verify.out()).isZero();
        assertThat(verify.out()).contains("Ledgers verified: OK").contains("kiroku/record: ").contains("kiroku/audit: ");
    }

    @Test
    @Order(6)
    @Tag("NET-03")
    void aNonLoopbackAddressWithoutTlsIsRefused() throws Exception {
        Result r = run("serve", "--data-dir", Files.createTempDirectory(tmp, "kiroku-net03-").toString(),
                "--host", "0.0.0.0", "--port", Integer.toString(freePort()));
        assertThat(r.exit()).isNotZero();
        assertThat(r.out()).contains("Refusing to listen on 0.0.0.0 without TLS");
    }

    @Test
    @Order(7)
    @Tag("LOG-05")
    void theAccessLogExportsAsFhirNdjsonAndAsAtnaXml() throws Exception {
        String id = acknowledged.get(0);
        admin().get("Patient/" + id);
        Path ndjson = DATA.resolveSibling(DATA.getFileName() + "-audit.ndjson");
        Path atna = DATA.resolveSibling(DATA.getFileName() + "-audit.xml");
        Result a = run("audit", "export", "--data-dir", DATA.toString(), "--patient", id, ndjson.toString());
        Result b = run("audit", "export", "--data-dir", DATA.toString(), "--patient", id, "--format", "atna", atna.toString());
        assertThat(a.exit()).as(a.out()).isZero();
        assertThat(b.exit()).as(b.out()).isZero();

        Properties db = new Properties();
        try (InputStream in = Files.newInputStream(DATA.resolve("run/db.properties"))) {
            db.load(in);
        }
        long expected;
        try (Connection c = DriverManager.getConnection(db.getProperty("url"), db.getProperty("user"), db.getProperty("password"));
             java.sql.PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM audit_log WHERE patients @> ARRAY[?]::text[]"
                     + " AND action <> 'audit.export'")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                expected = rs.getLong(1);
            }
        }
        var parser = ca.uhn.fhir.context.FhirContext.forR4Cached().newJsonParser();
        List<org.hl7.fhir.r4.model.AuditEvent> events = Files.readAllLines(ndjson).stream()
                .map(line -> parser.parseResource(org.hl7.fhir.r4.model.AuditEvent.class, line)).toList();
        assertThat(events).hasSize((int) expected).allSatisfy(e -> assertThat(e.getEntity())
                .anySatisfy(en -> assertThat(en.getWhat().getReference()).isEqualTo("Patient/" + id)));
        var doc = javax.xml.parsers.DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(atna.toFile());
        assertThat(doc.getElementsByTagName("AuditMessage").getLength()).isEqualTo((int) expected);
        assertThat(b.out()).contains("Wrote " + expected + " audit events");
        Result bad = run("audit", "export", "--data-dir", DATA.toString(), "--since", "yesterday", "-");
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.out()).contains("--since takes a date").doesNotContain("\tat ");
    }

    /**
     * A stop (SIGTERM) lets the requests in flight finish against the database: Tomcat's graceful shutdown waits for
     * them, and the embedded PostgreSQL stops only after them. (The embedded cluster's library stopped it from its own
     * shutdown hook, at the same moment as the graceful shutdown began, and the batch below lost its database midway.)
     */
    @Test
    @Order(8)
    @Tag("PRES-06")
    void aStopLetsTheRequestInFlightFinishAndKeepsWhatItWrote() throws Exception {
        FhirHttp http = admin();
        int n = 600;
        Bundle batch = new Bundle().setType(Bundle.BundleType.BATCH);
        for (int i = 0; i < n; i++) {
            batch.addEntry().setResource(new Patient().addIdentifier(new Identifier().setSystem("urn:kiroku:test:in-flight")
                    .setValue(Integer.toString(i)))).getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Patient");
        }
        var sent = java.util.concurrent.CompletableFuture.supplyAsync(() -> http.post("", FhirHttp.json(batch)));
        // the batch commits entry by entry: once its first entry is visible, the request is in the server's hands
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (http.get("Patient?identifier=urn:kiroku:test:in-flight%7C0&_summary=count").as(Bundle.class).getTotal() != 1) {
            assertThat(System.nanoTime()).as("the batch's first entry never appeared").isLessThan(deadline);
            Thread.sleep(10);
        }
        server.destroy(); // SIGTERM
        assertThat(sent).as("the batch must still be in flight when the stop begins (make it larger)").isNotDone();

        var response = sent.get(60, TimeUnit.SECONDS);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        var entries = response.as(Bundle.class).getEntry();
        assertThat(entries).hasSize(n).allSatisfy(e -> assertThat(e.getResponse().getStatus()).startsWith("201"));
        assertThat(server.waitFor(60, TimeUnit.SECONDS)).isTrue();

        server = startServer();
        var kept = admin().get("Patient?identifier=urn:kiroku:test:in-flight%7C&_summary=count");
        assertThat(kept.as(Bundle.class).getTotal()).isEqualTo(n);
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null && server.isAlive()) {
            server.destroy();
            if (!server.waitFor(60, TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }
}
