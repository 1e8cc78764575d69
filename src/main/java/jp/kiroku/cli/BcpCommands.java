package jp.kiroku.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

import org.apache.pdfbox.io.RandomAccessReadBuffer;
import org.apache.pdfbox.multipdf.PDFMergerUtility;
import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.incidents.DowntimeAudit;
import jp.kiroku.incidents.DowntimeAuditImport;
import jp.kiroku.incidents.DowntimeFile;
import jp.kiroku.incidents.EmergencySummaries;
import jp.kiroku.platform.SecretFiles;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kiroku bcp ...}: business continuity when the system is attacked or down (issue 10, BCP-02): emergency
 * summaries to print for paper-based care, the encrypted downtime export of the inpatients, its standalone viewer
 * (no database), and the import of the viewer's audit file. The modes themselves are {@code kiroku mode}.
 */
@Command(name = "bcp", mixinStandardHelpOptions = true,
        description = {"Business continuity: emergency summaries (PDF) for paper-based care, the encrypted downtime export",
                "of the inpatients and its standalone viewer, and the import of the viewer's audit file.",
                "Read-only and isolate modes: kiroku mode read-only|isolate."},
        subcommands = {BcpCommands.PatientSummary.class, BcpCommands.WardSummary.class, BcpCommands.DowntimeExport.class,
                BcpCommands.View.class, BcpCommands.ImportAudit.class})
final class BcpCommands extends CommandGroup {

    /** Shortest passphrase accepted for an export: it is all that protects the file once it leaves the system. */
    static final int MIN_PASSPHRASE = 12;
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmm").withZone(ZoneOffset.UTC);

    /**
     * Writes a file holding patient data: owner-only (0600), replaced atomically; on a standalone PC without POSIX
     * permissions (Windows) as the folder's permissions give it.
     */
    static void writePrivate(PrintWriter out, Path file, byte[] content, String what) throws IOException {
        Path dir = Files.createDirectories(file.toAbsolutePath().getParent());
        boolean posix = Files.getFileStore(dir).supportsFileAttributeView("posix");
        if (posix) {
            SecretFiles.write(file, content);
        } else {
            Files.write(file, content);
        }
        out.println("Wrote " + what + " to " + file + " (" + (posix ? "readable by you only; " : "")
                + "shred it when it is no longer needed).");
    }

    /**
     * The passphrase, from a file (its first line) or typed at the console ({@code confirm}: twice); never an argument,
     * which other users would see in the process list.
     */
    static char[] passphrase(Path file, boolean confirm) throws IOException {
        if (file != null) {
            try {
                return Files.readString(file, StandardCharsets.UTF_8).lines().findFirst().orElse("").toCharArray();
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException("no passphrase file " + file);
            }
        }
        java.io.Console console = System.console();
        if (console == null) {
            throw new IllegalArgumentException("no console to type the passphrase at: give it with --passphrase-file FILE");
        }
        char[] typed = console.readPassword("Passphrase: ");
        if (confirm && !Arrays.equals(typed, console.readPassword("Passphrase again: "))) {
            throw new IllegalArgumentException("the two passphrases differ");
        }
        return typed == null ? new char[0] : typed;
    }

    /** A summary command: prints with the summaries service and writes the PDF owner-only. */
    abstract static class PrintCommand extends AdminCommand {
        @Option(names = "--out", paramLabel = "FILE", description = "The PDF (default kiroku-<what>-<id>-<time>.pdf here).")
        Path pdf;

        abstract byte[] print(EmergencySummaries summaries, Agent agent);

        /** What the default file name says after "kiroku-". */
        abstract String name();

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws IOException {
            try {
                byte[] bytes = print(ctx.getBean(EmergencySummaries.class), Agent.localOperator());
                writePrivate(out, pdf != null ? pdf : Path.of("kiroku-" + name() + "-" + STAMP.format(java.time.Instant.now())
                        + ".pdf"), bytes, "the emergency summary PDF");
                return 0;
            } catch (IllegalArgumentException e) {
                return fail(e.getMessage());
            }
        }
    }

    @Command(name = "summary", mixinStandardHelpOptions = true,
            description = "One patient's emergency summary (allergies, active medications, problems, recent results) as a PDF.")
    static final class PatientSummary extends PrintCommand {
        @Option(names = "--patient", required = true, paramLabel = "ID", description = "The Patient's id.")
        String patient;

        @Override
        byte[] print(EmergencySummaries summaries, Agent agent) {
            return summaries.patient(patient, agent);
        }

        @Override
        String name() {
            return "summary-" + patient;
        }
    }

    @Command(name = "ward", mixinStandardHelpOptions = true,
            description = "The emergency summaries of a ward's current inpatients (one section per patient) as one PDF.")
    static final class WardSummary extends PrintCommand {
        @Option(names = "--ward", required = true, paramLabel = "LOCATION", description = "The ward's Location id.")
        String ward;

        @Override
        byte[] print(EmergencySummaries summaries, Agent agent) {
            return summaries.ward(ward, agent);
        }

        @Override
        String name() {
            return "ward-" + ward;
        }
    }

    @Command(name = "downtime-export", mixinStandardHelpOptions = true,
            description = {"The current inpatients' emergency summaries and records in one file encrypted under a passphrase",
                    "(Argon2id, AES-256-GCM), for reading with 'kiroku bcp view' on a standalone PC while the system is down."})
    static final class DowntimeExport extends AdminCommand {
        @Option(names = "--ward", paramLabel = "LOCATION", description = "Only this ward's inpatients (default: all).")
        String ward;
        @Option(names = "--out", required = true, paramLabel = "FILE")
        Path file;
        @Option(names = "--passphrase-file", paramLabel = "FILE",
                description = "Read the passphrase from this file's first line (default: type it, twice).")
        Path passphraseFile;

