package jp.kiroku.cli;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import org.springframework.context.ConfigurableApplicationContext;

import ca.uhn.fhir.context.FhirContext;
import jp.kiroku.access.AccessMatrix;
import jp.kiroku.audit.Agent;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kiroku access rules|grant|revoke|map-type}: the role × information-category matrix (ACL-01). */
@Command(name = "access", mixinStandardHelpOptions = true,
        description = "Show and edit who may read, write and confirm which information categories.",
        subcommands = {AccessCommands.Rules.class, AccessCommands.Grant.class, AccessCommands.Revoke.class,
                AccessCommands.MapType.class})
final class AccessCommands extends CommandGroup {

    @Command(name = "rules", mixinStandardHelpOptions = true,
            description = "Print the matrix: per role and category, read/write/confirm and how far (care, facility, self).")
    static final class Rules extends AdminCommand {
        @Option(names = "--role", description = "Only this role.")
        String role;
        @Option(names = "--types", description = "Also list which resource types are in each category.")
        boolean types;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            AccessMatrix matrix = ctx.getBean(AccessMatrix.class);
            Map<String, Map<String, String>> cells = new TreeMap<>();
            for (AccessMatrix.Rule r : matrix.rules()) {
                if (role == null || role.equals(r.role())) {
                    cells.computeIfAbsent(r.role(), k -> new TreeMap<>())
                            .merge(r.category(), r.action() + ":" + r.reach(), (a, b) -> a + " " + b);
                }
            }
            if (role != null && cells.isEmpty()) {
                return fail("role '" + role + "' has no rules (roles: "
                        + matrix.roles().stream().map(AccessMatrix.Named::code).collect(Collectors.joining(", ")) + ")");
            }
            out.printf("%-17s %-13s %s%n", "ROLE", "CATEGORY", "ALLOWED (action:reach)");
            cells.forEach((r, byCategory) -> byCategory.forEach((c, allowed) -> out.printf("%-17s %-13s %s%n", r, c, allowed)));
            out.println("Anything not listed is denied.");
            if (types) {
                Map<String, List<String>> byCategory = new TreeMap<>();
                matrix.typeCategories().forEach((t, c) -> byCategory.computeIfAbsent(c, k -> new java.util.ArrayList<>()).add(t));
                out.println();
                for (AccessMatrix.Named c : matrix.categories()) {
                    out.printf("%-13s %s / %s: %s%n", c.code(), c.nameJa(), c.nameEn(),
                            String.join(", ", byCategory.getOrDefault(c.code(), List.of())));
                }
                out.println("Types not listed are unclassified (no role reaches them).");
            }
            return 0;
        }
    }

    /** Which cell of the matrix a grant or revoke is about. */
    static final class Cell {
        @Option(names = "--role", required = true)
        String role;
        @Option(names = "--category", required = true)
        String category;
        @Option(names = "--action", required = true, description = "read, write or confirm.")
        String action;
    }

    @Command(name = "grant", mixinStandardHelpOptions = true,
            description = "Allow a role an action on a category (or change how far it reaches).")
    static final class Grant extends AdminCommand {
        @CommandLine.Mixin
        Cell cell = new Cell();
        @Option(names = "--reach", required = true, description = "care (patients in their care), facility, or self.")
        String reach;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            ctx.getBean(AccessMatrix.class).grant(cell.role, cell.category, cell.action, reach, Agent.localOperator());
            out.println("Granted " + cell.role + " " + cell.action + " on " + cell.category + " (reach " + reach + ")");
            return 0;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Deny a role an action on a category.")
    static final class Revoke extends AdminCommand {
        @CommandLine.Mixin
        Cell cell = new Cell();

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            if (!ctx.getBean(AccessMatrix.class).revoke(cell.role, cell.category, cell.action, Agent.localOperator())) {
                return fail(cell.role + " had no " + cell.action + " rule on " + cell.category);
            }
            out.println("Revoked " + cell.role + " " + cell.action + " on " + cell.category);
            return 0;
        }
    }

    @Command(name = "map-type", mixinStandardHelpOptions = true,
            description = "Put a resource type in an information category (stored resources of the type move with it).")
    static final class MapType extends AdminCommand {
        @Option(names = "--type", required = true)
        String type;
        @Option(names = "--category", required = true)
        String category;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            int moved = ctx.getBean(AccessMatrix.class).mapType(type, category,
                    ctx.getBean(FhirContext.class).getResourceTypes(), Agent.localOperator());
            out.println(type + " is now in " + category + " (" + moved + " stored resources moved)");
            return 0;
        }
    }
}
