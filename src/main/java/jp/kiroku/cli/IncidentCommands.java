package jp.kiroku.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.incidents.IncidentReports;
import jp.kiroku.incidents.Incidents;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kiroku incident ...}: incident records (issue 10, item 3) — open from alerts or by hand, the timeline, the
 * affected patients from the audit ledger, the report for the ministry and the PPC — and the contact chart.
 */
@Command(name = "incident", mixinStandardHelpOptions = true,
        description = "Incident records, their reports (ministry, PPC) and the contact chart (INC-01..05).",
        subcommands = {IncidentCommands.Open.class, IncidentCommands.ListIncidents.class, IncidentCommands.Show.class,
                IncidentCommands.Set.class, IncidentCommands.Log.class, IncidentCommands.Status.class,
                IncidentCommands.Patients.class, IncidentCommands.Report.class, IncidentCommands.Contacts.class})
final class IncidentCommands extends CommandGroup {

    /** The commands that work on one incident. */
    abstract static class OnIncident extends AdminCommand {
        @Parameters(index = "0", paramLabel = "INCIDENT")
        long id;

        @Override
        final int run(ConfigurableApplicationContext ctx, PrintWriter out) throws IOException {
            return onIncident(ctx.getBean(Incidents.class), ctx, out);
        }

        abstract int onIncident(Incidents incidents, ConfigurableApplicationContext ctx, PrintWriter out) throws IOException;
    }

    @Command(name = "open", mixinStandardHelpOptions = true,
            description = "Open an incident, from alerts (--alert, repeatable) and/or subjects (--subject).")
    static final class Open extends AdminCommand {
        @Option(names = "--title", required = true)
        String title;
        @Option(names = "--alert", description = "An alert to take up (kiroku alerts list).")
        List<Long> alerts = new ArrayList<>();
        @Option(names = "--subject", description = "account:<username>, client:<client id> or address:<ip>.")
        List<String> subjects = new ArrayList<>();
        @Option(names = "--from", description = "When it began (an instant, e.g. 2026-12-07T01:30:00Z); default: the"
                + " earliest alert's window, or now.")
        Instant from;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            Incidents.Incident i = ctx.getBean(Incidents.class).open(title, alerts, subjects, from, Agent.localOperator());
            out.println("Opened incident #" + i.id() + " (" + i.subjects().size() + " subject(s), from " + i.windowFrom()
                    + ")");
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Incidents not closed (--all: every one).")
    static final class ListIncidents extends AdminCommand {
        @Option(names = "--all")
        boolean all;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            for (Incidents.Incident i : ctx.getBean(Incidents.class).list(all)) {
                out.printf("#%d %-9s %s %s%n", i.id(), i.status(), i.detectedAt(), i.title());
            }
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "An incident's fields and timeline.")
    static final class Show extends OnIncident {
        @Override
        int onIncident(Incidents incidents, ConfigurableApplicationContext ctx, PrintWriter out) {
            Incidents.Incident i = incidents.get(id);
            out.println("#" + i.id() + " " + i.title() + " [" + i.status() + "]");
            out.println("  detected " + i.detectedAt() + "; window " + i.windowFrom() + " .. "
                    + (i.windowTo() == null ? "now" : i.windowTo()));
            out.println("  subjects: " + String.join(", ", i.subjects()));
            out.println("  systems: " + String.join(", ", i.systems()) + "; facility: " + i.facility());
            out.println("  personal data: " + i.personalData() + " (" + String.join(", ", i.dataKinds()) + ")"
                    + (i.malicious() ? "; malicious" : ""));
            for (Incidents.Entry e : incidents.timeline(id)) {
                out.printf("  %s %-7s %s (%s)%n", e.at(), e.kind(), e.text(), e.by());
            }
            return 0;
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true, description = {"Set a field: title, facility, description,"
            + " cause, systems, subjects, window-from, window-to, personal-data (unknown|no|suspected|yes), data-kinds,",
            "malicious (true|false), secondary-damage, persons-notified, publication, prevention. Lists comma-separated."})
    static final class Set extends OnIncident {
        @Parameters(index = "1", paramLabel = "FIELD")
        String field;
        @Parameters(index = "2", paramLabel = "VALUE", arity = "0..1")
        String value;

        @Override
        int onIncident(Incidents incidents, ConfigurableApplicationContext ctx, PrintWriter out) {
            incidents.set(id, field, value, Agent.localOperator());
            out.println("Incident #" + id + ": " + field + " set");
            return 0;
        }
    }

    @Command(name = "log", mixinStandardHelpOptions = true,
            description = "Add to the timeline: an action taken, a contact made, a note, a report sent.")
    static final class Log extends OnIncident {
        @Parameters(index = "1", paramLabel = "KIND", description = "action, contact, note or report.")
        String kind;
        @Parameters(index = "2", paramLabel = "TEXT")
        String text;

