package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.regex.Pattern;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jp.kiroku.support.ServerTest;

/**
 * {@code kiroku doctor} (issue 13, item 4) against the running test server's data directory: each area reports OK,
 * WARN or FAIL with what to fix, and the exit status follows the worst (0/1/2). Flips: a data directory opened to
 * other users fails and, closed again, is OK; a key backup turns "no key backup" into OK; an expiring or expired TLS
 * certificate warns or fails; an unreachable database and a setting that does not parse fail.
 */
class DoctorTest extends ServerTest {

    @Test
    void checksTheInstallationAndSaysWhatToFix() throws Exception {
        CliRun run = CliRun.kiroku(DATA_DIR, "doctor");
        assertThat(run.err()).isEmpty();
        String out = run.out();
        assertThat(out).containsPattern(line("OK", "configuration", "settings load"))
                .doesNotContain("key files others may read")
                .containsPattern(line("OK", "configuration", "data directory " + Pattern.quote(DATA_DIR.toString()) + " \\(mode 0700\\)"))
                .containsPattern(line("OK", "database", "reachable as kiroku: embedded PostgreSQL of the running server, PostgreSQL 15"))
                .containsPattern(line("OK", "database", "schema current \\(V" + MigrationVersions.latest() + ", no migration pending\\)"))
                .containsPattern(line("OK", "database", "role kiroku: only SELECT and INSERT on the \\d+ append-only tables \\(.*audit_log.*resource_version.*\\)"))
                .containsPattern(line("OK", "keys", "master key store "))
                .containsPattern(line("OK", "keys", "keys directory .* \\(mode 0700\\)"))
                // the test server runs with trial keys, and nobody backed them up yet
                .containsPattern(line("WARN", "keys", "trial keys: the master key passphrase is written beside the key store"))
                .contains("→ production: set KIROKU_MASTER_KEY_PASSPHRASE_FILE")
                .containsPattern("(OK|WARN|FAIL) +clock ")
                .containsPattern("(OK|WARN|FAIL) +disk +data directory .*GiB free of")
                .containsPattern(line("WARN", "disk", "kiroku.backup.target is not set"))
                .containsPattern(line("OK", "tls", "not configured: Kiroku serves plain HTTP on loopback only"));
        assertThat(run.code()).as(out).isEqualTo(out.contains("\nFAIL ") ? 2 : 1);
        assertThat(out).containsPattern("(WARN|FAIL): \\d+ checks, \\d+ warning\\(s\\), \\d+ failure\\(s\\)");

        // the data directory opened to everybody, then to its group, then closed again
        try {
            Files.setPosixFilePermissions(DATA_DIR, PosixFilePermissions.fromString("rwxr-xr-x"));
            CliRun open = CliRun.kiroku(DATA_DIR, "doctor");
            assertThat(open.out()).containsPattern(line("FAIL", "configuration", "data directory .* is open to every user of this machine \\(mode 0755\\)"))
                    .contains("→ chmod 0700 " + DATA_DIR);
            assertThat(open.code()).isEqualTo(2);
            Files.setPosixFilePermissions(DATA_DIR, PosixFilePermissions.fromString("rwxr-x---"));
            assertThat(CliRun.kiroku(DATA_DIR, "doctor").out())
                    .containsPattern(line("WARN", "configuration", "data directory .* is open to its group \\(mode 0750\\)"));
        } finally {
            Files.setPosixFilePermissions(DATA_DIR, PosixFilePermissions.fromString("rwx------"));
        }
        assertThat(CliRun.kiroku(DATA_DIR, "doctor").out())
                .containsPattern(line("OK", "configuration", "data directory .* \\(mode 0700\\)"));

        // a key file others may read
        Path store = DATA_DIR.resolve("keys/master-key.p12");
        var mode = Files.getPosixFilePermissions(store);
        try {
            Files.setPosixFilePermissions(store, PosixFilePermissions.fromString("rw-r--r--"));
            CliRun readable = CliRun.kiroku(DATA_DIR, "doctor");
            assertThat(readable.out()).containsPattern(line("FAIL", "keys", "key files others may read or write: .*master-key.p12"));
            assertThat(readable.code()).isEqualTo(2);
        } finally {
            Files.setPosixFilePermissions(store, mode);
        }
        assertThat(CliRun.kiroku(DATA_DIR, "doctor").out()).doesNotContain("key files others may read");

        // a public key may be read by anyone (it verifies checkpoints), written by nobody else
        Path pub = DATA_DIR.resolve("keys/doctor-test.pub.pem");
        try {
            Files.writeString(pub, "-----BEGIN PUBLIC KEY-----\n");
            Files.setPosixFilePermissions(pub, PosixFilePermissions.fromString("rw-r--r--"));
            assertThat(CliRun.kiroku(DATA_DIR, "doctor").out()).doesNotContain("key files others may read");
            Files.setPosixFilePermissions(pub, PosixFilePermissions.fromString("rw-rw-rw-"));
            assertThat(CliRun.kiroku(DATA_DIR, "doctor").out())
                    .containsPattern(line("FAIL", "keys", "key files others may read or write: .*doctor-test.pub.pem"));
        } finally {
            Files.deleteIfExists(pub);
        }
    }

