package jp.kiroku.cli;

import java.time.Instant;
import java.time.LocalDate;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.retention.Retention;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kiroku retention rules|set|report|hold|release|holds}: how long records are kept (PRES-01). */
@Command(name = "retention", mixinStandardHelpOptions = true,
        description = "Retention periods per information category, legal holds, and the patients past retention.",
        subcommands = {RetentionCommands.Rules.class, RetentionCommands.Set.class, RetentionCommands.Report.class,
                RetentionCommands.HoldCommand.class, RetentionCommands.Release.class, RetentionCommands.Holds.class})
final class RetentionCommands extends CommandGroup {

    @Command(name = "rules", mixinStandardHelpOptions = true, description = "Years kept per category, with the legal minimum.")
    static final class Rules extends AdminCommand {
        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            out.printf("%-13s %-13s %5s %7s  %s%n", "FACILITY", "CATEGORY", "YEARS", "MINIMUM", "BASIS");
            for (var r : ctx.getBean(Retention.class).rules()) {
                out.printf("%-13s %-13s %5d %7d  %s%n", r.facilityType().equals("*") ? "(every)" : r.facilityType(),
                        r.category(), r.years(), r.legalMinimum(), r.basis());
            }
            out.println("Counted from the patient's last entry in the category. Categories not listed are kept. A facility"
                    + " type's rule applies to the records of facilities of that type (kiroku facility set).");
            return 0;
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Keep a category longer (never below the legal minimum).")
    static final class Set extends AdminCommand {
        @Option(names = "--category", required = true)
        String category;
        @Option(names = "--years", required = true)
        int years;
        @Option(names = "--facility-type", description = "Only for facilities of this type (hospital, clinic, dental-clinic,"
                + " pharmacy, home-nursing, midwifery); default: every facility.")
        String facilityType = "*";

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            var r = ctx.getBean(Retention.class).setYears(facilityType, category, years, Agent.localOperator());
            out.println(r.category() + " is kept " + r.years() + " years after the last entry"
                    + (r.facilityType().equals("*") ? "." : " in facilities of type " + r.facilityType() + "."));
            return 0;
        }
    }

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "Patients all of whose records are past retention and not on hold (oldest first).")
    static final class Report extends AdminCommand {
        @Option(names = "--as-of", description = "As of this date (default today), e.g. to plan ahead.")
        LocalDate asOf;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            var zone = ctx.getBean(KirokuProperties.class).getTimeZone();
            Instant at = asOf == null ? Instant.now() : asOf.plusDays(1).atStartOfDay(zone).toInstant();
            var expired = ctx.getBean(Retention.class).expired(at);
            for (var e : expired) {
                out.printf("Patient/%-40s last entry %s  kept until %s%n", e.patientKey(), e.lastEntry().atZone(zone).toLocalDate(),
                        e.keptUntil().atZone(zone).toLocalDate());
            }
            out.println(expired.size() + " patient(s) past retention" + (asOf == null ? "" : " as of " + asOf) + ".");
            return 0;
        }
    }

    @Command(name = "hold", mixinStandardHelpOptions = true, description = "Keep a patient's records however old (legal hold).")
    static final class HoldCommand extends AdminCommand {
        @Parameters(paramLabel = "PATIENT-ID")
        String patient;
        @Option(names = "--reason", required = true, description = "e.g. the case number.")
        String reason;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            ctx.getBean(Retention.class).hold(patient, reason, Agent.localOperator());
            out.println("Patient/" + patient + " is on legal hold.");
            return 0;
        }
    }

    @Command(name = "release", mixinStandardHelpOptions = true, description = "End a legal hold.")
    static final class Release extends AdminCommand {
        @Parameters(paramLabel = "PATIENT-ID")
        String patient;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            return ctx.getBean(Retention.class).release(patient, Agent.localOperator()) ? 0
                    : fail("Patient/" + patient + " is not on legal hold");
        }
    }

    @Command(name = "holds", mixinStandardHelpOptions = true, description = "Patients on legal hold.")
    static final class Holds extends AdminCommand {
        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            for (var h : ctx.getBean(Retention.class).holds()) {
                out.printf("Patient/%-40s since %s by %s: %s%n", h.patientKey(), h.placedAt(), h.placedBy(), h.reason());
            }
            return 0;
        }
    }
}
