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
@Command(name = "keys", mixinStandardHelpOptions = true, description = "Rotate the master key or the index key.",
        subcommands = {KeyCommands.RotateMaster.class, KeyCommands.RotateIndex.class})
final class KeyCommands extends CommandGroup {

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
