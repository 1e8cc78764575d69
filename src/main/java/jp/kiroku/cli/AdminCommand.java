package jp.kiroku.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import org.springframework.context.ConfigurableApplicationContext;

import picocli.CommandLine;

/** An admin subcommand: the data directory and extra settings, an admin Spring context for its run, and its output. */
abstract class AdminCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    KirokuCli.Common common = new KirokuCli.Common();

    @CommandLine.Unmatched
    List<String> settings = new ArrayList<>();

    @Override
    public final Integer call() throws java.io.IOException {
        List<String> all = new ArrayList<>(settings);
        all.addAll(before());
        try (ConfigurableApplicationContext ctx = KirokuCli.adminContext(common, all)) {
            PrintWriter out = KirokuCli.out(spec);
            try {
                return run(ctx, out);
            } catch (IllegalArgumentException e) { // the services' word for bad input: a plain error, not a trace
                return fail(e.getMessage());
            } finally {
                out.flush();
            }
        }
    }

    /** Checks made and settings added before the context starts (e.g. how far to migrate an empty database). */
    List<String> before() throws java.io.IOException {
        return List.of();
    }

    /** Does the work; returns the exit status. */
    abstract int run(ConfigurableApplicationContext ctx, PrintWriter out) throws java.io.IOException;

    /** Prints "kiroku: message" to the error stream; exit status 1. */
    int fail(String message) {
        spec.commandLine().getErr().println("kiroku: " + message);
        return 1;
    }
}
