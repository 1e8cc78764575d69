package jp.kiroku.cli;

import java.io.PrintWriter;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.incidents.OperatingMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kiroku mode [normal|read-only|isolate] [--reason R]}: the business-continuity operating mode. */
@Command(name = "mode", mixinStandardHelpOptions = true,
        description = {"Show or set the operating mode: normal; read-only (reads and searches work, writes are refused);",
                "isolate (read-only, and only clients on this host are served). Running servers follow within a second."})
final class ModeCommand extends AdminCommand {

    @Parameters(arity = "0..1", paramLabel = "MODE", description = "normal, read-only or isolate.")
    String mode;
    @Option(names = "--reason", description = "Why (required to leave normal; shown to refused clients).")
    String reason;

    @Override
    int run(ConfigurableApplicationContext ctx, PrintWriter out) {
        OperatingMode modes = ctx.getBean(OperatingMode.class);
        OperatingMode.Current c;
        if (mode == null) {
            c = modes.current();
        } else {
            c = modes.set(mode, reason, Agent.localOperator());
        }
        out.println("Mode: " + c.mode().code() + (c.reason() == null ? "" : " (" + c.reason() + ")") + ", set by " + c.setBy()
                + " at " + c.setAt());
        return 0;
    }
}
