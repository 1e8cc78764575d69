package jp.kiroku.support;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.util.FileSystemUtils;

import jp.kiroku.KirokuApplication;
import jp.kiroku.audit.Agent;
import jp.kiroku.identity.ClientRegistry;

/**
 * Base of the tests that talk HTTP to a real running Kiroku: one shared server (Spring caches the context) on a random
 * port, with the embedded PostgreSQL in a temporary data directory, or the server named by KIROKU_TEST_DB_URL.
 */
@SpringBootTest(classes = KirokuApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
public abstract class ServerTest {

    public static final String ADMIN_ID = "test-admin";
    public static final String ADMIN_SECRET = "test-admin-secret-0123456789abcdefghijkl";
    public static final int MAX_RESULTS = 200;
    public static final String BOOTSTRAP_ADMIN = "sato.hanako";
    public static final int MAX_STRING_SORT = 25;
    protected static final Path DATA_DIR;
    /** Where the server sends alert mail and alert webhooks (NotificationTest listens there; otherwise nobody does). */
    public static final int SMTP_PORT = freePort();
    public static final int WEBHOOK_PORT = freePort();

    private static int freePort() {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static {
        try {
            DATA_DIR = Files.createTempDirectory("kiroku-test-");
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        // Not a @TempDir: the server, with its embedded PostgreSQL in DATA_DIR, is one for all the test classes of the
        // JVM (Spring caches the context) and stops only when the JVM exits. Spring Boot runs its shutdown handlers once
        // it has closed the application contexts; this one waits for PostgreSQL to be gone, then removes the directory.
        SpringApplication.getShutdownHandlers().add(() -> removeOnceStopped(DATA_DIR));
    }

    /** Removes {@code dir} once the embedded PostgreSQL in it has stopped (no postmaster.pid), waiting 20 s at most. */
    private static void removeOnceStopped(Path dir) {
        Path postmaster = dir.resolve("postgres/postmaster.pid");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        try {
            while (Files.exists(postmaster) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            if (Files.exists(postmaster)) {
                System.err.println("ServerTest: PostgreSQL still runs in " + dir + "; the directory is left in place");
            } else {
                FileSystemUtils.deleteRecursively(dir);
            }
        } catch (java.io.IOException | InterruptedException e) {
            System.err.println("ServerTest: could not remove " + dir + ": " + e);
        }
    }

    @DynamicPropertySource
    static void kirokuProperties(DynamicPropertyRegistry registry) {
        registry.add("kiroku.data-dir", DATA_DIR::toString);
        registry.add("kiroku.port", () -> "0");
        registry.add("kiroku.runtime.role", () -> "serve");
        registry.add("kiroku.bootstrap.client-id", () -> ADMIN_ID);
        registry.add("kiroku.bootstrap.client-secret", () -> ADMIN_SECRET);
        // small limits, so that the refusals above them can be tested with little data
        registry.add("kiroku.search.max-results", () -> String.valueOf(MAX_RESULTS));
        registry.add("kiroku.search.max-string-sort", () -> String.valueOf(MAX_STRING_SORT));
        registry.add("kiroku.search.index-key-refresh", () -> "300ms"); // key rotations settle quickly in tests
        // no waiting between failed logins in tests (LoginThrottleTest proves the delay with its own clock)
        registry.add("kiroku.auth.failure-delay", () -> "0s");
        // every test logs in from 127.0.0.1: the intended failures of all test classes would add up to the address
        // lock (20) and lock out the tests that follow; LoginThrottleTest checks the address lock with the defaults
        registry.add("kiroku.auth.lockout-address-attempts", () -> "100000");
        registry.add("kiroku.bootstrap.admin", () -> BOOTSTRAP_ADMIN);
        registry.add("spring.mail.host", () -> "127.0.0.1");
        registry.add("spring.mail.port", () -> String.valueOf(SMTP_PORT));
        registry.add("spring.mail.properties.mail.smtp.connectiontimeout", () -> "2000");
        registry.add("spring.mail.properties.mail.smtp.timeout", () -> "2000");
        registry.add("kiroku.incidents.notify.mail-to", () -> "security@hospital.example.jp");
        registry.add("kiroku.incidents.notify.webhook", () -> "http://127.0.0.1:" + WEBHOOK_PORT + "/siem");
        // staff log in from any browser here; TerminalBindingTest switches the terminal rule on (BYOD-01)
        registry.add("kiroku.devices.terminal-required", () -> "false");
        // a shorter idle limit for one role (PeopleLoginTest compares it with the default)
        registry.add("kiroku.auth.idle-timeout-by-role.dietitian", () -> "4m");
        TestDatabase.external().ifPresent(db -> {
            registry.add("kiroku.db.url", db::url);
            registry.add("kiroku.db.user", db::user);
            registry.add("kiroku.db.password", db::password);
        });
    }

    @LocalServerPort
    protected int port;

    @Autowired
    protected ClientRegistry clients;

    protected FhirHttp anonymous;
    protected FhirHttp admin;

    @BeforeEach
    protected void clientsForTheRunningServer() {
        anonymous = new FhirHttp("http://127.0.0.1:" + port);
        admin = anonymous.withToken(FhirHttp.fetchToken(anonymous.root(), ADMIN_ID, ADMIN_SECRET, null));
    }

    /**
     * Runs {@code work} while the application's database role is a member of the tables' owner role: what an attacker
     * with the owner's rights (or an operator) could do. The embedded cluster's superuser grants the membership and
     * revokes it afterwards. With an external test database the application's role owns the tables already.
     */
    protected static void withOwnerRights(Runnable work) {
        if (TestDatabase.external().isPresent()) {
            work.run();
            return;
        }
        try {
            java.util.Properties secrets = new java.util.Properties();
            java.util.Properties db = new java.util.Properties();
            try (var in = Files.newInputStream(DATA_DIR.resolve("postgres.secret"));
                 var in2 = Files.newInputStream(DATA_DIR.resolve("run/db.properties"))) {
                secrets.load(in);
                db.load(in2);
            }
            try (var c = java.sql.DriverManager.getConnection(db.getProperty("url"), "postgres", secrets.getProperty("superuser"));
                 var s = c.createStatement()) {
                String grant = db.getProperty("owner.user") + " TO " + db.getProperty("user");
                s.execute("GRANT " + grant);
                try {
                    work.run();
                } finally {
                    s.execute("REVOKE " + db.getProperty("owner.user") + " FROM " + db.getProperty("user"));
                }
            }
        } catch (java.io.IOException | java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A client limited to {@code scopes}, registered now. */
    protected FhirHttp clientWith(String... scopes) {
        var c = clients.create("test " + String.join(" ", scopes), java.util.List.of(scopes), Agent.localOperator());
        return anonymous.withToken(FhirHttp.fetchToken(anonymous.root(), c.clientId(), c.secret(), null));
    }
}
