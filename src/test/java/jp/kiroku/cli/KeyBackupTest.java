package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.KirokuApplication;
import jp.kiroku.crypto.DataKeys;

/**
 * {@code kiroku keys backup|restore} (issue 8, item 4; BACKUP-05), on an installation of its own with a real passphrase:
 * a backup holds the key store and the other keys sealed under the passphrase, read-only, with a manifest; lost keys
 * come back from it (the same data keys open again); an altered backup or the wrong passphrase is refused; backups past
 * kiroku.key-backup-retention are removed by the next backup.
 */
@Tag("BACKUP-05")
class KeyBackupTest {

    private static final String PASSPHRASE = "--kiroku.master-key-passphrase=correct horse battery staple";

    @Test
    void lostKeysComeBackFromABackupAndOldBackupsAreRemoved(@TempDir Path tmp) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "kiroku-keybackup-");
        Path keys = dir.resolve("keys");
        Path backups = Files.createTempDirectory(tmp, "kiroku-keybackups-");
        byte[] before = patientKey(dir, PASSPHRASE);
        assertThat(CliRun.kiroku(dir, "checkpoint", "export", "-", PASSPHRASE).code()).isZero(); // makes the ledger's key

        CliRun backup = CliRun.kiroku(dir, "keys", "backup", "--to", backups.toString(), PASSPHRASE);
        assertThat(backup.code()).as(backup.err()).isZero();
        Path made = single(backups);
        assertThat(made.getFileName().toString()).startsWith("kiroku-keys-");
        try (Stream<Path> files = Files.list(made)) {
            assertThat(files.map(f -> f.getFileName().toString()).toList()).containsExactlyInAnyOrder("master-key.p12",
                    "other-keys.zip.sealed", "manifest.properties");
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(made.resolve("master-key.p12"))))
                .isEqualTo("r--------");
        byte[] sealed = Files.readAllBytes(made.resolve("other-keys.zip.sealed"));
        assertThat(new String(sealed, java.nio.charset.StandardCharsets.ISO_8859_1)).as("sealed, not a readable zip")
                .doesNotContain("ledger-signing").doesNotContain("PRIVATE KEY");

        // the keys are lost; the wrong passphrase and an altered backup are refused; the backup brings them back
        List<String> lost = wipe(keys);
        assertThat(lost).contains("master-key.p12", "ledger-signing.key.pem");
        CliRun wrong = CliRun.kiroku(dir, "keys", "restore", "--from", made.toString(),
                "--kiroku.master-key-passphrase=not the passphrase at all");
        assertThat(wrong.code()).isEqualTo(1);
        assertThat(wrong.err()).contains("passphrase does not open");
        wipe(keys);
        Path altered = copy(made, backups.resolve("altered"));
        byte[] store = Files.readAllBytes(altered.resolve("master-key.p12"));
        store[store.length / 2] ^= 1;
        Files.write(altered.resolve("master-key.p12"), store);
        CliRun refused = CliRun.kiroku(dir, "keys", "restore", "--from", altered.toString(), PASSPHRASE);
        assertThat(refused.code()).isEqualTo(1);
        assertThat(refused.err()).contains("master-key.p12 does not match its manifest");
        CliRun restored = CliRun.kiroku(dir, "keys", "restore", "--from", made.toString(), PASSPHRASE);
        assertThat(restored.code()).as(restored.err()).isZero();
        assertThat(restored.out()).contains("master-key.p12").contains("ledger-signing.key.pem");
        assertThat(patientKey(dir, PASSPHRASE)).as("the same data key opens again").isEqualTo(before);

        // a backup past its retention is removed by the next backup
        deleteTree(altered);
        CliRun shortLived = CliRun.kiroku(dir, "keys", "backup", "--to", backups.toString(), PASSPHRASE,
                "--kiroku.key-backup-retention=1s");
        assertThat(shortLived.code()).as(shortLived.err()).isZero();
        Thread.sleep(2_100); // backups are named by the second
        CliRun next = CliRun.kiroku(dir, "keys", "backup", "--to", backups.toString(), PASSPHRASE);
        assertThat(next.code()).as(next.err()).isZero();
        assertThat(next.out()).contains("Removed the expired key backup");
        try (Stream<Path> left = Files.list(backups)) {
            assertThat(left.toList()).as("the 30-day one and the new one").hasSize(2).contains(made);
        }
    }

    private static byte[] patientKey(Path dir, String... settings) {
        KirokuCli.application = KirokuApplication.class;
        KirokuCli.Common common = new KirokuCli.Common();
        common.dataDir = dir.toString();
        try (ConfigurableApplicationContext ctx = KirokuCli.adminContext(common, List.of(settings))) {
            return ctx.getBean(DataKeys.class).keyFor(DataKeys.patient("p1"));
        }
    }

    private static Path single(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList().get(0);
        }
    }

    private static List<String> wipe(Path keys) throws Exception {
        try (Stream<Path> s = Files.list(keys)) {
            List<Path> files = s.toList();
            for (Path f : files) {
                Files.delete(f);
            }
            return files.stream().map(f -> f.getFileName().toString()).toList();
        }
    }

    private static Path copy(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path f : s.toList()) {
                Files.write(to.resolve(f.getFileName()), Files.readAllBytes(f));
            }
        }
        return to;
    }

    private static void deleteTree(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
    }
}
