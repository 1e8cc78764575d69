package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.KirokuApplication;
import jp.kiroku.crypto.DataKeys;
import jp.kiroku.crypto.KeyStoreMasterKey;

/**
 * {@code kiroku decommission} (issue 7, item 6; DISP-02 for the equipment itself), on an installation of its own: it
 * asks for the data directory as confirmation, destroys every data key and the master key, overwrites and removes the
 * key files, writes a certificate, and afterwards nothing opens what was sealed and Kiroku refuses to run on it.
 */
@Tag("DISP-02")
@Tag("DISP-03")
class DecommissionTest {

    @Test
    void everyKeyIsDestroyedWithACertificateAndTheInstallationNeverOpensAgain(@TempDir Path tmp) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "kiroku-decommission-");
        KirokuCli.application = KirokuApplication.class;
        KirokuCli.Common common = new KirokuCli.Common();
        common.dataDir = dir.toString();
        byte[] wrapped;
        try (ConfigurableApplicationContext ctx = KirokuCli.adminContext(common, List.of())) {
            DataKeys keys = ctx.getBean(DataKeys.class);
            assertThat(keys.keyFor(DataKeys.patient("p1"))).hasSize(32); // a patient's data key, wrapped in the database
            wrapped = ctx.getBean(org.springframework.jdbc.core.JdbcTemplate.class).queryForObject(
                    "SELECT wrapped FROM data_key WHERE owner = 'patient:p1'", byte[].class);
        }
        Path keysDir = dir.resolve("keys");
        assertThat(keysDir.resolve("master-key.p12")).exists();

        CliRun unconfirmed = CliRun.kiroku(dir, "decommission", "--certificate", dir.resolveSibling(dir.getFileName() + ".json").toString());
        assertThat(unconfirmed.code()).isEqualTo(1);
        assertThat(unconfirmed.err()).contains("--confirm " + dir.toAbsolutePath().normalize());
        assertThat(keysDir.resolve("master-key.p12")).as("nothing destroyed without confirmation").exists();

        Path certificate = Files.createTempFile(tmp, "decommission-", ".json");
        CliRun run = CliRun.kiroku(dir, "decommission", "--confirm", dir.toString(), "--certificate", certificate.toString());
        assertThat(run.code()).as(run.err()).isZero();
        String json = Files.readString(certificate);
        assertThat(json).contains("\"passed\" : true").contains("\"masterKeysDestroyed\" : [ \"kiroku-master-1\" ]")
                .contains("master-key.p12").contains("\"wrappedDataKeysLeft\" : 0");
        Path pdf = certificate.resolveSibling(certificate.getFileName().toString().replaceFirst("\\.json$", "") + ".pdf");
        try (var doc = org.apache.pdfbox.Loader.loadPDF(Files.readAllBytes(pdf))) {
            assertThat(new org.apache.pdfbox.text.PDFTextStripper().getText(doc)) // (廃止's 止 extracts as the radical ⽌)
                    .contains("証明書 / Decommissioning certificate").contains("kiroku-master-1");
        }
        try (var files = Files.list(keysDir)) {
            assertThat(files.map(f -> f.getFileName().toString()).toList()).containsExactly(KeyStoreMasterKey.DECOMMISSIONED);
        }

        // no key remains to open what was sealed: the master key store is gone and is never created again
        assertThatThrownBy(() -> KeyStoreMasterKey.open(keysDir, null, null)).hasMessageContaining("decommissioned");
        assertThat(wrapped).isNotNull();
        CliRun after = CliRun.kiroku(dir, "keys", "rotate-master");
        assertThat(after.code()).isEqualTo(1);
        assertThat(after.err()).contains("decommissioned");
        // even with the marker file gone (a new keys directory), the database says so
        Files.delete(keysDir.resolve(KeyStoreMasterKey.DECOMMISSIONED));
        CliRun again = CliRun.kiroku(dir, "keys", "rotate-master");
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("decommissioned");
        // a key store made anew holds other keys: the old wrapped data key does not open with them
        KeyStoreMasterKey fresh = KeyStoreMasterKey.open(keysDir, null, null);
        assertThatThrownBy(() -> fresh.unwrap(wrapped, "patient:p1", fresh.masterKeyId())).isInstanceOf(IllegalStateException.class);
    }
}
