package jp.kiroku.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.hl7.fhir.r4.model.Bundle;
import org.springframework.context.ConfigurableApplicationContext;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import jp.kiroku.audit.Agent;
import jp.kiroku.exchange.ClinsDocuments;
import jp.kiroku.exchange.ClinsExport;
import jp.kiroku.exchange.ClinsImport;
import jp.kiroku.exchange.ClinsOutcomes;
import jp.kiroku.identity.Caller;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kiroku clins export|import}: JP-CLINS exchange (SHARE-02) for the operator at the server. */
@Command(name = "clins", mixinStandardHelpOptions = true,
        description = "JP-CLINS (電子カルテ情報共有サービス) exchange: export a patient's documents and information Bundles, import Bundles.",
        subcommands = {ClinsCommands.Export.class, ClinsCommands.Import.class})
final class ClinsCommands extends CommandGroup {

    static Caller operator() {
        return new Caller(Agent.localOperator(), List.of("system/*.cruds"));
    }

    /** The refusal with the validator's errors, as one message. */
    static IllegalStateException refused(BaseServerResponseException e) {
        var oo = e.getOperationOutcome() instanceof org.hl7.fhir.r4.model.OperationOutcome o ? o : null;
        List<String> errors = ClinsOutcomes.errors(oo);
        return new IllegalStateException(e.getMessage() + (errors.isEmpty() ? "" : "\n  " + String.join("\n  ", errors)));
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = {"Write a patient's data as JP-CLINS: --type referral|discharge (document Bundle), conditions|allergies|labs",
                    "(one JP_Bundle_CLINS collection) or information (each of those that has content, as FILE-<kind>.json);",
                    "or --bundle ID: a stored (imported) JP-CLINS Bundle as it was received. Validated before it is written;",
                    "audited as export. The file holds patient data and is written owner-only."})
    static final class Export extends AdminCommand {
        @Option(names = "--patient", paramLabel = "ID", description = "The Patient's id.")
        String patient;
        @Option(names = "--type", paramLabel = "TYPE", description = "information, conditions, allergies, labs, referral or discharge.")
        String type;
        @Option(names = "--bundle", paramLabel = "ID", description = "Instead: a stored Bundle (as imported).")
        String bundle;
        @Option(names = "--to-organization", paramLabel = "ID", description = "referral: the receiving Organization's id.")
        String toOrganization;
        @Option(names = "--to-practitioner", paramLabel = "ID", description = "referral: the receiving doctor's Practitioner id.")
        String toPractitioner;
        @Option(names = "--purpose", paramLabel = "TEXT", description = "referral: the purpose of the referral.")
        String purpose;
        @Option(names = "--out", required = true, paramLabel = "FILE", description = "The JSON file to write.")
        Path out;

        @Override
        List<String> before() {
            if ((bundle == null) == (patient == null || type == null)) {
                throw new IllegalArgumentException("give --patient ID --type TYPE, or --bundle ID");
            }
            if (type != null && !List.of("information", "conditions", "allergies", "labs", "referral", "discharge").contains(type)) {
                throw new IllegalArgumentException("--type: information, conditions, allergies, labs, referral or discharge, not " + type);
            }
            return List.of();
        }

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter console) throws IOException {
            FhirContext fhir = ctx.getBean(FhirContext.class);
            ClinsExport export = ctx.getBean(ClinsExport.class);
            try {
                if (bundle != null) {
                    write(console, fhir, out, export.stored(operator(), bundle));
                    return 0;
                }
                switch (type) {
                    case "information" -> {
                        for (ClinsExport.Exported e : export.information(operator(), patient)) {
                            String kind = e.bundle().getMeta().getTagFirstRep().getCode();
                            String name = out.getFileName().toString().replaceFirst("\\.json$", "") + "-" + kind + ".json";
                            write(console, fhir, out.resolveSibling(name), e.bundle());
                        }
                    }
                    case "referral", "discharge" -> write(console, fhir, out, export.document(operator(), patient,
                            type.equals("referral") ? ClinsDocuments.Type.REFERRAL : ClinsDocuments.Type.DISCHARGE,
                            new ClinsDocuments.Referral(toOrganization, toPractitioner, purpose)).bundle());
                    default -> write(console, fhir, out, export.information(operator(), patient,
                            ClinsExport.Kind.valueOf(type.toUpperCase())).bundle());
                }
            } catch (BaseServerResponseException e) {
                throw refused(e);
            }
            return 0;
        }

        private static void write(PrintWriter console, FhirContext fhir, Path file, Bundle b) throws IOException {
            byte[] json = fhir.newJsonParser().setPrettyPrint(true).encodeResourceToString(b).getBytes(StandardCharsets.UTF_8);
            BcpCommands.writePrivate(console, file, json, "the JP-CLINS Bundle (" + b.getEntry().size() + " entries)");
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = {"Store a JP-CLINS document or collection Bundle (kept as received, and each entry as a searchable",
                    "resource) or a single JP-CLINS resource, after validation against JP Core and JP-CLINS; an invalid",
                    "file is refused with the validator's errors and nothing is stored."})
    static final class Import extends AdminCommand {
        @Parameters(paramLabel = "FILE", description = "A FHIR JSON (or XML) file.")
        Path file;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter console) throws IOException {
            String body = Files.readString(file, StandardCharsets.UTF_8);
            try {
                ClinsImport.Imported imported = ctx.getBean(ClinsImport.class).importText(operator(), body);
                console.println("Imported " + imported.resources().size() + " resource(s): " + String.join(", ", imported.resources()));
                long warnings = imported.outcome().getIssue().stream()
                        .filter(i -> i.getSeverity() == org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity.WARNING).count();
                console.println(warnings + " warning(s) (codes from unavailable code systems are not checked: docs/exchange.md).");
            } catch (BaseServerResponseException e) {
                throw refused(e);
            }
            return 0;
        }
    }
}
