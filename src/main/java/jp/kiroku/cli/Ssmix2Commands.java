package jp.kiroku.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.exchange.Ssmix2Export;
import jp.kiroku.exchange.Ssmix2Import;
import jp.kiroku.exchange.Ssmix2Report;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kiroku ssmix2 import}: an SS-MIX2 standardized storage into FHIR; {@code kiroku ssmix2 export}: patients'
 * records as one (SHARE-03).
 */
@Command(name = "ssmix2", mixinStandardHelpOptions = true,
        description = "SS-MIX2 standardized storage (HL7 v2.5 messages of Japanese hospital systems).",
        subcommands = {Ssmix2Commands.Import.class, Ssmix2Commands.Export.class})
final class Ssmix2Commands extends CommandGroup {

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = {"Import an SS-MIX2 standardized storage directory: patients (ADT-00), problems",
                    "(PPR-01), prescription orders (OMP-01) and lab results (OML-11) as JP Core",
                    "resources, validated, ledgered and audited like any FHIR write. Running it",
                    "again updates the same resources and adds no versions where nothing changed.",
                    "Rejected messages are listed with their reason; they never stop the rest.",
                    "Exit status 2 when some messages were rejected."})
    static final class Import extends AdminCommand {
        @Parameters(index = "0", paramLabel = "DIR", description = "The storage's root directory.")
        Path dir;
        @Option(names = "--institution", required = true, paramLabel = "NUMBER",
                description = "The 10-digit medical institution number (医療機関コード) whose patient ids the storage holds.")
        String institution;
        @Option(names = "--encoding", paramLabel = "CHARSET", defaultValue = "auto",
                description = "The files' character set: auto (the default: ISO-2022-JP when a file holds its escape "
                        + "sequences, else UTF-8 when its bytes are valid UTF-8, else Windows-31J/Shift_JIS), or ISO-2022-JP, "
                        + "Shift_JIS, UTF-8, EUC-JP, ... for every file.")
        String encoding;
        @Option(names = "--report", paramLabel = "FILE", description = "Also write the report (counts, rejected files) here.")
        Path report;

        private Ssmix2Import.Options options;

        /** The options are checked before the database is reached: a mistyped command fails at once. */
        @Override
        List<String> before() {
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException("not a directory: " + dir);
            }
            options = new Ssmix2Import.Options(charset(encoding), institution);
            return List.of();
        }

        static Charset charset(String name) {
            if (name == null || name.equalsIgnoreCase("auto")) {
                return null;
            }
            try {
                return Charset.forName(name);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown character set " + name + " (auto, ISO-2022-JP, Shift_JIS, UTF-8, EUC-JP)");
            }
        }

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter console) throws IOException {
            long started = System.nanoTime();
            PrintWriter err = spec.commandLine().getErr();
            Progress[] progress = new Progress[1];
            Ssmix2Report result = ctx.getBean(Ssmix2Import.class).run(dir, options, new Ssmix2Import.Listener() {
                @Override
                public void files(int total) {
                    progress[0] = new Progress(err, "importing (files)", total);
                }

                @Override
                public void done(String dataType) {
                    progress[0].advance(1);
                }
            });
            progress[0].done();
            String text = result.text();
            console.print(text);
            console.println("Done in " + (System.nanoTime() - started) / 1_000_000 + " ms.");
            if (report != null) {
                BcpCommands.writePrivate(console, report, text.getBytes(StandardCharsets.UTF_8), "the report");
            }
            return result.rejected().isEmpty() ? 0 : 2;
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = {"Write an SS-MIX2 standardized storage of patients' current records: patient",
                    "(ADT-00), problems (PPR-01), prescription orders (OMP-01) and lab results with",
                    "JLAC10 codes (OML-11), HL7 v2.5, files readable by you only. The storage's",
                    "patient id is the Patient's identifier of the institution; a patient without",
                    "one is listed and left out. Each patient's reading is audited as an export.",
                    "Exit status 2 when something was left out."})
    static final class Export extends AdminCommand {
        static final class Which {
            @Option(names = "--patient", paramLabel = "ID", required = true,
                    description = "A Patient resource id (repeat the option for more).")
            List<String> patients;
            @Option(names = "--all", required = true, description = "Every patient.")
            boolean all;
        }

        @ArgGroup(multiplicity = "1")
        Which which;
        @Option(names = "--institution", required = true, paramLabel = "NUMBER",
                description = "The 10-digit medical institution number (医療機関コード) whose patient ids to write.")
        String institution;
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "The storage's root directory.")
        Path out;
        @Option(names = "--encoding", paramLabel = "CHARSET", defaultValue = "ISO-2022-JP",
                description = "ISO-2022-JP (the default, SS-MIX2's) or UTF-8.")
        String encoding;

        private Ssmix2Export.Options options;

        @Override
        List<String> before() {
            Charset charset = Import.charset(encoding);
            options = new Ssmix2Export.Options(institution, charset);
            if (Files.exists(out) && !Files.isDirectory(out)) {
                throw new IllegalArgumentException("not a directory: " + out);
            }
            return List.of();
        }

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter console) {
            long started = System.nanoTime();
            Ssmix2Export.Result result = ctx.getBean(Ssmix2Export.class).run(which.all ? null : which.patients, options, out);
            console.print(result.text());
            console.println("Wrote " + out + " (readable by you only) in " + (System.nanoTime() - started) / 1_000_000 + " ms.");
            return result.skipped().isEmpty() ? 0 : 2;
        }
    }
}
