package jp.kiroku.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.compliance.ComplianceReport;
import jp.kiroku.compliance.OfficerAnswers;
import jp.kiroku.compliance.Status;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kiroku compliance report} and {@code kiroku compliance answer} (issue 12, item 6): the compliance report of
 * this installation as JSON or a PDF in Japanese or English, and the security officer's answers to the questions only
 * the institution can answer.
 */
@Command(name = "compliance", mixinStandardHelpOptions = true,
        description = "The compliance report (MHLW guideline requirements and cybersecurity checklist) and the officer's answers.",
        subcommands = {ComplianceCommands.Report.class, ComplianceCommands.Answer.class})
final class ComplianceCommands extends CommandGroup {

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = {"Write the compliance report: every requirement and checklist item with its state computed",
                    "from this installation now, the automated tests that prove it, and the officer's answers."})
    static final class Report extends AdminCommand {
        @Option(names = "--format", defaultValue = "pdf", description = "pdf (default) or json.")
        String format;
        @Option(names = "--lang", defaultValue = "ja", description = "Language of the PDF: ja (default) or en.")
        String lang;
        @Option(names = "--out", required = true, paramLabel = "FILE", description = "The file to write.")
        Path out;

        @Override
        List<String> before() {
            if (!List.of("pdf", "json").contains(format)) {
                throw new IllegalArgumentException("--format must be pdf or json, not " + format);
            }
            if (!List.of("ja", "en").contains(lang)) {
                throw new IllegalArgumentException("--lang must be ja or en, not " + lang);
            }
            return List.of();
        }

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter console) throws IOException {
            ComplianceReport reports = ctx.getBean(ComplianceReport.class);
            ComplianceReport.Report r = reports.report(Agent.localOperator());
            byte[] bytes = format.equals("json") ? reports.json(r) : reports.pdf(r, lang);
            BcpCommands.writePrivate(console, out, bytes, "the compliance report");
            StringBuilder counts = new StringBuilder();
            r.counts().forEach((s, n) -> counts.append(' ').append(s.name().toLowerCase(java.util.Locale.ROOT)).append('=').append(n));
            console.println(r.requirements().size() + " requirements:" + counts + "; " + r.questions().stream()
                    .filter(i -> i.answer() == null).count() + " question(s) for the officer not answered yet.");
            r.requirements().stream().filter(i -> i.status() == Status.RED)
                    .forEach(i -> console.println("RED " + i.id() + ": " + i.evidenceEn()));
            return 0;
        }
    }

    @Command(name = "answer", mixinStandardHelpOptions = true,
            description = {"Record the officer's answer to a question the system cannot answer: an organisational",
                    "requirement (e.g. NET-01) or a checklist item (e.g. CL-1-1 for 1-①). Earlier answers are kept."})
    static final class Answer extends AdminCommand {
        @Parameters(paramLabel = "ITEM", description = "The requirement id or checklist key.")
        String item;
        @Option(names = "--text", required = true, description = "The answer: what is in place, where it is documented, since when.")
        String text;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter console) {
            OfficerAnswers.Answer a = ctx.getBean(OfficerAnswers.class).answer(item, text, Agent.localOperator());
            console.println("Recorded the answer to " + a.item() + " by " + a.by() + ".");
            return 0;
        }
    }
}
