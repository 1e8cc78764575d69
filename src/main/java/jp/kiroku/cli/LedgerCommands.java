package jp.kiroku.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.ledger.Ledgers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kiroku verify} and {@code kiroku checkpoint export}: the ledgers from the operator's shell. */
final class LedgerCommands {

    private LedgerCommands() {
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"Recompute the record and access ledgers from the database and check them: every stored version",
                    "against its content hash and its log entry, every audit event against its entry, every signed",
                    "checkpoint (and --checkpoint files kept outside Kiroku). Exit status 1 on any finding."})
    static final class Verify extends AdminCommand {
        @Option(names = "--checkpoint", paramLabel = "FILE",
                description = "A signed checkpoint kept outside Kiroku (from 'kiroku checkpoint export'); repeatable.")
        List<Path> checkpoints = new ArrayList<>();

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws IOException {
            List<String> external = new ArrayList<>();
            for (Path p : checkpoints) {
                external.addAll(notes(Files.readString(p, StandardCharsets.UTF_8)));
            }
            Ledgers ledgers = ctx.getBean(Ledgers.class);
            long total = 2 * ledgers.heads().stream().mapToLong(Ledgers.Head::size).sum(); // two passes
            Progress progress = new Progress(spec.commandLine().getErr(), "verifying", total);
            Ledgers.Verification v = ledgers.verify(external, progress::advance);
            progress.done();
            out.print(report(v));
            List<String> register = ctx.getBean(jp.kiroku.retention.Disposals.class).registerProblems();
            register.forEach(p -> out.println("  " + p));
            out.flush();
            ctx.getBean(AuditTrail.class).record(AuditRecord.of(Agent.localOperator(), "ledger.verify",
                    AuditRecord.Outcome.SUCCESS).withDetail(v.summary()));
            return v.ok() && register.isEmpty() ? 0 : 1;
        }
    }

    @Command(name = "checkpoint", mixinStandardHelpOptions = true, description = "Signed ledger checkpoints.",
            subcommands = {Export.class})
    static final class Checkpoints extends CommandGroup {
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = {"Sign a checkpoint of each ledger now (if it grew) and write the latest ones to FILE, with the",
                    "public key that verifies them, for keeping outside Kiroku."})
    static final class Export extends AdminCommand {
        @Parameters(paramLabel = "FILE", description = "Where to write the checkpoints ('-' for standard output).")
        String file;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws IOException {
            String text = ctx.getBean(Ledgers.class).checkpointFile();
            int checkpoints = notes(text).size();
            if (file.equals("-")) {
                out.print(text);
            } else {
                Files.writeString(Path.of(file), text, StandardCharsets.UTF_8);
                out.println("Wrote " + checkpoints + " checkpoints to " + file);
            }
            out.flush();
            ctx.getBean(AuditTrail.class).record(AuditRecord.of(Agent.localOperator(), "checkpoint.export",
                    AuditRecord.Outcome.SUCCESS).withDetail(checkpoints + " checkpoints"));
            return 0;
        }
    }

    /** The signed notes in an exported file: blocks separated by a blank line after their signatures. */
    static List<String> notes(String text) {
        List<String> out = new ArrayList<>();
        for (String block : text.replace("\r\n", "\n").split("\n(?=[^\n]+\n\\d+\n)")) {
            int pem = block.indexOf("-----BEGIN");
            String note = pem >= 0 ? block.substring(0, pem) : block;
            if (!note.isBlank()) {
                out.add(note.strip() + "\n");
            }
        }
        return out;
    }

    static String report(Ledgers.Verification v) {
        StringBuilder b = new StringBuilder();
        for (Ledgers.LogReport log : v.logs()) {
            b.append(log.origin()).append(": ").append(log.entries()).append(" entries, ").append(log.pending())
                    .append(" pending, ").append(log.disposed() == 0 ? "" : log.disposed() + " disposed (register checked), ")
                    .append(log.checkpoints().size()).append(" checkpoints — ")
                    .append(log.ok() ? "OK" : log.findings().size() + " findings, first divergence at index "
                            + (log.firstDivergence() == null ? "(none in the log)" : log.firstDivergence()))
                    .append('\n');
            for (Ledgers.Finding f : log.findings()) {
                b.append("  ").append(f.kind()).append(": ").append(f.detail()).append('\n');
            }
        }
        b.append(v.ok() ? "Ledgers verified: OK\n" : "Ledgers verified: FINDINGS (see above)\n");
        return b.toString();
    }
}
