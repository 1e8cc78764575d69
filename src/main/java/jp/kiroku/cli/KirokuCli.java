package jp.kiroku.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * The {@code kiroku} command line. {@code serve} runs the server; admin commands start a small Spring context without
 * a web server that reaches the same database (through a running server's connection file, or by starting the
 * embedded database under the data-directory lock) and act as the local operator.
 */
@Command(name = "kiroku", mixinStandardHelpOptions = true, versionProvider = KirokuCli.Version.class,
        description = "Kiroku medical record vault (FHIR R4).",
        subcommands = {KirokuCli.Serve.class, ClientCommands.class, UserCommands.class, AccessCommands.class, RightsCommands.class, RetentionCommands.class, FacilityCommands.class, DisposalCommands.class, DisposalCommands.ResidualScan.class, KeyCommands.class, DecommissionCommand.class, ModeCommand.class, AlertCommands.class, IncidentCommands.class, BcpCommands.class, DeviceCommands.class, BackupCommands.class, BackupCommands.Restore.class, BreakGlassCommands.class, EmergencyCommands.class, LedgerCommands.Verify.class, PrintCommands.Print.class, PrintCommands.Disclosure.class,
                LedgerCommands.Checkpoints.class, AuditCommands.class, PhrCommands.class,
                ComplianceCommands.class,
                CheckupCommands.class,
                Ssmix2Commands.class,
                ClinsCommands.class,
                DoctorCommand.class,
                TlsCommands.class})
public final class KirokuCli implements Runnable {

    static Class<?> application;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Runs the command line; exits the JVM unless the server keeps running. */
    public static void main(Class<?> app, String[] args) {
        application = app;
        CommandLine cli = new CommandLine(new KirokuCli());
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("kiroku: " + rootMessage(ex));
            return 1;
        });
        // an admin command is one "request": its audit events share an id
        org.slf4j.MDC.put(jp.kiroku.audit.AuditTrail.REQUEST_ID, "cli-" + java.util.UUID.randomUUID());
        int code = cli.execute(args);
        if (code != 0 || !Serve.running) {
            System.exit(code);
        }
    }

    static String rootMessage(Throwable ex) {
        Throwable t = ex;
        while (t.getCause() != null && t.getCause() != t) {
            if (t instanceof IllegalStateException || t instanceof IllegalArgumentException) {
                break;
            }
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = KirokuCli.class.getPackage().getImplementationVersion();
            return new String[] {"Kiroku " + (v == null ? "(development)" : v)};
        }
    }

    /** Options every command takes: the data directory, and any --kiroku.x=... setting. */
    static class Common {
        @Option(names = "--data-dir", description = "Data directory (default ./kiroku-data; KIROKU_DATA_DIR).")
        String dataDir;

        /** Settings given as --kiroku.name=value (or any Spring property), collected by each command's @Unmatched. */
        List<String> args(List<String> settings) {
            List<String> out = new ArrayList<>(settings);
            for (String a : settings) {
                if (!a.startsWith("--") || !a.contains("=")) {
                    throw new CommandLine.ParameterException(new CommandLine(new KirokuCli()),
                            "Unknown argument '" + a + "'; settings are given as --kiroku.name=value");
                }
            }
            if (dataDir != null) {
                out.add("--kiroku.data-dir=" + dataDir);
            }
            return out;
        }
    }

    /**
     * The settings alone (kiroku.* from the arguments, the environment and the configuration files), with nothing
     * started: for commands that must not touch the database or the keys, such as restoring the keys.
     */
    static ConfigurableApplicationContext settingsContext(Common common, List<String> settings) {
        return new SpringApplicationBuilder(SettingsOnly.class)
                .web(WebApplicationType.NONE)
                .logStartupInfo(false)
                .properties("spring.main.banner-mode=off", "logging.level.root=WARN")
                .run(common.args(settings).toArray(String[]::new));
    }

    @org.springframework.context.annotation.Configuration(proxyBeanMethods = false)
    @org.springframework.boot.context.properties.EnableConfigurationProperties(jp.kiroku.platform.KirokuProperties.class)
    static class SettingsOnly {
    }

    /** An admin command's Spring context: same configuration, no web server, role "admin", quiet logs. */
    static ConfigurableApplicationContext adminContext(Common common, List<String> settings) {
        return new SpringApplicationBuilder(application)
                .web(WebApplicationType.NONE)
                .logStartupInfo(false)
                .properties("kiroku.runtime.role=admin", "spring.main.banner-mode=off", "spring.main.lazy-initialization=true",
                        "logging.level.root=WARN", "logging.level.jp.kiroku=WARN")
                .run(common.args(settings).toArray(String[]::new));
    }

    @Command(name = "serve", mixinStandardHelpOptions = true,
            description = "Run the server (embedded PostgreSQL in the data directory unless KIROKU_DB_URL is set).")
    static final class Serve implements Callable<Integer> {
        static volatile boolean running;

        @CommandLine.Mixin
        Common common = new Common();

        @Unmatched
        List<String> settings = new ArrayList<>();

        @Option(names = "--port", description = "HTTP port (default 8080).")
        Integer port;

        @Option(names = "--host", description = "Address to listen on (default 127.0.0.1; non-loopback needs TLS).")
        String host;

        @Option(names = "--demo", description = "Demo mode: example patients and one account per role (printed at start),"
                + " no terminal rule; only on a fresh or demo data directory, never with real data.")
        boolean demo;

        @Override
        public Integer call() {
            List<String> args = common.args(settings);
            if (port != null) {
                args.add("--kiroku.port=" + port);
            }
            if (host != null) {
                args.add("--kiroku.host=" + host);
            }
            if (demo) {
                // a newcomer's browser is not an enrolled terminal; the start banner says that the rule is off
                args.add("--kiroku.demo=true");
                args.add("--kiroku.devices.terminal-required=false");
            }
            new SpringApplicationBuilder(application).properties("kiroku.runtime.role=serve")
                    .run(args.toArray(String[]::new));
            running = true;
            return 0;
        }
    }

    static PrintWriter out(CommandLine.Model.CommandSpec spec) {
        return spec.commandLine().getOut();
    }
}
