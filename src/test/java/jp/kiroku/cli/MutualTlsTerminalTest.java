package jp.kiroku.cli;

import static jp.kiroku.support.TestCertificates.certificate;
import static jp.kiroku.support.TestCertificates.keyPair;
import static jp.kiroku.support.TestCertificates.pem;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jp.kiroku.support.WebSession;

/**
 * A terminal enrolled by its TLS client certificate (issue 9, item 2: mutual TLS as the option when TLS ends at
 * Kiroku): a server started with TLS and client-auth=want, its default terminal rule on. A staff login over TLS with
 * the enrolled certificate proceeds; without a certificate, or with another certificate of the same CA, it is
 * refused; once the terminal is retired its certificate no longer counts.
 */
@Tag("BYOD-01")
class MutualTlsTerminalTest {

    /** JUnit removes it after {@link #stop()}. */
    @TempDir
    static Path DIR;
    private static Process server;
    private static int port;
    private static KeyPair caKey;
    private static X509Certificate ca;

    @BeforeAll
    static void startWithTls() throws Exception {
        caKey = keyPair();
        ca = certificate("CN=Kiroku test CA", caKey, "CN=Kiroku test CA", caKey, true, false);
        KeyPair serverKey = keyPair();
        X509Certificate serverCert = certificate("CN=127.0.0.1", serverKey, "CN=Kiroku test CA", caKey, false, true);
        pem(DIR.resolve("ca.pem"), ca);
        pem(DIR.resolve("server.pem"), serverCert);
        pem(DIR.resolve("server.key"), serverKey.getPrivate());
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path data = DIR.resolve("data");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), "jp.kiroku.KirokuApplication", "serve",
                "--data-dir", data.toString(), "--port", String.valueOf(port),
                "--server.ssl.certificate=" + DIR.resolve("server.pem"),
                "--server.ssl.certificate-private-key=" + DIR.resolve("server.key"),
                "--server.ssl.trust-certificate=" + DIR.resolve("ca.pem"), "--server.ssl.client-auth=want"));
        cmd.addAll(1, ServeProcessTest.temporaryFilesIn(DIR.resolve("tmp")));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(DIR.resolve("serve.log").toFile());
        pb.environment().remove("KIROKU_DB_URL");
        server = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            assertThat(server.isAlive()).as("serve exited:\n" + Files.readString(DIR.resolve("serve.log"))).isTrue();
            try {
                if (new WebSession(root(), tls(null)).get("/actuator/health").status() == 200) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        throw new AssertionError("serve did not start:\n" + Files.readString(DIR.resolve("serve.log")));
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.destroy();
            if (!server.waitFor(30, TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aLoginOverTlsCountsOnlyFromTheEnrolledClientCertificate() throws Exception {
        Path data = DIR.resolve("data");
        KeyPair terminalKey = keyPair();
        X509Certificate terminalCert = certificate("CN=ward-3-pc-12", terminalKey, "CN=Kiroku test CA", caKey, false, false);
        pem(DIR.resolve("terminal.pem"), terminalCert);
        CliRun registered = CliRun.kiroku(data, "device", "register", "--kind", "terminal", "--name", "病棟3F PC 12",
                "--owner", "facility:main", "--management", "managed", "--responsible", "sato.hanako");
        assertThat(registered.code()).as(registered.err()).isZero();
        String device = registered.out().replaceAll("(?s)^Registered device (\\S+) .*$", "$1");
        CliRun enrolled = CliRun.kiroku(data, "device", "enroll", device, "--certificate", DIR.resolve("terminal.pem").toString());
        assertThat(enrolled.code()).as(enrolled.err()).isZero();
        assertThat(enrolled.out()).contains("CN=ward-3-pc-12");
        CliRun user = CliRun.kiroku(data, "user", "create", "--username", "kango.tls", "--name", "看護 花子", "--kana",
                "カンゴ ハナコ", "--roles", "nurse", "--profession", "nurse");
        assertThat(user.code()).as(user.err()).isZero();
        String otp = user.out().replaceAll("(?s)^.*one-time password:\\s+(\\S+).*$", "$1");

        assertThat(passwordStep(tls(null), otp).body()).as("no certificate").contains("this terminal is not registered");
        KeyPair strangerKey = keyPair();
        X509Certificate stranger = certificate("CN=stranger", strangerKey, "CN=Kiroku test CA", caKey, false, false);
        assertThat(passwordStep(tls(new Object[] {strangerKey, stranger}), otp).body()).as("the same CA, not enrolled")
                .contains("not valid");
        assertThat(passwordStep(tls(new Object[] {terminalKey, terminalCert}), otp).redirect()).as("the enrolled terminal")
                .isEqualTo("/login/password");

        assertThat(CliRun.kiroku(data, "device", "state", device, "retired", "--reason", "更新で撤去").code()).isZero();
        Thread.sleep(5_500); // the serving process forgets a terminal within kiroku.tokens.active-check-cache (5 s)
        assertThat(passwordStep(tls(new Object[] {terminalKey, terminalCert}), otp).body()).as("retired")
                .contains("not valid");
    }

    private static WebSession.Page passwordStep(SSLContext tls, String otp) {
        WebSession browser = new WebSession(root(), tls);
        browser.get("/login");
        return browser.post("/login", Map.of("username", "kango.tls", "password", otp));
    }

    private static String root() {
        return "https://127.0.0.1:" + port;
    }

    /** TLS trusting the test CA, presenting {key, certificate} when given. */
    private static SSLContext tls(Object[] client) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (client != null) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("terminal", ((KeyPair) client[0]).getPrivate(), "x".toCharArray(),
                    new X509Certificate[] {(X509Certificate) client[1], ca});
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, "x".toCharArray());
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }
}
