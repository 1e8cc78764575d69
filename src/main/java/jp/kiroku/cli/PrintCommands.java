package jp.kiroku.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.render.Charts;
import jp.kiroku.store.ResourceKey;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kiroku print} and {@code kiroku disclosure} (READ-01): a chart, a period of it or one resource on paper, and
 * what a patient receives on request, for the operator at the server. Every run is audited; the files hold patient
 * data and are written owner-only.
 */
final class PrintCommands {

    private PrintCommands() {
    }

    /** A day as yyyy-mm-dd, refused in words (picocli's default names the Java exception). */
    static final class Day implements CommandLine.ITypeConverter<LocalDate> {
        @Override
        public LocalDate convert(String value) {
            try {
                return LocalDate.parse(value);
            } catch (java.time.format.DateTimeParseException e) {
                throw new CommandLine.TypeConversionException("not a date (yyyy-mm-dd): " + value);
            }
        }
    }

    @Command(name = "print", mixinStandardHelpOptions = true,
            description = {"Print a patient's chart (every version, with authors and confirmations), the versions recorded",
                    "in a period (--from/--to: days, inclusive, in kiroku.time-zone), or one resource (--all-versions:",
                    "its whole history) as a PDF. Every page names the patient and the record-ledger checkpoint."})
    static final class Print extends AdminCommand {
        @Option(names = "--patient", paramLabel = "ID", description = "The Patient's id: print their chart.")
        String patient;
        @Option(names = "--from", paramLabel = "DATE", converter = Day.class,
                description = "With --patient: first day (yyyy-mm-dd).")
        LocalDate from;
        @Option(names = "--to", paramLabel = "DATE", converter = Day.class,
                description = "With --patient: last day (yyyy-mm-dd).")
        LocalDate to;
        @Option(names = "--resource", paramLabel = "TYPE/ID", description = "Print one resource instead.")
        String resource;
        @Option(names = "--all-versions", description = "With --resource: every version, not only the current one.")
        boolean allVersions;
        @Option(names = "--out", required = true, paramLabel = "FILE", description = "The PDF to write.")
        Path out;

        /** The options are checked before the database is reached: a mistyped command fails at once. */
        @Override
        List<String> before() {
            if ((patient == null) == (resource == null)) {
                throw new IllegalArgumentException("give either --patient ID or --resource TYPE/ID");
            }
            if (resource != null && (from != null || to != null)) {
                throw new IllegalArgumentException("--from and --to go with --patient");
            }
            if (patient != null && allVersions) {
                throw new IllegalArgumentException("--all-versions goes with --resource (a chart has every version anyway)");
            }
            if (resource != null) {
                key(resource);
            }
            return List.of();
        }

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter console) throws IOException {
            long started = System.nanoTime();
            Charts charts = ctx.getBean(Charts.class);
            Charts.Printed printed = patient != null ? charts.chart(patient, from, to, Agent.localOperator())
                    : charts.resource(key(resource), allVersions, Agent.localOperator());
            console.println("Printed " + printed.versions() + " version(s) in "
                    + (System.nanoTime() - started) / 1_000_000 + " ms.");
            BcpCommands.writePrivate(console, out, printed.pdf(), "the printout");
            return 0;
        }

        private static ResourceKey key(String typeAndId) {
            if (!typeAndId.matches("[A-Z][A-Za-z]{1,63}/[A-Za-z0-9\\-.]{1,64}")) {
                throw new IllegalArgumentException("--resource: TYPE/ID expected (e.g. Condition/123), not " + typeAndId);
            }
            int slash = typeAndId.indexOf('/');
            return new ResourceKey(typeAndId.substring(0, slash), typeAndId.substring(slash + 1));
        }
    }

    @Command(name = "disclosure", mixinStandardHelpOptions = true,
            description = {"What a patient receives on request (診療情報開示): the current version of each of their records",
                    "as disclosure-<id>.pdf and a FHIR collection Bundle disclosure-<id>.json in DIR, without the records",
                    "not yet told to them (JP-CLINS UNINFORMED); the PDF says how many were withheld, not which."})
    static final class Disclosure extends AdminCommand {
        @Option(names = "--patient", required = true, paramLabel = "ID", description = "The Patient's id.")
        String patient;
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "The directory to write into.")
        Path dir;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter console) throws IOException {
            Charts.Disclosure d = ctx.getBean(Charts.class).disclosure(patient, Agent.localOperator());
            BcpCommands.writePrivate(console, dir.resolve("disclosure-" + patient + ".pdf"), d.pdf(), "the disclosure PDF");
            BcpCommands.writePrivate(console, dir.resolve("disclosure-" + patient + ".json"),
                    d.bundle().getBytes(StandardCharsets.UTF_8), "the disclosure Bundle");
            console.println(d.records() + " record(s) disclosed, " + d.withheld() + " withheld (not yet told to the patient).");
            return 0;
        }
    }
}
