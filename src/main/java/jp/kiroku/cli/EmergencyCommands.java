package jp.kiroku.cli;

import java.util.UUID;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.identity.EmergencyAccounts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kiroku emergency request|approve|end|list}: emergency accounts for disasters (ACL-04). Enabling one takes two
 * administrators (two different OS accounts at the server's shell); "end" returns to normal.
 */
@Command(name = "emergency", mixinStandardHelpOptions = true, description = "Enable emergency accounts (two people) and return to normal.",
        subcommands = {EmergencyCommands.Request.class, EmergencyCommands.Approve.class, EmergencyCommands.End.class,
                EmergencyCommands.ListActivations.class})
final class EmergencyCommands extends CommandGroup {

    @Command(name = "request", mixinStandardHelpOptions = true, description = "Ask to enable an emergency account (first person).")
    static final class Request extends AdminCommand {
        @Parameters(paramLabel = "USER")
        String username;
        @Option(names = "--reason", required = true, description = "Why, e.g. \"earthquake: the EMR login server is down\".")
        String reason;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            var a = ctx.getBean(EmergencyAccounts.class).request(username, reason, Agent.localOperator());
            out.println("Activation " + a.id() + " requested by " + a.requestedBy() + "; a second administrator runs:");
            out.println("  kiroku emergency approve " + a.id());
            return 0;
        }
    }

    @Command(name = "approve", mixinStandardHelpOptions = true,
            description = "Approve an activation (a different person than the one who asked); prints a one-time password.")
    static final class Approve extends AdminCommand {
        @Parameters(paramLabel = "ACTIVATION-ID")
        UUID id;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            UserCommands.printIssued(out, ctx.getBean(EmergencyAccounts.class).approve(id, Agent.localOperator()));
            return 0;
        }
    }

    @Command(name = "end", mixinStandardHelpOptions = true,
            description = "Return to normal: disable every enabled emergency account and replace its credentials.")
    static final class End extends AdminCommand {
        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            var ended = ctx.getBean(EmergencyAccounts.class).returnToNormal(Agent.localOperator());
            out.println(ended.isEmpty() ? "No emergency account was enabled." : "Disabled, credentials replaced: "
                    + String.join(", ", ended));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Activations, newest first.")
    static final class ListActivations extends AdminCommand {
        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            for (var a : ctx.getBean(EmergencyAccounts.class).activations()) {
                out.printf("%s  %-20s requested by %-20s %s  \"%s\"%n", a.id(), a.username(), a.requestedBy(),
                        a.ended() ? "ended" : a.approvedBy() == null ? "WAITING FOR APPROVAL" : "ENABLED (approved by "
                                + a.approvedBy() + ")", a.reason());
            }
            return 0;
        }
    }
}