    @Test
    void aKeyBackupIsSeen(@TempDir Path tmp) throws Exception {
        Path target = Files.createTempDirectory(tmp, "kiroku-doctor-keys-");
        CliRun before = CliRun.kiroku(DATA_DIR, "doctor");
        if (before.out().contains("no key backup recorded")) {
            assertThat(before.out()).contains("→ run kiroku keys backup --to");
        }
        CliRun backup = CliRun.kiroku(DATA_DIR, "keys", "backup", "--to", target.toString());
        assertThat(backup.code()).as(backup.err()).isZero();
        CliRun after = CliRun.kiroku(DATA_DIR, "doctor");
        assertThat(after.out()).doesNotContain("no key backup recorded")
                .containsPattern(line("OK", "keys", "newest key backup .* \\(0 h ago\\)"));
    }

    @Test
    void tlsCertificatesAreCheckedForExpiry(@TempDir Path tmp) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "kiroku-doctor-tls-");
        Path soon = certificate(dir.resolve("soon.pem"), Instant.now().plus(10, ChronoUnit.DAYS));
        Path expired = certificate(dir.resolve("expired.pem"), Instant.now().minus(1, ChronoUnit.DAYS));
        Path good = certificate(dir.resolve("good.pem"), Instant.now().plus(365, ChronoUnit.DAYS));

        CliRun s = CliRun.kiroku(DATA_DIR, "doctor", "--server.ssl.certificate=" + soon);
        assertThat(s.out()).containsPattern(line("WARN", "tls", "certificate CN=kiroku.hospital.example.jp valid until .* \\((9|10) days left\\)"))
                .contains("→ renew the certificate before it expires")
                .containsPattern(line("WARN", "tls", "the certificate is self-signed"));
        CliRun e = CliRun.kiroku(DATA_DIR, "doctor", "--server.ssl.certificate=" + expired);
        assertThat(e.out()).containsPattern(line("FAIL", "tls", "certificate CN=kiroku.hospital.example.jp valid until .*: EXPIRED"));
        assertThat(e.code()).isEqualTo(2);
        CliRun g = CliRun.kiroku(DATA_DIR, "doctor", "--server.ssl.certificate=" + good, "--kiroku.host=0.0.0.0");
        assertThat(g.out()).containsPattern(line("OK", "tls", "certificate CN=kiroku.hospital.example.jp valid until "))
                .containsPattern(line("OK", "configuration", "listens on 0.0.0.0:\\d+ with TLS"));
        CliRun plain = CliRun.kiroku(DATA_DIR, "doctor", "--kiroku.host=0.0.0.0");
        assertThat(plain.out()).containsPattern(line("FAIL", "configuration", "kiroku.host 0.0.0.0 is not loopback but TLS is not configured"));
        CliRun missing = CliRun.kiroku(DATA_DIR, "doctor", "--server.ssl.certificate=" + dir.resolve("none.pem"));
        assertThat(missing.out()).containsPattern(line("FAIL", "tls", "the TLS certificate cannot be read"));
    }

    @Test
    void anUnreachableDatabaseAndBadSettingsFail() throws Exception {
        CliRun db = CliRun.kiroku(DATA_DIR, "doctor", "--kiroku.db.url=jdbc:postgresql://127.0.0.1:1/kiroku",
                "--kiroku.db.user=kiroku", "--kiroku.db.password=x");
        assertThat(db.out()).containsPattern(line("FAIL", "database", "cannot (reach|query) "))
                .contains("→ check kiroku.db.url");
        assertThat(db.code()).isEqualTo(2);
        CliRun bad = CliRun.kiroku(DATA_DIR, "doctor", "--kiroku.port=eighty");
        assertThat(bad.out()).containsPattern(line("FAIL", "configuration", "the settings do not load: "));
        assertThat(bad.code()).isEqualTo(2);
    }

    /**
     * An installation left at an old schema version (an upgrade not started yet), with no server running: doctor starts
     * the embedded cluster itself and reports the pending migrations.
     */
    @Test
    void pendingMigrationsOfAnInstallationWithoutServer(@TempDir Path tmp) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "kiroku-doctor-old-").resolve("new/kiroku-data");
        CliRun none = CliRun.kiroku(dir, "doctor");
        assertThat(none.out()).containsPattern(line("FAIL", "configuration", "data directory .* does not exist"))
                .containsPattern(line("FAIL", "database", "not checked: "));
        assertThat(none.code()).isEqualTo(2);
        // any admin command migrates as far as it is told; this one then fails on a table V5 does not have yet
        CliRun.kiroku(dir, "mode", "--spring.flyway.target=5");
        CliRun old = CliRun.kiroku(dir, "doctor");
        // Kiroku made the data directory, its parents and the keys directory owner-only
        assertThat(old.out()).containsPattern(line("OK", "configuration", "data directory .* \\(mode 0700\\)"))
                .containsPattern(line("OK", "keys", "keys directory .* \\(mode 0700\\)"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.getParent()))).isEqualTo("rwx------");
        int latest = MigrationVersions.latest();
        assertThat(old.out()).containsPattern(line("OK", "database", "reachable as kiroku: embedded PostgreSQL \\(started for this check\\)"))
                .containsPattern(line("WARN", "database", "schema at V5, " + (latest - 5) + " migration\\(s\\) pending up to V" + latest))
                .contains("→ take a backup, then start kiroku serve: it migrates at start");
        assertThat(Files.exists(dir.resolve("run/db.properties"))).as("the cluster was stopped again").isFalse();
    }

    /** A report line: status, area, then the message (regular expression). */
    private static String line(String status, String area, String message) {
        return "(?m)^" + status + " +" + area + " +" + message;
    }

    private static Path certificate(Path file, Instant notAfter) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        KeyPair key = g.generateKeyPair();
        X500Name name = new X500Name("CN=kiroku.hospital.example.jp");
        Instant notBefore = notAfter.minus(400, ChronoUnit.DAYS);
        var holder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(System.nanoTime()), Date.from(notBefore),
                Date.from(notAfter), name, key.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate()));
        try (var w = Files.newBufferedWriter(file); JcaPEMWriter pem = new JcaPEMWriter(w)) {
            pem.writeObject(new JcaX509CertificateConverter().getCertificate(holder));
        }
        return file;
    }

    /** The newest migration's version, from the directory (other branches add migrations). */
    static final class MigrationVersions {
        static int latest() throws java.io.IOException {
            try (var s = Files.list(Path.of("src/main/resources/db/migration"))) {
                return s.map(p -> p.getFileName().toString()).filter(f -> f.matches("V\\d+__.*\\.sql"))
                        .mapToInt(f -> Integer.parseInt(f.substring(1, f.indexOf("__")))).max().orElseThrow();
            }
        }
    }
}