        @Override
        int onIncident(Incidents incidents, ConfigurableApplicationContext ctx, PrintWriter out) {
            Incidents.Entry e = incidents.log(id, kind, text, Agent.localOperator());
            out.println("Incident #" + id + ": " + e.kind() + " entered at " + e.at());
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Move the incident on: open, contained, recovered, closed.")
    static final class Status extends OnIncident {
        @Parameters(index = "1", paramLabel = "STATUS")
        String status;

        @Override
        int onIncident(Incidents incidents, ConfigurableApplicationContext ctx, PrintWriter out) {
            out.println("Incident #" + id + " is " + incidents.status(id, status, Agent.localOperator()).status());
            return 0;
        }
    }

    @Command(name = "patients", mixinStandardHelpOptions = true, description = {"The patients whose data the incident's"
            + " subjects reached in its window, from the audit ledger (INC-04).", "CSV: patient,events,first,last,actions."})
    static final class Patients extends OnIncident {
        @Override
        int onIncident(Incidents incidents, ConfigurableApplicationContext ctx, PrintWriter out) {
            out.println("patient,events,first,last,actions");
            for (Incidents.AffectedPatient p : incidents.affectedPatients(id, Agent.localOperator())) {
                out.println(p.patient() + "," + p.events() + "," + p.first() + "," + p.last() + ","
                        + String.join(" ", p.actions()));
            }
            return 0;
        }
    }

    @Command(name = "report", mixinStandardHelpOptions = true, description = {"Write the report for the ministry, with"
            + " the PPC leak-report items, as incident-<id>-report.pdf (Japanese) and .json into DIR."})
    static final class Report extends OnIncident {
        @Option(names = "--out", required = true, paramLabel = "DIR")
        Path dir;

        @Override
        int onIncident(Incidents incidents, ConfigurableApplicationContext ctx, PrintWriter out) throws IOException {
            IncidentReports.Report r = ctx.getBean(IncidentReports.class).report(id, Agent.localOperator());
            Files.createDirectories(dir);
            Path pdf = dir.resolve("incident-" + id + "-report.pdf");
            Path json = dir.resolve("incident-" + id + "-report.json");
            Files.write(pdf, r.pdf());
            Files.writeString(json, r.json().toPrettyString());
            out.println("Wrote " + pdf + " and " + json);
            return 0;
        }
    }

    @Command(name = "contacts", mixinStandardHelpOptions = true,
            description = "The contact chart (INC-02): internal staff, vendor, ministry, police, prefecture, PPC.",
            subcommands = {Contacts.ListContacts.class, Contacts.Add.class, Contacts.Remove.class})
    static final class Contacts extends CommandGroup {

        @Command(name = "list", mixinStandardHelpOptions = true, description = "The chart in calling order.")
        static final class ListContacts extends AdminCommand {
            @Override
            int run(ConfigurableApplicationContext ctx, PrintWriter out) {
                for (Incidents.Contact c : ctx.getBean(Incidents.class).contacts()) {
                    out.printf("#%d %-10s %s %s %s %s %s%n", c.id(), c.party(), c.organisation(), orNone(c.name()),
                            orNone(c.role()), orNone(c.phone()), orNone(c.email()));
                }
                return 0;
            }

            private static String orNone(String s) {
                return s == null ? "-" : s;
            }
        }

        @Command(name = "add", mixinStandardHelpOptions = true, description = "Add a party to the chart.")
        static final class Add extends AdminCommand {
            @Option(names = "--party", required = true,
                    description = "internal, vendor, ministry, police, prefecture, ppc or other.")
            String party;
            @Option(names = "--organisation", required = true)
            String organisation;
            @Option(names = "--name")
            String name;
            @Option(names = "--role")
            String role;
            @Option(names = "--phone")
            String phone;
            @Option(names = "--email")
            String email;
            @Option(names = "--notes")
            String notes;
            @Option(names = "--priority", description = "Calling order, lower first (default 100).")
            int priority = 100;

            @Override
            int run(ConfigurableApplicationContext ctx, PrintWriter out) {
                Incidents.Contact c = ctx.getBean(Incidents.class).addContact(new Incidents.Contact(0, party,
                        organisation, name, role, phone, email, notes, priority), Agent.localOperator());
                out.println("Added contact #" + c.id());
                return 0;
            }
        }

        @Command(name = "remove", mixinStandardHelpOptions = true, description = "Remove a party from the chart.")
        static final class Remove extends AdminCommand {
            @Parameters(paramLabel = "CONTACT")
            long id;

            @Override
            int run(ConfigurableApplicationContext ctx, PrintWriter out) {
                ctx.getBean(Incidents.class).removeContact(id, Agent.localOperator());
                out.println("Removed contact #" + id);
                return 0;
            }
        }
    }
}
