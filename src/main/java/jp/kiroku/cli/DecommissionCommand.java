package jp.kiroku.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.crypto.DataKeys;
import jp.kiroku.crypto.KeyProvider;
import jp.kiroku.platform.KirokuProperties;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kiroku decommission}: the end of an installation (the guideline's disposal of the equipment itself). Every
 * data key and the master key are destroyed, and every other key file in the keys directory is overwritten and
 * removed, so that whatever remains — disks, backups, dumps — cannot be read; Kiroku never starts on it again.
 * A certificate (JSON) is written where the operator says, before anything of the installation becomes unreadable.
 */
@Command(name = "decommission", mixinStandardHelpOptions = true,
        description = {"Destroy every key of this installation for good (after a confirmation), with a certificate: its",
                "disks and backups become unreadable and Kiroku does not start on it again."})
final class DecommissionCommand extends AdminCommand {

    @Option(names = "--confirm", paramLabel = "DATA-DIR", description = "The absolute path of the data directory, as confirmation.")
    String confirm;
    @Option(names = "--certificate", required = true, paramLabel = "FILE",
            description = "Where to write the decommissioning certificate (JSON; keep it outside this installation).")
    Path certificate;

    @Override
    int run(ConfigurableApplicationContext ctx, PrintWriter out) throws IOException {
        KirokuProperties props = ctx.getBean(KirokuProperties.class);
        Path dataDir = props.getDataDir().toAbsolutePath().normalize();
        if (confirm == null || !Path.of(confirm).toAbsolutePath().normalize().equals(dataDir)) {
            return fail("this destroys every key of the installation in " + dataDir + " for good; to confirm, repeat its"
                    + " path: --confirm " + dataDir);
        }
        Agent by = Agent.localOperator();
        String who = by.kind().code() + ":" + by.id();
        ctx.getBean(AuditTrail.class).record(AuditRecord.of(by, "installation.decommission", AuditRecord.Outcome.SUCCESS)
                .withDetail("destroying every key"));
        DataKeys keys = ctx.getBean(DataKeys.class);
        KeyProvider master = ctx.getBean(KeyProvider.class);
        List<String> masterIds = master.masterKeyIds();
        int dataKeys = keys.destroyAll(who);
        List<String> files = new ArrayList<>(master.destroyAll());
        Path keysDir = props.getKeysDir();
        try (Stream<Path> list = Files.list(keysDir)) {
            for (Path f : list.filter(Files::isRegularFile).toList()) {
                if (!f.getFileName().toString().equals(jp.kiroku.crypto.KeyStoreMasterKey.DECOMMISSIONED)) {
                    jp.kiroku.platform.SecretFiles.destroy(f);
                    files.add(f.getFileName().toString());
                }
            }
        }
        List<String> left;
        try (Stream<Path> list = Files.list(keysDir)) {
            left = list.map(f -> f.getFileName().toString())
                    .filter(n -> !n.equals(jp.kiroku.crypto.KeyStoreMasterKey.DECOMMISSIONED)).toList();
        }
        long wrapped = keys.wrappedLeft();
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("certificate", "Kiroku decommissioning certificate / 廃止証明書");
        c.put("installation", dataDir.toString());
        c.put("at", Instant.now().toString());
        c.put("by", who);
        c.put("masterKeysDestroyed", masterIds);
        c.put("dataKeysDestroyed", dataKeys);
        c.put("keyFilesDestroyed", files);
        c.put("verification", Map.of("passed", left.isEmpty() && wrapped == 0, "filesLeftInKeysDirectory", left,
                "wrappedDataKeysLeft", wrapped));
        c.put("note", "keys were overwritten with random bytes and removed; copies of the key store in backups made"
                + " before today must be destroyed too (kiroku.key-backup-retention)");
        var mapper = tools.jackson.databind.json.JsonMapper.builder().build();
        String json = mapper.writerWithDefaultPrettyPrinter().writeValueAsString(c);
        Files.writeString(certificate, json, StandardCharsets.UTF_8);
        Path pdf = certificate.resolveSibling(certificate.getFileName().toString().replaceFirst("\\.json$", "") + ".pdf");
        Files.write(pdf, jp.kiroku.render.Pdf.document("廃止証明書 / Decommissioning certificate", mapper.valueToTree(c)));
        out.println(json);
        out.println("Decommissioned: " + dataKeys + " data keys and " + masterIds.size() + " master key(s) destroyed; the"
                + " certificate is in " + certificate + " and " + pdf + ".");
        return left.isEmpty() && wrapped == 0 ? 0 : 1;
    }
}
