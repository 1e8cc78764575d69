package jp.kiroku.cli;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.List;

import org.springframework.context.ConfigurableApplicationContext;

import ca.uhn.fhir.context.FhirContext;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AtnaXml;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.audit.FhirAuditEvents;
import jp.kiroku.platform.KirokuProperties;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kiroku audit export}: the access log for auditors, SIEMs and audit repositories (LOG-05). */
@Command(name = "audit", mixinStandardHelpOptions = true, description = "The access log.",
        subcommands = {AuditCommands.Export.class})
final class AuditCommands extends CommandGroup {

    enum Format { ndjson, atna }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = {"Write audit events, oldest first: FHIR AuditEvent resources as NDJSON, or IHE ATNA audit",
                    "messages (DICOM PS3.15 XML). The file holds personal data (patients, search parameters): keep it",
                    "as safe as the records. The export is itself audited."})
    static final class Export extends AdminCommand {
        @Option(names = "--format", defaultValue = "ndjson", description = "ndjson (FHIR AuditEvent) or atna (XML).")
        Format format;

        @Option(names = "--since", paramLabel = "WHEN", description = "From this date (in kiroku.time-zone) or instant.")
        String since;

        @Option(names = "--until", paramLabel = "WHEN", description = "Before this date (exclusive) or instant.")
        String until;

        @Option(names = "--patient", paramLabel = "ID", description = "Only events that touched this patient.")
        String patient;

        @Parameters(paramLabel = "FILE", description = "Where to write ('-' for standard output).")
        String file;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter text) throws IOException {
            ZoneId zone = ctx.getBean(KirokuProperties.class).getTimeZone();
            Instant from = when(since, zone, "--since");
            Instant to = when(until, zone, "--until");
            AuditTrail trail = ctx.getBean(AuditTrail.class);
            var query = new jp.kiroku.audit.AuditQuery(patient, null, from, to, List.of(), null, null, Integer.MAX_VALUE);
            long[] n = {0};
            try (OutputStream out = file.equals("-") ? nonClosing(System.out)
                    : new BufferedOutputStream(Files.newOutputStream(Path.of(file)))) {
                if (format == Format.atna) {
                    try (AtnaXml atna = new AtnaXml(out)) {
                        trail.forEach(query, e -> {
                            atna.write(e);
                            n[0]++;
                        });
                    }
                } else {
                    var json = FhirContext.forR4Cached().newJsonParser();
                    trail.forEach(query, e -> {
                        try {
                            out.write(json.encodeResourceToString(FhirAuditEvents.toFhir(e)).getBytes(StandardCharsets.UTF_8));
                            out.write('\n');
                        } catch (IOException ex) {
                            throw new java.io.UncheckedIOException(ex);
                        }
                        n[0]++;
                    });
                }
            }
            trail.record(AuditRecord.of(Agent.localOperator(), "audit.export", AuditRecord.Outcome.SUCCESS)
                    .withDetail(n[0] + " events as " + format)
                    .withQuery("since=" + since + " until=" + until + " patient=" + patient));
            if (!file.equals("-")) {
                text.println("Wrote " + n[0] + " audit events to " + file);
            }
            return 0;
        }

        private static Instant when(String value, ZoneId zone, String option) {
            if (value == null) {
                return null;
            }
            try {
                return value.length() == 10 ? LocalDate.parse(value).atStartOfDay(zone).toInstant() : Instant.parse(value);
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException(option + " takes a date (2026-11-01) or an instant"
                        + " (2026-11-01T09:00:00Z), not '" + value + "'");
            }
        }

        private static OutputStream nonClosing(OutputStream out) {
            return new java.io.FilterOutputStream(out) {
                @Override
                public void close() throws IOException {
                    flush();
                }
            };
        }
    }
}
