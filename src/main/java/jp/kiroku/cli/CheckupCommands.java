package jp.kiroku.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.springframework.context.ConfigurableApplicationContext;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import jp.kiroku.audit.Agent;
import jp.kiroku.exchange.CheckupCsv;
import jp.kiroku.exchange.CheckupImport;
import jp.kiroku.identity.Caller;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kiroku checkup import FILE} (issue 12, item 2): health-check results from a file, as the local operator. */
@Command(name = "checkup", mixinStandardHelpOptions = true, description = "Health-check (健診) results.",
        subcommands = {CheckupCommands.Import.class})
final class CheckupCommands extends CommandGroup {

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = {"Import health-check results: a 健診結果報告書 FHIR document Bundle (JSON or XML) or a CSV file",
                    "(one row per result; columns in docs/health-checks.md). One file is one transaction: validated,",
                    "versioned, ledgered and audited like any FHIR write. Re-importing a file writes nothing new.",
                    "A CSV with bad rows is refused as a whole (each row named with its line and reason) unless",
                    "--valid-rows-only."})
    static final class Import extends AdminCommand {
        @Parameters(index = "0", paramLabel = "FILE", description = "The file to import (UTF-8).")
        Path file;
        @Option(names = "--format", paramLabel = "fhir|csv",
                description = "The file's format (default: csv for *.csv, fhir otherwise).")
        String format;
        @Option(names = "--valid-rows-only", description = "CSV: write the valid rows and report the bad ones.")
        boolean validRowsOnly;

        private CheckupImport.Format chosen;

        @Override
        List<String> before() throws IOException {
            chosen = CheckupImport.Format.of(format, file.getFileName().toString());
            if (!Files.isReadable(file)) {
                throw new IllegalArgumentException("cannot read " + file);
            }
            if (validRowsOnly && chosen != CheckupImport.Format.CSV) {
                throw new IllegalArgumentException("--valid-rows-only goes with a CSV file");
            }
            return List.of();
        }

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter console) throws IOException {
            String content = Files.readString(file, StandardCharsets.UTF_8);
            Caller operator = new Caller(Agent.localOperator(), List.of("system/*.cruds"));
            CheckupImport.Report report;
            try {
                report = ctx.getBean(CheckupImport.class).importContent(operator, chosen, content, validRowsOnly);
            } catch (BaseServerResponseException e) {
                return fail(file + ": " + e.getMessage());
            }
            for (CheckupCsv.Rejected r : report.rejected()) {
                console.println("line " + r.line() + ": " + r.reason());
            }
            report.notes().forEach(n -> console.println("note: " + n));
            console.println(file.getFileName() + ": " + report.summary() + ".");
            return report.refused() ? 1 : 0;
        }
    }
}