        @Override
        List<String> before() throws IOException {
            // ask before the database starts: a refusal then costs nothing
            secret = passphrase(passphraseFile, true);
            if (secret.length < MIN_PASSPHRASE) {
                throw new IllegalArgumentException("the passphrase is too short: at least " + MIN_PASSPHRASE + " characters");
            }
            return List.of();
        }

        private char[] secret;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws IOException {
            try {
                EmergencySummaries.Export e = ctx.getBean(EmergencySummaries.class).downtimeExport(ward, secret,
                        Agent.localOperator());
                writePrivate(out, file, e.file(), "the downtime export of " + e.patients() + " inpatient(s)");
                out.println("Read it on a standalone PC with: kiroku bcp view " + file.getFileName()
                        + " (views are logged to " + DowntimeAudit.of(file).getFileName() + "; import that file afterwards"
                        + " with kiroku bcp import-audit).");
                return 0;
            } catch (IllegalArgumentException e) {
                return fail(e.getMessage());
            } finally {
                Arrays.fill(secret, '\0');
            }
        }
    }

    @Command(name = "view", mixinStandardHelpOptions = true,
            description = {"Read a downtime export without the system (no database, no data directory): list its patients,",
                    "print one patient's summary, or write PDFs. Every use is appended to FILE.audit.jsonl (hash-chained)."})
    static final class View implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(paramLabel = "FILE", description = "The downtime export.")
        Path file;
        @Option(names = "--patient", paramLabel = "ID", description = "Print this patient's summary.")
        String patient;
        @Option(names = "--pdf", paramLabel = "OUT", description = "Write the summary (every patient's without --patient) as a PDF.")
        Path pdf;
        @Option(names = "--passphrase-file", paramLabel = "FILE", description = "Read the passphrase from this file's first line.")
        Path passphraseFile;

        /** Not an admin command: it must work on a PC without Kiroku's database, while the system is down. */
        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            try {
                DowntimeFile.Contents c;
                byte[] bytes;
                try {
                    bytes = Files.readAllBytes(file);
                } catch (NoSuchFileException e) {
                    throw new IllegalArgumentException("no file " + file);
                }
                char[] secret = passphrase(passphraseFile, false);
                try {
                    c = DowntimeFile.open(bytes, secret);
                } catch (IllegalArgumentException e) {
                    DowntimeAudit.append(file, "open-refused", null);
                    throw e;
                } finally {
                    Arrays.fill(secret, '\0');
                }
                List<DowntimeFile.Entry> chosen = c.patients();
                if (patient != null) {
                    chosen = c.patients().stream().filter(p -> p.id().equals(patient)).toList();
                    if (chosen.isEmpty()) {
                        throw new IllegalArgumentException("no patient " + patient + " in this export");
                    }
                }
                if (pdf != null) {
                    for (DowntimeFile.Entry p : chosen) {
                        DowntimeAudit.append(file, "pdf", p.id());
                    }
                    writePrivate(out, pdf, merged(chosen), "the emergency summaries of " + chosen.size() + " patient(s)");
                } else if (patient != null) {
                    DowntimeAudit.append(file, "view", patient);
                    out.print(chosen.get(0).text());
                } else {
                    DowntimeAudit.append(file, "list", null);
                    out.println("Downtime export of " + c.created() + " — " + c.scope() + ": " + c.patients().size()
                            + " patient(s)");
                    for (DowntimeFile.Entry p : c.patients()) {
                        out.printf("%-16s %s (%s)  %s  %s  %s%n", p.id(), p.name(), p.kana(), p.birthDate(), p.sex(), p.bed());
                    }
                }
                out.flush();
                return 0;
            } catch (IllegalArgumentException e) {
                spec.commandLine().getErr().println("kiroku: " + e.getMessage());
                return 1;
            }
        }

        private static byte[] merged(List<DowntimeFile.Entry> entries) throws IOException {
            if (entries.size() == 1) {
                return entries.get(0).pdf();
            }
            PDFMergerUtility merger = new PDFMergerUtility();
            for (DowntimeFile.Entry e : entries) {
                merger.addSource(new RandomAccessReadBuffer(e.pdf()));
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            merger.setDestinationStream(bytes);
            merger.mergeDocuments(null);
            return bytes.toByteArray();
        }
    }

    @Command(name = "import-audit", mixinStandardHelpOptions = true,
            description = {"Verify a downtime viewer's audit file (FILE.audit.jsonl) and record its views in the access log;",
                    "a broken chain is refused whole, a file already imported is refused, new lines of a grown file are added."})
    static final class ImportAudit extends AdminCommand {
        @Parameters(paramLabel = "AUDIT-FILE")
        Path auditFile;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws IOException {
            if (!Files.isRegularFile(auditFile)) {
                return fail("no file " + auditFile);
            }
            try {
                DowntimeAuditImport.Imported r = ctx.getBean(DowntimeAuditImport.class).importFile(auditFile,
                        Agent.localOperator());
                out.println("Verified " + r.lines() + " line(s) of " + auditFile.getFileName() + " (chain intact); recorded "
                        + r.recorded() + " view(s) in the access log.");
                return 0;
            } catch (IllegalArgumentException e) {
                return fail(e.getMessage());
            }
        }
    }
}
