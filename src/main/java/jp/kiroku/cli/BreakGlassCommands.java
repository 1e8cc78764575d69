package jp.kiroku.cli;

import java.time.Instant;
import java.time.LocalDate;
import java.util.UUID;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.access.BreakGlass;
import jp.kiroku.audit.Agent;
import jp.kiroku.platform.KirokuProperties;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kiroku break-glass list|review}: the security officer's review queue (ACL-04). */
@Command(name = "break-glass", mixinStandardHelpOptions = true, description = "Review break-glass uses.",
        subcommands = {BreakGlassCommands.ListUses.class, BreakGlassCommands.Review.class})
final class BreakGlassCommands extends CommandGroup {

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Uses waiting for review (or all uses since a date), oldest first.")
    static final class ListUses extends AdminCommand {
        @Option(names = "--all", description = "Every use, reviewed or not.")
        boolean all;
        @Option(names = "--since", description = "With --all: from this date (default 30 days ago).")
        LocalDate since;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            var zone = ctx.getBean(KirokuProperties.class).getTimeZone();
            Instant from = since != null ? since.atStartOfDay(zone).toInstant()
                    : Instant.now().minus(java.time.Duration.ofDays(30));
            var uses = ctx.getBean(BreakGlass.class).uses(all, from);
            for (BreakGlass.Use u : uses) {
                out.printf("%s  %s  %-16s Patient/%-20s %-11s until %s  %s%n", u.id(), u.startedAt().atZone(zone).toLocalDateTime(),
                        u.username(), u.patientKey(), u.reasonCode(), u.expiresAt().atZone(zone).toLocalTime(),
                        u.reviewedAt() == null ? "UNREVIEWED" : u.reviewOutcome() + " by " + u.reviewedBy());
                out.println("    \"" + u.reasonText() + "\"" + (u.reviewNote() == null ? "" : "  review: " + u.reviewNote()));
            }
            out.println(uses.size() + (all ? " use(s)" : " use(s) waiting for review"));
            return 0;
        }
    }

    @Command(name = "review", mixinStandardHelpOptions = true, description = "Close a use as justified or not, with a note.")
    static final class Review extends AdminCommand {
        @Parameters(paramLabel = "USE-ID")
        UUID id;

        static final class Outcome {
            @Option(names = "--justified", required = true)
            boolean justified;
            @Option(names = "--unjustified", required = true)
            boolean unjustified;
        }

        @ArgGroup(exclusive = true, multiplicity = "1")
        Outcome outcome;
        @Option(names = "--note", required = true, description = "What was checked, e.g. \"ER record confirms the visit\".")
        String note;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            var use = ctx.getBean(BreakGlass.class).review(id, outcome.justified, note, Agent.localOperator());
            out.println("Reviewed " + use.id() + ": " + use.reviewOutcome());
            return 0;
        }
    }
}
