package jp.kiroku.cli;

import java.io.PrintWriter;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.crypto.DataKeys;
import jp.kiroku.search.IndexRebuild;
import picocli.CommandLine.Command;

/** {@code kiroku keys ...}: rotating the keys that protect stored data (issue 7, item 3). */
@Command(name = "keys", mixinStandardHelpOptions = true,
        description = "Rotate the master key or the index key; back the keys up, or restore them.",
        subcommands = {KeyCommands.RotateMaster.class, KeyCommands.RotateIndex.class, KeyCommands.Backup.class,
                KeyCommands.Restore.class})
final class KeyCommands extends CommandGroup {

    /** The master key passphrase as configured (or, in a trial, the one beside the store). */
    static char[] passphrase(jp.kiroku.platform.KirokuProperties props) {
        return jp.kiroku.crypto.KeyStoreMasterKey.passphrase(props.getKeysDir(), props.getMasterKeyPassphrase(),
                props.getMasterKeyPassphraseFile());
    }

    @Command(name = "backup", mixinStandardHelpOptions = true,
            description = {"Back the keys directory up into DIR (another place than the data backups), protected by the",
                    "master key passphrase, and remove backups there older than kiroku.key-backup-retention (30 days),",
                    "so that keys destroyed by a disposal disappear from backups too."})
    static final class Backup extends AdminCommand {
        @picocli.CommandLine.Option(names = "--to", required = true, paramLabel = "DIR")
        java.nio.file.Path to;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws java.io.IOException {
            var props = ctx.getBean(jp.kiroku.platform.KirokuProperties.class);
            var r = jp.kiroku.crypto.KeyBackups.create(props.getKeysDir(), passphrase(props), to, java.time.Instant.now(),
                    props.getKeyBackupRetention());
            ctx.getBean(AuditTrail.class).record(AuditRecord.of(Agent.localOperator(), "keys.backup", AuditRecord.Outcome.SUCCESS)
                    .withDetail("files=" + r.files().size() + " pruned=" + r.pruned().size()));
            out.println("Backed the keys up to " + r.backup() + " (" + String.join(", ", r.files()) + "); kept until "
                    + r.expires() + ".");
            r.pruned().forEach(p -> out.println("Removed the expired key backup " + p));
            return 0;
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = "Restore a key backup into an empty keys directory (checks every file's hash and the passphrase first).")
    static final class Restore implements java.util.concurrent.Callable<Integer> {
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;
        @picocli.CommandLine.Mixin
        KirokuCli.Common common = new KirokuCli.Common();
        @picocli.CommandLine.Unmatched
        java.util.List<String> settings = new java.util.ArrayList<>();
        @picocli.CommandLine.Option(names = "--from", required = true, paramLabel = "DIR", description = "A kiroku-keys-... directory.")
        java.nio.file.Path from;

        /** Not an admin command: its context would open (and create) the very keys being restored. */
        @Override
        public Integer call() throws java.io.IOException {
            PrintWriter out = KirokuCli.out(spec);
            try (ConfigurableApplicationContext ctx = KirokuCli.settingsContext(common, settings)) {
                int code = restore(ctx.getBean(jp.kiroku.platform.KirokuProperties.class), out);
                out.flush();
                return code;
            }
        }

        private int restore(jp.kiroku.platform.KirokuProperties props, PrintWriter out) throws java.io.IOException {
            try {
                var restored = jp.kiroku.crypto.KeyBackups.restore(from, () -> passphrase(props), props.getKeysDir());
                out.println("Restored " + String.join(", ", restored) + " into " + props.getKeysDir() + ".");
                return 0;
            } catch (IllegalStateException e) {
                spec.commandLine().getErr().println("kiroku: " + e.getMessage());
                return 1;
            }
        }
    }

    @Command(name = "rotate-master", mixinStandardHelpOptions = true,
            description = {"Replace the master key, online: a new master key is added to the key store, every data key is",
                    "re-wrapped under it, then the old master key is removed from the store. Interrupted, run it again:",
                    "it continues. Back up the key store afterwards (older key store backups still hold the old key)."})
    static final class RotateMaster extends AdminCommand {
        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws java.io.IOException {
            DataKeys keys = ctx.getBean(DataKeys.class);
            AuditTrail audit = ctx.getBean(AuditTrail.class);
            Progress progress = new Progress(spec.commandLine().getErr(), "re-wrapping", Math.max(keys.toRewrap(), 1));
            DataKeys.MasterRotation r;
            try {
                r = keys.rotateMaster(progress::advance, java.time.Duration.ofSeconds(1));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return fail("interrupted; run the command again to complete the rotation");
            }
            progress.done();
            if (!r.unreadable().isEmpty()) {
                audit.record(AuditRecord.of(Agent.localOperator(), "master-key.rotate", AuditRecord.Outcome.FAILED)
                        .withDetail("master=" + r.masterKeyId() + " rewrapped=" + r.rewrapped() + " unreadable="
                                + r.unreadable().size()));
                return fail(r.unreadable().size() + " data keys do not unwrap with any master key held (altered, or not"
                        + " wrapped by this key store): " + r.unreadable() + ". The others are re-wrapped under "
                        + r.masterKeyId() + "; the older master keys are kept until this is resolved (restore the rows"
                        + " or the key store from backup), then run the command again.");
            }
            audit.record(AuditRecord.of(Agent.localOperator(), "master-key.rotate", AuditRecord.Outcome.SUCCESS)
                    .withDetail("master=" + r.masterKeyId() + " rewrapped=" + r.rewrapped() + " removed=" + r.removed()
                            + (r.resumed() ? " resumed" : "")));
            out.println((r.resumed() ? "Resumed and completed" : "Completed") + " the rotation to master key " + r.masterKeyId()
                    + ": " + r.rewrapped() + " data keys re-wrapped; removed " + r.removed() + " from the key store.");
            return 0;
        }
    }

    @Command(name = "rotate-index", mixinStandardHelpOptions = true,
            description = {"Replace the key of the blind search index, online: searches keep working while every",
                    "resource is re-indexed under a new key; then the old key is destroyed. Interrupted, run it again:",
                    "it continues where it stopped."})
    static final class RotateIndex extends AdminCommand {
        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            IndexRebuild rebuild = ctx.getBean(IndexRebuild.class);
            Progress progress = new Progress(spec.commandLine().getErr(), "re-indexing", Math.max(rebuild.remaining(), 1));
            IndexRebuild.Rotation r = rebuild.rotate(Agent.localOperator(), progress::advance);
            progress.done();
            out.println((r.resumed() ? "Resumed and completed" : "Completed") + " the rotation to index key " + r.generation()
                    + ": " + r.reindexed() + " resources re-indexed; retired key(s) " + r.retired() + " destroyed.");
            return 0;
        }
    }
}
