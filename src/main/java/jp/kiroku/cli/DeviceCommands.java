package jp.kiroku.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.devices.Devices;
import jp.kiroku.devices.Documents;
import jp.kiroku.devices.Lendings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kiroku device ...}: the device registry and IoT devices lent to patients with their consent (issue 9). */
@Command(name = "device", mixinStandardHelpOptions = true,
        description = "Devices: the registry (terminals, integrations, IoT) and IoT devices lent to patients.",
        subcommands = {DeviceCommands.Register.class, DeviceCommands.Enroll.class, DeviceCommands.ListDevices.class,
                DeviceCommands.State.class, DeviceCommands.Firmware.class, DeviceCommands.Version.class,
                DeviceCommands.Lend.class, DeviceCommands.Consent.class, DeviceCommands.Withdraw.class,
                DeviceCommands.GiveBack.class, DeviceCommands.ConsentForm.class, DeviceCommands.Document.class})
final class DeviceCommands extends CommandGroup {

    @Command(name = "register", mixinStandardHelpOptions = true, description = "Register a device.")
    static final class Register extends AdminCommand {
        @Option(names = "--id", description = "The device's id (letters, digits, '-'; default: generated).")
        String id;
        @Option(names = "--kind", required = true, description = "terminal | integration | iot")
        String kind;
        @Option(names = "--name", required = true, description = "What it is, e.g. \"病棟3F ノートPC 12\".")
        String name;
        @Option(names = "--type", description = "Device type, e.g. PC, tablet, blood-pressure monitor.")
        String type;
        @Option(names = "--owner", required = true, description = "facility:<id> or person:<username>.")
        String owner;
        @Option(names = "--management", required = true,
                description = "managed | personal-mdm | personal-uncontrolled (personally owned without control).")
        String management;
        @Option(names = "--mdm-attestation", description = "For personal-mdm: which MDM controls it, checked by whom.")
        String mdm;
        @Option(names = "--responsible", required = true, description = "The person responsible for it.")
        String responsible;
        @Option(names = "--os-version", description = "OS or firmware version.")
        String os;
        @Option(names = "--mds-sds", description = "The manufacturer's security information (MDS/SDS): a reference.")
        String mdsSds;
        @Option(names = "--fhir-device", description = "The FHIR Device its measurements name, e.g. Device/bp-12.")
        String fhirDevice;
        @Option(names = "--client-id", description = "An integration: the system client it uses (disabled when retired).")
        String clientId;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            Devices.Device d = ctx.getBean(Devices.class).register(new Devices.NewDevice(id, kind, name, type, owner,
                    management, mdm, responsible, os, mdsSds, fhirDevice, clientId), Agent.localOperator());
            out.println("Registered device " + d.id() + " (" + d.kind() + ", " + d.management() + ")");
            return 0;
        }
    }

    @Command(name = "enroll", mixinStandardHelpOptions = true,
            description = {"Issue a terminal's credential (replacing an earlier one), shown once: type it into",
                    "/device/enroll on that terminal's browser, or give it to an app as the X-Kiroku-Device header."})
    static final class Enroll extends AdminCommand {
        @Parameters(paramLabel = "DEVICE")
        String id;
        @Option(names = "--certificate", paramLabel = "PEM", description = {"Enrol the terminal's TLS client certificate",
                "instead (mutual TLS: TLS ends at Kiroku, kiroku.tls.client-auth=want and kiroku.tls.client-ca)."})
        Path certificate;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws IOException {
            if (certificate != null) {
                java.security.cert.X509Certificate cert;
                try (var in = Files.newInputStream(certificate)) {
                    cert = (java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                            .generateCertificate(in);
                } catch (java.security.cert.CertificateException e) {
                    return fail(certificate + " is not an X.509 certificate (PEM or DER): " + e.getMessage());
                }
                String hash = ctx.getBean(Devices.class).enrollCertificate(id, cert, Agent.localOperator());
                out.println("Enrolled " + id + " by its client certificate " + cert.getSubjectX500Principal().getName()
                        + " (sha256 " + hash + ")");
                return 0;
            }
            String credential = ctx.getBean(Devices.class).enroll(id, Agent.localOperator());
            out.println("credential: " + credential);
            out.println("On the terminal, open <Kiroku's address>/device/enroll and enter it (shown only now).");
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "The inventory (checklist 2-①); --csv and --pdf write it to files.")
    static final class ListDevices extends AdminCommand {
        @Option(names = "--csv", paramLabel = "FILE")
        Path csv;
        @Option(names = "--pdf", paramLabel = "FILE")
        Path pdf;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws IOException {
            Devices devices = ctx.getBean(Devices.class);
            for (Devices.Device d : devices.list()) {
                out.printf("%-20s %-11s %-22s %-10s %-22s %s%s%n", d.id(), d.kind(), d.management(), d.state(), d.owner(),
                        d.name(), d.updateDue() == null ? "" : "  UPDATE DUE: " + d.updateDue());
            }
            if (csv != null) {
                Files.write(csv, devices.inventoryCsv());
                out.println("Wrote " + csv);
            }
            if (pdf != null) {
                Files.write(pdf, devices.inventoryPdf());
                out.println("Wrote " + pdf);
            }
            return 0;
        }
    }

    @Command(name = "state", mixinStandardHelpOptions = true,
            description = {"Move a device through its lifecycle: registered | active | lost | retired | disposed.",
                    "Lost, retired and disposed devices lose every credential at once."})
    static final class State extends AdminCommand {
        @Parameters(index = "0", paramLabel = "DEVICE")
        String id;
        @Parameters(index = "1", paramLabel = "STATE")
        String state;
        @Option(names = "--reason", description = "Why (required for lost, retired, disposed).")
        String reason;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            Devices.Device d = ctx.getBean(Devices.class).setState(id, state, reason, Agent.localOperator());
            out.println("Device " + d.id() + " is " + d.state());
            return 0;
        }
    }

    @Command(name = "firmware", mixinStandardHelpOptions = true,
            description = {"The firmware/OS version devices of a type should run: devices on another version are listed",
                    "as due for an update (--important: a security fix; the health check then says UPDATE_DUE)."})
    static final class Firmware extends AdminCommand {
        @Option(names = "--type", required = true, description = "The device type, as registered (--type).")
        String type;
        @Option(names = "--version", required = true, description = "The version they should run.")
        String version;
        @Option(names = "--important", description = "A security update.")
        boolean important;
        @Option(names = "--note", description = "E.g. the vendor's advisory.")
        String note;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            Devices devices = ctx.getBean(Devices.class);
            devices.recommendFirmware(type, version, important, note, Agent.localOperator());
            long due = devices.list().stream().filter(d -> type.equals(d.type()) && d.updateDue() != null).count();
            out.println(type + " should run " + version + (important ? " (important)" : "") + "; " + due
                    + " device(s) due for the update");
            return 0;
        }
    }

    @Command(name = "version", mixinStandardHelpOptions = true, description = "Record the version a device now runs.")
    static final class Version extends AdminCommand {
        @Parameters(index = "0", paramLabel = "DEVICE")
        String id;
        @Parameters(index = "1", paramLabel = "VERSION")
        String version;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            Devices.Device d = ctx.getBean(Devices.class).setVersion(id, version, Agent.localOperator());
            out.println("Device " + d.id() + " runs " + d.osVersion() + (d.updateDue() == null ? "" : "; still due: "
                    + d.updateDue()));
            return 0;
        }
    }

    @Command(name = "lend", mixinStandardHelpOptions = true,
            description = {"Lend an IoT device to a patient after explaining the risks; prints the device's credential",
                    "once. Its measurements are accepted only after the patient consents ('device consent')."})
    static final class Lend extends AdminCommand {
        @Parameters(paramLabel = "DEVICE")
        String device;
        @Option(names = "--patient", required = true, description = "The patient (Patient/<id> or <id>).")
        String patient;
        @Option(names = "--until", description = "Planned end of the lending (ISO-8601 instant).")
        Instant until;
        @Option(names = "--explained-by", required = true, description = "Who explained the risks to the patient.")
        String explainedBy;
        @Option(names = "--document-version", description = "The explanation version shown (default: the newest).")
        Integer version;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            Lendings.NewLending n = ctx.getBean(Lendings.class).lend(device, patient.replaceFirst("^Patient/", ""), until,
                    explainedBy, version, Agent.localOperator());
            out.println("lending:       " + n.lending().id());
            out.println("client_id:     " + n.lending().clientId());
            out.println("client_secret: " + n.clientSecret());
            out.println("scope:         " + Lendings.DEVICE_SCOPE);
            out.println("Consent is pending: print the form ('device consent-form " + n.lending().id() + "') and record"
                    + " the patient's answer ('device consent'). The secret is shown only now; put it into the device.");
            return 0;
        }
    }

    @Command(name = "consent", mixinStandardHelpOptions = true, description = "Record the patient's answer.")
    static final class Consent extends AdminCommand {
        @Parameters(paramLabel = "LENDING")
        String lending;
        @Option(names = "--given", description = "The patient consents.")
        boolean given;
        @Option(names = "--refused", description = "The patient does not consent.")
        boolean refused;
        @Option(names = "--signed-by", required = true, description = "Who signed: the patient, or a proxy and relation.")
        String signedBy;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            if (given == refused) {
                return fail("say --given or --refused");
            }
            Lendings.Lending l = ctx.getBean(Lendings.class).consent(lending, given, signedBy, Agent.localOperator());
            out.println("Consent " + l.consent() + " for lending " + l.id() + " (device " + l.deviceId() + ")");
            return 0;
        }
    }

    @Command(name = "withdraw", mixinStandardHelpOptions = true,
            description = "The patient withdraws consent: no measurement is accepted from now on.")
    static final class Withdraw extends AdminCommand {
        @Parameters(paramLabel = "LENDING")
        String lending;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            Lendings.Lending l = ctx.getBean(Lendings.class).withdraw(lending, Agent.localOperator());
            out.println("Consent withdrawn for lending " + l.id() + " (device " + l.deviceId() + ")");
            return 0;
        }
    }

    @Command(name = "return", mixinStandardHelpOptions = true,
            description = "The device came back: the lending ends and the device's credential is disabled.")
    static final class GiveBack extends AdminCommand {
        @Parameters(paramLabel = "LENDING")
        String lending;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) {
            Lendings.Lending l = ctx.getBean(Lendings.class).giveBack(lending, Agent.localOperator());
            out.println("Lending " + l.id() + " ended; credential " + l.clientId() + " disabled. Erase it from the device.");
            return 0;
        }
    }

    @Command(name = "consent-form", mixinStandardHelpOptions = true,
            description = "The printable explanation and consent form of a lending (PDF).")
    static final class ConsentForm extends AdminCommand {
        @Parameters(paramLabel = "LENDING")
        String lending;
        @Option(names = "--lang", defaultValue = "ja", description = "ja (default) or en.")
        String lang;
        @Option(names = "--pdf", required = true, paramLabel = "FILE")
        Path pdf;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws IOException {
            Files.write(pdf, ctx.getBean(Lendings.class).consentForm(lending, lang));
            out.println("Wrote " + pdf);
            return 0;
        }
    }

    @Command(name = "document", mixinStandardHelpOptions = true,
            description = {"The explanation of risks shown before lending: list the versions, or add one (--ja FILE",
                    "[--en FILE]; each file: the title on the first line, the contact on the second, then the text)."})
    static final class Document extends AdminCommand {
        @Option(names = "--ja", paramLabel = "FILE", description = "Add a version with this Japanese text.")
        Path ja;
        @Option(names = "--en", paramLabel = "FILE", description = "... and this English text.")
        Path en;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws IOException {
            Documents documents = ctx.getBean(Documents.class);
            if (ja != null) {
                int v = documents.add(read(ja, "ja"), en == null ? null : read(en, "en"), Agent.localOperator());
                out.println("Added explanation version " + v);
            } else if (en != null) {
                return fail("a version needs its Japanese text (--ja FILE)");
            }
            for (Documents.Document d : documents.list()) {
                out.printf("v%d %s  %s  (%s, %s)%n", d.version(), d.lang(), d.title(), d.createdAt(), d.createdBy());
            }
            return 0;
        }

        private static Documents.Document read(Path file, String lang) throws IOException {
            String[] lines = Files.readString(file, StandardCharsets.UTF_8).split("\r?\n", 3);
            if (lines.length < 3) {
                throw new IllegalArgumentException(file + ": the title on the first line, the contact on the second, then"
                        + " the text");
            }
            return new Documents.Document(0, lang, lines[0].strip(), lines[2].strip(), lines[1].strip(), null, null);
        }
    }
}
