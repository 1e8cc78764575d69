package jp.kiroku.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import jp.kiroku.KirokuApplication;
import picocli.CommandLine;

/** One {@code kiroku ...} admin command run in-process against a data directory: exit code, output and errors. */
record CliRun(int code, String out, String err) {

    static CliRun kiroku(Path dataDir, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--data-dir=" + dataDir);
        return kiroku(all);
    }

    /** A command that takes no data directory (e.g. the downtime viewer). */
    static CliRun kiroku(List<String> args) {
        KirokuCli.application = KirokuApplication.class;
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new KirokuCli());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("kiroku: " + KirokuCli.rootMessage(ex));
            return 1;
        });
        int code = cli.execute(args.toArray(String[]::new));
        return new CliRun(code, out.toString(), err.toString());
    }
}
