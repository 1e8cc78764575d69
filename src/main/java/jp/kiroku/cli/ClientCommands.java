package jp.kiroku.cli;

import java.util.Arrays;
import java.util.List;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.identity.ClientRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kiroku client create|create-app|create-partner|list|disable}: system clients, apps and sharing partners (OAuth2). */
@Command(name = "client", mixinStandardHelpOptions = true, description = "Manage system clients (OAuth2).",
        subcommands = {ClientCommands.Create.class, ClientCommands.CreateApp.class, ClientCommands.ListClients.class,
                ClientCommands.Disable.class, ClientCommands.CreatePartner.class})
final class ClientCommands extends CommandGroup {

    /** A new client's id and secret (the only time the secret is shown) and one more line about it. */
    private static void shownOnce(java.io.PrintWriter out, ClientRegistry.NewClient client, String about) {
        out.println("client_id:     " + client.clientId());
        out.println("client_secret: " + client.secret());
        out.println(about);
        out.println("The secret is shown only now; store it safely.");
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Register a client; prints its id and secret once (the secret is stored only as a hash).")
    static final class Create extends AdminCommand {
        @Option(names = "--name", required = true, description = "What the client is, e.g. \"lab system\".")
        String name;

        @Option(names = "--scopes", required = true, description = "SMART scopes, space separated, e.g. \"system/*.read\"; \"system/metrics.read\" for a monitoring system (/actuator/prometheus only).")
        String scopes;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            List<String> list = Arrays.stream(scopes.trim().split("[\\s,]+")).filter(s -> !s.isEmpty()).toList();
            var client = ctx.getBean(ClientRegistry.class).create(name, list, Agent.localOperator());
            shownOnce(out, client, "scopes:        " + String.join(" ", client.scopes()));
            return 0;
        }
    }

    @Command(name = "create-partner", mixinStandardHelpOptions = true,
            description = {"Register another facility's system (e.g. its Kiroku) that reads what patients share with that",
                    "facility (their consents, PHR-01): client credentials, read and search only; prints id and secret once."})
    static final class CreatePartner extends AdminCommand {
        @Option(names = "--name", required = true, description = "Who the partner is, e.g. \"B clinic's Kiroku\".")
        String name;

        @Option(names = "--facility", required = true, description = "The partner's facility id in the facility register"
                + " (kiroku facility set), the one patients choose when they consent.")
        String facility;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            if (ctx.getBean(jp.kiroku.retention.Retention.class).facilities().stream().noneMatch(f -> f.id().equals(facility))) {
                return fail("no facility '" + facility + "' in the register; add it first with kiroku facility set");
            }
            var client = ctx.getBean(ClientRegistry.class).createPartner(name, facility, Agent.localOperator());
            shownOnce(out, client, "reads for:     " + facility + " (what patients share with it)");
            return 0;
        }
    }

    @Command(name = "create-app", mixinStandardHelpOptions = true,
            description = {"Register an app that acts for a signed-in person (authorization code + PKCE, OpenID Connect).",
                    "Confidential apps (servers) get a secret, shown once, and refresh tokens; --public apps get neither."})
    static final class CreateApp extends AdminCommand {
        @Option(names = "--name", required = true, description = "What the app is, e.g. \"ward tablet viewer\".")
        String name;

        @Option(names = "--redirect-uri", required = true, description = "Where codes are sent (https, or http on loopback); repeatable.")
        List<String> redirectUris;

        @Option(names = "--scopes", required = true, description = "user/ scopes (staff apps) or patient/ scopes with launch/patient (patients' apps), and openid"
                + " fhirUser, e.g. \"openid fhirUser user/*.rs\" or \"openid launch/patient patient/*.rs\".")
        String scopes;

        @Option(names = "--public", description = "An app that cannot keep a secret (in a browser or on a device).")
        boolean publicClient;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            List<String> list = Arrays.stream(scopes.trim().split("[\\s,]+")).filter(s -> !s.isEmpty()).toList();
            var app = ctx.getBean(ClientRegistry.class).createApp(name, redirectUris, list, publicClient, Agent.localOperator());
            out.println("client_id:     " + app.clientId());
            if (app.secret() != null) {
                out.println("client_secret: " + app.secret());
                out.println("The secret is shown only now; store it safely.");
            }
            out.println("scopes:        " + String.join(" ", app.scopes()));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List clients.")
    static final class ListClients extends AdminCommand {
        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            for (var c : ctx.getBean(ClientRegistry.class).list()) {
                out.printf("%-24s %-10s %-30s %s%n", c.clientId(), c.disabled() == null ? "active" : "disabled",
                        c.name(), c.scopes().replace(',', ' '));
            }
            return 0;
        }
    }

    @Command(name = "disable", mixinStandardHelpOptions = true,
            description = "Disable a client; its tokens stop working at once.")
    static final class Disable extends AdminCommand {
        @Parameters(paramLabel = "CLIENT_ID")
        String clientId;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            if (!ctx.getBean(ClientRegistry.class).disable(clientId, Agent.localOperator())) {
                return fail("no active client '" + clientId + "'");
            }
            out.println("Disabled " + clientId);
            return 0;
        }
    }
}
