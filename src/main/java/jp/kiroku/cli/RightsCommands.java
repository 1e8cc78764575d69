package jp.kiroku.cli;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.identity.RightsRequests;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kiroku rights request|list|manager|managers|report|admins}: the access rights workflow (ACL-02, ACL-03).
 * Decisions are a manager's, logged in (HTTP {@code /admin/rights-requests/{id}/decision}), not the shell's.
 */
@Command(name = "rights", mixinStandardHelpOptions = true,
        description = "Rights requests from departments, their managers, and the report of granted vs approved rights.",
        subcommands = {RightsCommands.Request.class, RightsCommands.ListRequests.class, RightsCommands.Manager.class,
                RightsCommands.Managers.class, RightsCommands.Report.class, RightsCommands.Admins.class})
final class RightsCommands extends CommandGroup {

    @Command(name = "request", mixinStandardHelpOptions = true,
            description = "Record a department's request for the complete set of roles a person should have.")
    static final class Request extends AdminCommand {
        @Option(names = "--user", required = true)
        String user;
        @Option(names = "--department", required = true, description = "The requesting department, e.g. Organization/naika.")
        String department;
        @Option(names = "--roles", required = true, split = ",", description = "Comma-separated roles, e.g. nurse,clerk.")
        List<String> roles;
        @Option(names = "--reason", required = true, description = "Why, e.g. \"transferred to ward 3W on 2026-12-01\".")
        String reason;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            var r = ctx.getBean(RightsRequests.class).request(user, department, roles, reason, Agent.localOperator());
            out.println("Request " + r.id() + " for " + r.username() + " (" + String.join(",", r.roles())
                    + ") waits for a manager of " + r.department() + " to decide.");
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Pending requests, oldest first.")
    static final class ListRequests extends AdminCommand {
        @Option(names = "--all", description = "Every request, decided ones too, newest first.")
        boolean all;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            for (var r : ctx.getBean(RightsRequests.class).list(all, null)) {
                out.printf("%s  %-20s %-24s %-28s %s%n", r.id(), r.username(), r.department(), String.join(",", r.roles()),
                        r.decision() == null ? "PENDING (asked by " + r.requestedBy() + ")"
                                : r.decision() + " by " + r.decidedBy() + " " + r.decidedAt());
            }
            return 0;
        }
    }

    @Command(name = "manager", mixinStandardHelpOptions = true, description = "Name a department's manager.")
    static final class Manager extends AdminCommand {
        @Option(names = "--department", required = true)
        String department;
        @Option(names = "--user", required = true)
        String user;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            ctx.getBean(RightsRequests.class).assignManager(department, user, Agent.localOperator());
            out.println(user + " now decides the rights requests of " + department + ".");
            return 0;
        }
    }

    @Command(name = "managers", mixinStandardHelpOptions = true, description = "Departments and their managers.")
    static final class Managers extends AdminCommand {
        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            ctx.getBean(RightsRequests.class).managers().forEach((d, people) -> out.printf("%-28s %s%n", d,
                    String.join(", ", people)));
            return 0;
        }
    }

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "Every staff account's roles against its latest approved request (ACL-02).")
    static final class Report extends AdminCommand {
        @Option(names = "--csv", description = "As CSV (UTF-8) for a spreadsheet.")
        boolean csv;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            var lines = ctx.getBean(RightsRequests.class).report();
            if (csv) {
                out.println("user,name,active,roles,approved_roles,approved_at,finding");
            }
            for (var l : lines) {
                String roles = String.join(" ", l.roles());
                String approved = l.approved() == null ? "" : String.join(" ", l.approved());
                if (csv) {
                    out.println(Csv.row(l.username(), l.name(), String.valueOf(l.active()), roles, approved,
                            l.approvedAt() == null ? "" : l.approvedAt().toString(), l.finding().name().toLowerCase()));
                } else {
                    out.printf("%-20s %-24s %-24s %s%n", l.username(), roles, approved.isEmpty() ? "-" : approved,
                            l.finding().text());
                }
            }
            long off = lines.stream().filter(l -> l.finding() != RightsRequests.Finding.OK).count();
            if (!csv) {
                out.println(off == 0 ? "Every account's roles match an approved request."
                        : off + " account(s) hold roles no approved request covers.");
            }
            return 0;
        }
    }

    @Command(name = "admins", mixinStandardHelpOptions = true,
            description = "The people with the administrator role (ACL-03).")
    static final class Admins extends AdminCommand {
        @Option(names = "--csv", description = "As CSV (UTF-8).")
        boolean csv;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            if (csv) {
                out.println("user,name,active,last_login");
            }
            for (var a : ctx.getBean(RightsRequests.class).administrators()) {
                String last = a.lastLoginAt() == null ? "" : a.lastLoginAt().toString();
                out.println(csv ? Csv.row(a.username(), a.name(), String.valueOf(a.active()), last)
                        : String.format("%-20s %-20s %-9s last login %s", a.username(), a.name(),
                                a.active() ? "active" : "disabled", last.isEmpty() ? "never" : last));
            }
            return 0;
        }
    }

    /** RFC 4180 quoting: a field with a comma, quote or line break is quoted, quotes doubled. */
    static final class Csv {
        private Csv() {
        }

        static String row(String... fields) {
            return Stream.of(fields).map(f -> f == null ? "" : f.matches("(?s).*[\",\r\n].*")
                    ? "\"" + f.replace("\"", "\"\"") + "\"" : f).collect(Collectors.joining(","));
        }
    }
}
