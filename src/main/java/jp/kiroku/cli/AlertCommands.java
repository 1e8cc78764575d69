package jp.kiroku.cli;

import java.io.PrintWriter;
import java.util.List;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.incidents.Detection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kiroku alerts [list|scan|ack]}: what the detection rules raised over the access log (issue 10). */
@Command(name = "alerts", mixinStandardHelpOptions = true,
        description = "Alerts raised by the detection rules (the server scans every kiroku.incidents.scan-interval).",
        subcommands = {AlertCommands.ListAlerts.class, AlertCommands.Scan.class, AlertCommands.Acknowledge.class})
final class AlertCommands extends CommandGroup {

    static void print(PrintWriter out, List<Detection.Alert> alerts) {
        for (Detection.Alert a : alerts) {
            out.printf("#%d %s %-18s %-32s %s; evidence: %d audit events%s%n", a.id(), a.firedAt(), a.rule(), a.subject(),
                    a.summary(), a.evidence().size(), a.acknowledgedAt() == null ? "" : " (acknowledged by "
                            + a.acknowledgedBy() + ")");
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Open alerts, newest first (--all: every one).")
    static final class ListAlerts extends AdminCommand {
        @Option(names = "--all")
        boolean all;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            print(out, ctx.getBean(Detection.class).alerts(all));
            return 0;
        }
    }

    @Command(name = "scan", mixinStandardHelpOptions = true, description = "Evaluate the rules now; prints what was raised.")
    static final class Scan extends AdminCommand {
        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            List<Detection.Alert> raised = ctx.getBean(Detection.class).scan();
            print(out, raised);
            out.println(raised.size() + " alert(s) raised");
            return 0;
        }
    }

    @Command(name = "ack", mixinStandardHelpOptions = true, description = "Acknowledge an alert (it stays on record).")
    static final class Acknowledge extends AdminCommand {
        @Parameters(paramLabel = "ALERT")
        long id;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            Detection.Alert a = ctx.getBean(Detection.class).acknowledge(id, Agent.localOperator());
            out.println("Acknowledged alert #" + a.id());
            return 0;
        }
    }
}
