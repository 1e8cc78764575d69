package jp.kiroku.cli;

import java.util.UUID;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.phr.DeletionRequests;
import jp.kiroku.phr.PartnerRecords;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kiroku phr deletion-requests|take-up|refuse}: patients' requests to delete their data (PHR-04), answered by
 * an administrator at the server — taken up as a disposal (approved by a second person with {@code kiroku disposal
 * approve}) or refused with the reason the patient reads in the portal; and {@code kiroku phr fetch}: what a patient
 * shared with this facility at another Kiroku, read with the partner credentials it issued (audited on both sides).
 */
@Command(name = "phr", mixinStandardHelpOptions = true,
        description = "Patients' requests to delete their data (PHR-04); records shared with this facility elsewhere.",
        subcommands = {PhrCommands.ListRequests.class, PhrCommands.TakeUp.class, PhrCommands.Refuse.class,
                PhrCommands.Fetch.class})
final class PhrCommands extends CommandGroup {

    /** A request id, refused in words (picocli's own message names the Java exception). */
    static UUID request(String id) {
        try {
            return UUID.fromString(id);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a request id: " + id);
        }
    }

    @Command(name = "deletion-requests", mixinStandardHelpOptions = true,
            description = "Requests waiting for an answer, oldest first (--patient: one patient's, answered ones too).")
    static final class ListRequests extends AdminCommand {
        @Option(names = "--patient", paramLabel = "ID", description = "The Patient's id.")
        String patient;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            DeletionRequests requests = ctx.getBean(DeletionRequests.class);
            var list = patient == null ? requests.open() : requests.of(patient);
            if (list.isEmpty()) {
                out.println(patient == null ? "No requests wait for an answer." : "No requests of Patient/" + patient + ".");
            }
            for (var r : list) {
                out.printf("%s  Patient/%-38s %s  %-20s %s%n", r.id(), r.patientKey(), r.requestedAt(), r.state(),
                        r.answer() == null ? "" : r.answer());
            }
            return 0;
        }
    }

    @Command(name = "take-up", mixinStandardHelpOptions = true,
            description = {"Ask for the disposal of the patient's records (a second person approves it). If their",
                    "records cannot be disposed of yet (retention, a hold), the request is answered with that reason."})
    static final class TakeUp extends AdminCommand {
        @Parameters(paramLabel = "REQUEST", description = "The request's id.")
        String id;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            var r = ctx.getBean(DeletionRequests.class).takeUp(request(id), Agent.localOperator());
            out.println("Request " + r.id() + ": " + r.state() + (r.disposalId() == null ? "" : " (disposal " + r.disposalId()
                    + ": approve it with kiroku disposal approve)") + (r.answer() == null ? "" : " — " + r.answer()));
            return 0;
        }
    }

    @Command(name = "refuse", mixinStandardHelpOptions = true, description = "Refuse a request; the patient reads the reason.")
    static final class Refuse extends AdminCommand {
        @Parameters(paramLabel = "REQUEST", description = "The request's id.")
        String id;
        @Option(names = "--answer", required = true, description = "The reason the patient reads in the portal.")
        String answer;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            var r = ctx.getBean(DeletionRequests.class).refuse(request(id), answer, Agent.localOperator());
            out.println("Request " + r.id() + " refused: " + r.answer());
            return 0;
        }
    }

    @Command(name = "fetch", mixinStandardHelpOptions = true,
            description = {"Read what a patient has shared with this facility at another Kiroku (their consent there), with",
                    "the partner client it registered for us (kiroku client create-partner there); writes a FHIR",
                    "collection Bundle. The source audits each read; this side audits the fetch."})
    static final class Fetch extends AdminCommand {
        @Option(names = "--source", required = true, paramLabel = "URL", description = "The other Kiroku's address (https).")
        java.net.URI source;
        @Option(names = "--client-id", required = true, description = "The partner client id the source issued.")
        String clientId;
        @Option(names = "--secret-file", required = true, paramLabel = "FILE",
                description = "A file holding the partner client's secret (never on the command line).")
        java.nio.file.Path secretFile;
        @Option(names = "--identifier", paramLabel = "SYSTEM|VALUE", description = "The patient's identifier at the source.")
        String identifier;
        @Option(names = "--patient", paramLabel = "ID", description = "Or the patient's id at the source.")
        String patient;
        @Option(names = "--out", required = true, paramLabel = "FILE", description = "The Bundle to write (owner-only).")
        java.nio.file.Path out;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter console) throws java.io.IOException {
            if (!java.nio.file.Files.isReadable(secretFile)) {
                return fail("cannot read the secret file " + secretFile);
            }
            String secret = java.nio.file.Files.readString(secretFile).strip();
            var fetched = ctx.getBean(PartnerRecords.class).fetch(new PartnerRecords.Source(source, clientId, secret),
                    identifier, patient, Agent.localOperator());
            byte[] json = ctx.getBean(ca.uhn.fhir.context.FhirContext.class).newJsonParser().setPrettyPrint(true)
                    .encodeResourceToString(fetched.records()).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            BcpCommands.writePrivate(console, out, json, "the shared records");
            console.println(fetched.records().getEntry().size() + " shared resource(s) of Patient/" + fetched.sourcePatient()
                    + " at " + source.getHost() + ".");
            return 0;
        }
    }
}
