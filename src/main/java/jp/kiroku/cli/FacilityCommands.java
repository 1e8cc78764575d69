package jp.kiroku.cli;

import java.io.PrintWriter;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.retention.Retention;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kiroku facility set|list}: what kind of institution each facility is (its retention rules follow). */
@Command(name = "facility", mixinStandardHelpOptions = true, description = "Facilities and their type.",
        subcommands = {FacilityCommands.Set.class, FacilityCommands.ListCommand.class})
final class FacilityCommands extends CommandGroup {

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Say what kind of institution a facility is.")
    static final class Set extends AdminCommand {
        @Option(names = "--id", required = true, description = "The facility id its records and accounts carry.")
        String id;
        @Option(names = "--type", required = true,
                description = "hospital, clinic, dental-clinic, pharmacy, home-nursing or midwifery.")
        String type;
        @Option(names = "--name", description = "e.g. 記録薬局 本店.")
        String name;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            var f = ctx.getBean(Retention.class).setFacility(id, name, type, Agent.localOperator());
            out.println(f.id() + " is a " + f.type() + (f.name() == null ? "" : " (" + f.name() + ")") + ".");
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Facilities with a type.")
    static final class ListCommand extends AdminCommand {
        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            for (var f : ctx.getBean(Retention.class).facilities()) {
                out.printf("%-24s %-14s %s%n", f.id(), f.type(), f.name() == null ? "" : f.name());
            }
            return 0;
        }
    }
}
