package jp.kiroku.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.retention.Disposals;
import jp.kiroku.retention.Residuals;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kiroku dispose request|list|certificate}: the operator's side of disposal (DISP-01). The operator may ask;
 * a second person, an administrator re-authenticated in the admin API, approves (which executes it).
 */
@Command(name = "dispose", mixinStandardHelpOptions = true,
        description = "Disposal of a patient's records past retention: request, list, certificate.",
        subcommands = {DisposalCommands.Request.class, DisposalCommands.ListCommand.class, DisposalCommands.Certificate.class,
                DisposalCommands.Resume.class, DisposalCommands.Compact.class})
final class DisposalCommands extends CommandGroup {

    @Command(name = "request", mixinStandardHelpOptions = true,
            description = {"Ask for the disposal of a patient's records, or of every patient past retention (refused unless",
                    "past retention in every category and not on legal hold). An administrator approves it with",
                    "POST /admin/disposals/{id}/decision."})
    static final class Request extends AdminCommand {
        @Option(names = "--patient", description = "The Patient id.")
        String patient;
        @Option(names = "--past-retention", description = "Every patient past retention and not on hold, as one job.")
        boolean pastRetention;
        @Option(names = "--facility", description = "The records made at this facility (e.g. one that closes), for every"
                + " patient whose records there are past retention; records elsewhere are kept.")
        String facility;
        @Option(names = "--reason", required = true, description = "Why, e.g. \"保存期間満了 2026年度廃棄\".")
        String reason;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            if ((patient != null ? 1 : 0) + (pastRetention ? 1 : 0) + (facility != null ? 1 : 0) != 1) {
                return fail("name one of --patient, --past-retention or --facility");
            }
            try {
                Disposals disposals = ctx.getBean(Disposals.class);
                var d = pastRetention ? disposals.requestPastRetention(reason, Agent.localOperator())
                        : facility != null ? disposals.requestFacility(facility, reason, Agent.localOperator())
                        : disposals.request(patient.replaceFirst("^Patient/", ""), reason, Agent.localOperator());
                out.println("Requested disposal " + d.id() + " of " + (d.scope().equals("patient") ? "Patient/"
                        + d.patients().get(0).patientKey() : d.patients().size() + " patients' records past retention"
                        + (facility != null ? " at " + facility : "")) + "; another person approves it"
                        + " (POST /admin/disposals/" + d.id() + "/decision).");
                return 0;
            } catch (Disposals.DisposalException e) {
                return fail(e.getMessage());
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Every disposal request and its state, newest first.")
    static final class ListCommand extends AdminCommand {
        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            for (var d : ctx.getBean(Disposals.class).list()) {
                long disposed = d.patients().stream().filter(p -> p.doneAt() != null && p.skipped() == null).count();
                long skipped = d.patients().stream().filter(p -> p.skipped() != null).count();
                out.println(d.id() + "  " + (d.scope().equals("patient") ? "Patient/" + d.patients().get(0).patientKey()
                        : d.patients().size() + " patients past retention" + (d.facility() == null ? "" : " at "
                        + d.facility())) + "  " + d.state().toUpperCase(java.util.Locale.ROOT)
                        + "  asked by " + d.requestedBy() + " " + d.requestedAt()
                        + (d.approvedBy() != null ? "  approved by " + d.approvedBy() : "")
                        + (d.executedAt() != null ? ", executed " + d.executedAt() + ": " + disposed + " disposed of, "
                                + skipped + " skipped" : "")
                        + (d.refusedBy() != null ? "  refused by " + d.refusedBy() : ""));
                d.patients().stream().filter(p -> p.skipped() != null)
                        .forEach(p -> out.println("    skipped Patient/" + p.patientKey() + ": " + p.skipped()));
            }
            return 0;
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true,
            description = "Continue an approved disposal that was interrupted (each patient is done at most once).")
    static final class Resume extends AdminCommand {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            try {
                var d = ctx.getBean(Disposals.class).resume(UUID.fromString(id), Agent.localOperator());
                out.println("Disposal " + d.id() + " is " + d.state() + ".");
                return 0;
            } catch (IllegalArgumentException | Disposals.DisposalException e) {
                return fail(e.getMessage());
            }
        }
    }

    @Command(name = "compact", mixinStandardHelpOptions = true,
            description = {"Rewrite the tables disposals touched (VACUUM FULL, each table locked while it is rewritten: a",
                    "quiet hour) and remove the WAL written before, so that the removed rows' bytes leave the files."})
    static final class Compact extends AdminCommand {
        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            ctx.getBean(Residuals.class).compact(Agent.localOperator()).forEach(out::println);
            return 0;
        }
    }

    @Command(name = "certificate", mixinStandardHelpOptions = true, description = "The disposal certificate (JSON, or PDF).")
    static final class Certificate extends AdminCommand {
        @Parameters(paramLabel = "ID")
        String id;
        @Option(names = "--out", paramLabel = "FILE", description = "Write it to FILE instead of standard output.")
        Path file;
        @Option(names = "--pdf", paramLabel = "FILE", description = "Also write it as PDF to FILE.")
        Path pdf;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws java.io.IOException {
            UUID uuid;
            try {
                uuid = UUID.fromString(id);
            } catch (IllegalArgumentException e) {
                return fail("not a disposal id: " + id);
            }
            var d = ctx.getBean(Disposals.class).get(uuid);
            if (d.isEmpty() || d.get().certificate() == null) {
                return fail("no certificate: disposal " + id + " does not exist or was not executed");
            }
            if (pdf != null) {
                Files.write(pdf, ctx.getBean(Disposals.class).certificatePdf(uuid).orElseThrow());
                out.println("Wrote the certificate of disposal " + id + " as PDF to " + pdf);
            }
            if (file == null && pdf == null) {
                out.println(d.get().certificate());
            } else if (file == null) {
                return 0;
            } else {
                Files.writeString(file, d.get().certificate(), StandardCharsets.UTF_8);
                out.println("Wrote the certificate of disposal " + id + " to " + file);
            }
            return 0;
        }
    }

    @Command(name = "residual-scan", mixinStandardHelpOptions = true,
            description = {"Prove that disposed data left nothing readable: canary values (as text and in every keyed-hash",
                    "form of the index) in the database's files, WAL and the --path directories; disposed patients' data",
                    "keys destroyed; no remaining sealed item of theirs opening with any key held. Exit status 1 on any",
                    "finding."})
    static final class ResidualScan extends AdminCommand {
        @Option(names = "--canary", paramLabel = "TEXT", description = "A value known to have been in disposed records; repeatable.")
        java.util.List<String> canaries = new java.util.ArrayList<>();
        @Option(names = "--path", paramLabel = "DIR", description = "Also scan this directory (backups, exports); repeatable.")
        java.util.List<Path> paths = new java.util.ArrayList<>();

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws java.io.IOException {
            var checks = ctx.getBean(Residuals.class).scan(canaries, paths, Agent.localOperator());
            boolean clean = true;
            for (var c : checks) {
                out.println((c.clean() ? "OK    " : "FOUND ") + c.what());
                c.found().forEach(f -> out.println("        " + f));
                clean &= c.clean();
            }
            out.println(clean ? "Nothing readable of the disposed data remains where Kiroku looked."
                    : "Residual data found: see above.");
            return clean ? 0 : 1;
        }
    }
}
