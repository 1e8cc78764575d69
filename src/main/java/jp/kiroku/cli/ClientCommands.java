package jp.kiroku.cli;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.identity.ClientRegistry;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kiroku client create|list|disable}: system clients (OAuth2 client credentials). */
@Command(name = "client", mixinStandardHelpOptions = true, description = "Manage system clients (OAuth2).",
        subcommands = {ClientCommands.Create.class, ClientCommands.ListClients.class, ClientCommands.Disable.class})
final class ClientCommands implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Register a client; prints its id and secret once (the secret is stored only as a hash).")
    static final class Create implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        KirokuCli.Common common = new KirokuCli.Common();

        @CommandLine.Unmatched
        List<String> settings = new java.util.ArrayList<>();

        @Option(names = "--name", required = true, description = "What the client is, e.g. \"lab system\".")
        String name;

        @Option(names = "--scopes", required = true, description = "SMART scopes, space separated, e.g. \"system/*.read\".")
        String scopes;

        @Override
        public Integer call() {
            List<String> list = Arrays.stream(scopes.trim().split("[\\s,]+")).filter(s -> !s.isEmpty()).toList();
            try (ConfigurableApplicationContext ctx = KirokuCli.adminContext(common, settings)) {
                var client = ctx.getBean(ClientRegistry.class).create(name, list, Agent.localOperator());
                var out = KirokuCli.out(spec);
                out.println("client_id:     " + client.clientId());
                out.println("client_secret: " + client.secret());
                out.println("scopes:        " + String.join(" ", client.scopes()));
                out.println("The secret is shown only now; store it safely.");
                out.flush();
            }
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List clients.")
    static final class ListClients implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        KirokuCli.Common common = new KirokuCli.Common();

        @CommandLine.Unmatched
        List<String> settings = new java.util.ArrayList<>();

        @Override
        public Integer call() {
            try (ConfigurableApplicationContext ctx = KirokuCli.adminContext(common, settings)) {
                var out = KirokuCli.out(spec);
                for (var c : ctx.getBean(ClientRegistry.class).list()) {
                    out.printf("%-24s %-10s %-30s %s%n", c.clientId(), c.disabled() == null ? "active" : "disabled",
                            c.name(), c.scopes().replace(',', ' '));
                }
                out.flush();
            }
            return 0;
        }
    }

    @Command(name = "disable", mixinStandardHelpOptions = true,
            description = "Disable a client; its tokens stop working at once.")
    static final class Disable implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        KirokuCli.Common common = new KirokuCli.Common();

        @CommandLine.Unmatched
        List<String> settings = new java.util.ArrayList<>();

        @Parameters(paramLabel = "CLIENT_ID")
        String clientId;

        @Override
        public Integer call() {
            try (ConfigurableApplicationContext ctx = KirokuCli.adminContext(common, settings)) {
                if (!ctx.getBean(ClientRegistry.class).disable(clientId, Agent.localOperator())) {
                    spec.commandLine().getErr().println("kiroku: no active client '" + clientId + "'");
                    return 1;
                }
                KirokuCli.out(spec).println("Disabled " + clientId);
                KirokuCli.out(spec).flush();
            }
            return 0;
        }
    }
}
