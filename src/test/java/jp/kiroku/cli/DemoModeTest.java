package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.WebSession;
import jp.kiroku.support.WebSession.Page;

/**
 * {@code kiroku serve --demo} as a newcomer runs it, in a real process: the printed credentials log in with a code
 * computed from the printed TOTP secret, the physician finds and opens JP Core and Synthea patients, every page says
 * it is a demo, a restart loads nothing twice, and demo and real data never share a database.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DemoModeTest {

    private static final Pattern ROW = Pattern.compile("^(demo-\\S+)\\s+(\\S+)\\s+(\\S+)\\s+([A-Z2-7]{32})\\s+(otpauth://\\S+)$",
            Pattern.MULTILINE);
    private static final String BANNER = "class=\"demo-banner\"";
    private static final String SYNTHEA_PATIENT = "1ae0605d-e5b8-4d6d-a96d-c93dcbd57e06"; // Luigi Wiegand
    /** Holds the data directories and the logs; JUnit removes it after {@link #stopServer()}. */
    @TempDir
    static Path tmp;
    private static Path data;
    private static Process server;
    private static int port;
    /** user name → the row printed for it: password, role, TOTP secret, otpauth URI. */
    private static Map<String, String[]> printed;
    private static long resourcesAfterFirstStart;

    private record Start(Process process, String log) {
    }

    /** Starts {@code serve --demo} on {@code data} and waits until it has printed the credentials table. */
    private static Start startDemo() throws Exception {
        port = ServeProcessTest.freePort();
        Path log = Files.createTempFile(tmp, "kiroku-demo-", ".log");
        ProcessBuilder pb = ServeProcessTest.kiroku("serve", "--demo", "--data-dir", data.toString(), "--port",
                Integer.toString(port));
        pb.environment().remove("KIROKU_BOOTSTRAP_CLIENT_ID");
        pb.environment().remove("KIROKU_BOOTSTRAP_CLIENT_SECRET");
        Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (System.nanoTime() < deadline) {
            String out = Files.readString(log);
            if (out.contains("Kiroku is ready")) {
                return new Start(p, out);
            }
            if (!p.isAlive()) {
                throw new AssertionError("serve --demo exited with " + p.exitValue() + ":\n" + out);
            }
            Thread.sleep(250);
        }
        p.destroyForcibly();
        throw new AssertionError("serve --demo did not become ready:\n" + Files.readString(log));
    }

    private static Map<String, String[]> table(String log) {
        Map<String, String[]> rows = new LinkedHashMap<>();
        Matcher m = ROW.matcher(log);
        while (m.find()) {
            rows.put(m.group(1), new String[] {m.group(2), m.group(3), m.group(4), m.group(5)});
        }
        return rows;
    }

    /** Logs in with the printed password and a code of the printed secret ({@code stepsAhead} steps from now). */
    private static WebSession login(String username, int stepsAhead) {
        WebSession browser = new WebSession("http://127.0.0.1:" + port);
        String[] row = printed.get(username);
        assertThat(PersonLogin.passwordStep(browser, username, row[0]).redirect()).as(username).isEqualTo("/login/totp");
        browser.get("/login/totp");
        String code = PersonLogin.totp(PersonLogin.base32(row[2]), System.currentTimeMillis() / 30_000 + stepsAhead);
        Page done = browser.post("/login/totp", Map.of("code", code));
        assertThat(done.redirect()).as(username + ": " + done.body()).isEqualTo("/");
        return browser;
    }

    private static <T> T query(String sql, Class<T> type) throws Exception {
        Properties db = new Properties();
        try (InputStream in = Files.newInputStream(data.resolve("run/db.properties"))) {
            db.load(in);
        }
        try (Connection c = DriverManager.getConnection(db.getProperty("url"), db.getProperty("user"), db.getProperty("password"));
             ResultSet rs = c.createStatement().executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getObject(1, type);
        }
    }

    private static void stop() throws Exception {
        server.destroy();
        assertThat(server.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }

    @AfterAll
    static void stopServer() throws InterruptedException {
        if (server != null && server.isAlive()) { // gracefully: a killed server leaves its PostgreSQL running in data
            server.destroy();
            if (!server.waitFor(60, TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    @Order(1)
    void aFirstDemoStartLoadsTheExamplesAndItsPrintedCredentialsLogInAsEveryRole() throws Exception {
        data = Files.createTempDirectory(tmp, "kiroku-demo-");
        Start start = startDemo();
        server = start.process();
        printed = table(start.log());
        assertThat(printed.keySet()).containsExactly("demo-physician", "demo-nurse", "demo-pharmacist", "demo-assistant",
                "demo-clerk", "demo-admin", "demo-auditor", "demo-patient");
        assertThat(printed.values().stream().map(r -> r[1])).containsExactly("physician", "nurse", "pharmacist",
                "doctor-assistant", "clerk", "admin", "auditor", "patient");
        assertThat(printed.get("demo-nurse")[3]).startsWith("otpauth://totp/Kiroku:demo-nurse?secret="
                + printed.get("demo-nurse")[2] + "&");
        assertThat(start.log()).contains("Open http://127.0.0.1:" + port + "/login")
                .contains("kiroku.devices.terminal-required=false").contains("Demo data loaded: 48 JP Core examples, 4 patients");
        assertThat(Files.getPosixFilePermissions(data.resolve("demo-accounts.txt"))).hasSize(2);

        // the login page, before anyone is signed in, already says it is a demo (in Japanese, and in English)
        WebSession anonymous = new WebSession("http://127.0.0.1:" + port);
        assertThat(anonymous.get("/login").body()).contains(BANNER).contains("デモ環境です");
        assertThat(anonymous.get("/login?lang=en").body()).contains(BANNER).contains("Demo — every patient");

        WebSession physician = login("demo-physician", 0);
        Page found = physician.get("/patients?name=" + URLEncoder.encode("山田", StandardCharsets.UTF_8));
        assertThat(found.body()).contains(BANNER).contains("/patients/jp-patient-example-1").contains("ヤマダ タロウ");
        assertThat(physician.get("/patients?name=Wiegand").body()).contains("/patients/" + SYNTHEA_PATIENT);
        Page chart = physician.get("/patients/jp-patient-example-1");
        assertThat(chart.status()).isEqualTo(200);
        assertThat(chart.body()).contains(BANNER).contains("ムコダイン錠２５０ｍｇ"); // a JP Core MedicationRequest
        assertThat(physician.get("/patients/" + SYNTHEA_PATIENT).body()).contains(BANNER).contains("Wiegand")
                .doesNotContain("break-glass-form");
        assertThat(physician.get("/").body()).contains(BANNER);

        // every other role logs in at once (no password change, no enrolment) and sees the banner on its pages
        for (String user : printed.keySet()) {
            if (!user.equals("demo-physician")) {
                assertThat(login(user, 0).get("/").body()).as(user).contains(BANNER);
            }
        }
        assertThat(login("demo-admin", 1).get("/console/users").body()).contains(BANNER).contains("demo-auditor");
        assertThat(login("demo-auditor", 1).get("/console/audit").body()).contains(BANNER);

        // written through the FHIR write path as the local operator: audited transactions, ledgered versions
        assertThat(query("SELECT count(*) FROM audit_log WHERE action = 'transaction' AND agent_kind = 'operator'"
                + " AND outcome = 'success'", Long.class)).isEqualTo(5L);
        assertThat(query("SELECT count(*) FROM resource_version WHERE res_type = 'CareTeam'", Long.class)).isEqualTo(4L);
        resourcesAfterFirstStart = query("SELECT count(*) FROM resource_version", Long.class);
    }

    @Test
    @Order(2)
    void aSecondStartLoadsNothingAgainAndPrintsTheSameCredentials() throws Exception {
        stop();
        Start again = startDemo();
        server = again.process();
        assertThat(again.log()).doesNotContain("Demo data loaded");
        assertThat(table(again.log())).hasSameSizeAs(printed);
        table(again.log()).forEach((user, row) -> assertThat(row).as(user).containsExactly(printed.get(user)));
        assertThat(query("SELECT count(*) FROM resource_version", Long.class)).isEqualTo(resourcesAfterFirstStart);
        assertThat(query("SELECT count(*) FROM account", Long.class)).isEqualTo(8L);
        // the physician's code of the first start's step is spent: the next step's code works
        assertThat(login("demo-physician", 1).get("/patients/jp-patient-example-1").body()).contains("ムコダイン錠２５０ｍｇ");
    }

    @Test
    @Order(3)
    void aDemoDatabaseIsRefusedWithoutDemo() throws Exception {
        stop();
        ServeProcessTest.Result plain = ServeProcessTest.run("serve", "--data-dir", data.toString(), "--port",
                Integer.toString(ServeProcessTest.freePort()));
        assertThat(plain.exit()).isNotZero();
        assertThat(plain.out()).contains("kiroku: Refused: the data directory " + data.toAbsolutePath() + " is a Kiroku demo")
                .contains("Start it with 'kiroku serve --demo', or use a fresh --data-dir for real data.")
                .doesNotContain("\tat ");
    }

    @Test
    @Order(4)
    void demoModeRefusesADataDirectoryThatHoldsRealData() throws Exception {
        Path real = Files.createTempDirectory(tmp, "kiroku-real-");
        ServeProcessTest.Result client = ServeProcessTest.run("client", "create", "--data-dir", real.toString(), "--name",
                "lab system", "--scopes", "system/Patient.read");
        assertThat(client.exit()).as(client.out()).isZero();
        ServeProcessTest.Result demo = ServeProcessTest.run("serve", "--demo", "--data-dir", real.toString(), "--port",
                Integer.toString(ServeProcessTest.freePort()));
        assertThat(demo.exit()).isNotZero();
        assertThat(demo.out()).contains("kiroku: Demo mode refused: the data directory " + real.toAbsolutePath()
                        + " holds data that is not a demo (0 resources, 0 accounts, 1 clients).")
                .contains("use another, e.g. --data-dir kiroku-demo").doesNotContain("\tat ")
                .doesNotContain("Demo data loaded");
        assertThat(real.resolve("demo-accounts.txt")).doesNotExist();
    }
}
