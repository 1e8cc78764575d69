package jp.kiroku.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.backup.BackupChecks;
import jp.kiroku.backup.Backups;
import jp.kiroku.backup.Restores;
import jp.kiroku.platform.KirokuProperties;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kiroku backup create|verify|list} and {@code kiroku restore}: backups from the operator's shell. */
@Command(name = "backup", mixinStandardHelpOptions = true, description = "Backups of the database (keys: 'kiroku keys backup').",
        subcommands = {BackupCommands.Create.class, BackupCommands.Verify.class, BackupCommands.ListGenerations.class,
                BackupCommands.Prune.class, BackupCommands.Drill.class})
final class BackupCommands extends CommandGroup {

    static Path target(KirokuProperties props, Path to, PrintWriter err) {
        if (to != null) {
            return to;
        }
        if (props.getBackup().getTarget() == null) {
            err.println("kiroku: warning: backing up into " + props.backupTarget() + ", inside the data directory: such"
                    + " a backup does not survive the loss of its disk; set kiroku.backup.target or --to");
        }
        return props.backupTarget();
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Back up the database while it serves: a consistent snapshot, sealed and hashed segments and a",
                    "signed manifest with the ledgers' positions and checkpoints."})
    static final class Create extends AdminCommand {
        @Option(names = "--to", paramLabel = "DIR", description = "Target directory (default kiroku.backup.target).")
        Path to;
        @Option(names = "--incremental", description = "Only what changed after the newest generation in the target.")
        boolean incremental;
        @Option(names = "--write-once", description = "Make the generation read-only; Kiroku never rewrites or deletes it.")
        Boolean writeOnce;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws IOException {
            KirokuProperties props = ctx.getBean(KirokuProperties.class);
            Path target = target(props, to, spec.commandLine().getErr());
            long estimate = ctx.getBean(org.springframework.jdbc.core.JdbcTemplate.class).queryForObject(
                    "SELECT coalesce(sum(pg_relation_size(oid)), 0) FROM pg_class WHERE relkind = 'r'"
                            + " AND relnamespace = current_schema()::regnamespace", Long.class);
            Progress progress = new Progress(spec.commandLine().getErr(), "backing up (bytes)", estimate);
            Backups.Created c = ctx.getBean(Backups.class).create(target, incremental,
                    writeOnce != null ? writeOnce : props.getBackup().isWriteOnce(), Agent.localOperator(), progress::advance);
            progress.done();
            var m = c.manifest();
            double seconds = Math.max(c.took().toMillis() / 1000.0, 0.001);
            if (c.fullBecause() != null) {
                out.println("Full backup, not incremental: " + c.fullBecause());
            }
            out.printf("Backed up (%s) to %s%n  %,d record versions, %,d audit events; ledger positions: records %,d,"
                            + " access %,d%n  %,d bytes copied, %,d bytes stored in %.1f s (%.1f MB/s, %,.0f versions/s)%n",
                    m.kind().name().toLowerCase(java.util.Locale.ROOT), c.generation(), m.totals().versions(),
                    m.totals().auditEvents(), m.position(), m.head(2).size(), m.totals().plainBytes(),
                    m.totals().storedBytes(), seconds, m.totals().plainBytes() / 1e6 / seconds,
                    m.totals().versions() / seconds);
            return 0;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"Check a generation without restoring it: manifest signature, every segment's hash and seal,",
                    "and its ledgers against the signed checkpoints. Exit status 1 on any finding."})
    static final class Verify extends AdminCommand {
        @Parameters(arity = "0..1", paramLabel = "GENERATION", description = "A generation directory (default: the newest"
                + " in the target).")
        Path generation;
        @Option(names = "--to", paramLabel = "DIR", description = "Target directory (default kiroku.backup.target).")
        Path to;
        @Option(names = "--checkpoint", paramLabel = "FILE", description = "Signed checkpoints kept outside; repeatable.")
        List<Path> checkpoints = new ArrayList<>();

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws IOException {
            Path g = generation != null ? generation
                    : Restores.choose(target(ctx.getBean(KirokuProperties.class), to, spec.commandLine().getErr()), null, null);
            long total;
            try {
                total = Restores.plainBytes(g);
            } catch (IllegalArgumentException e) { // an unreadable manifest: verification says so below
                total = 1;
            }
            Progress progress = new Progress(spec.commandLine().getErr(), "verifying (bytes)", total);
            BackupChecks.Check c = ctx.getBean(BackupChecks.class).verify(g, external(checkpoints), Agent.localOperator(),
                    progress::advance);
            progress.done();
            out.printf("%s: %d generation(s), %,d segments, %,d bytes checked%n", g, c.generations(), c.segments(), c.bytes());
            c.findings().forEach(f -> out.println("  " + f));
            out.println(c.ok() ? "Backup verified: OK" : "Backup verified: FINDINGS (see above)");
            return c.ok() ? 0 : 1;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "The generations in the target, oldest first.")
    static final class ListGenerations extends AdminCommand {
        @Option(names = "--to", paramLabel = "DIR", description = "Target directory (default kiroku.backup.target).")
        Path to;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws IOException {
            Path target = target(ctx.getBean(KirokuProperties.class), to, spec.commandLine().getErr());
            for (Backups.Generation g : ctx.getBean(Backups.class).generations(target)) {
                out.printf("%s  %-11s  records %,d  access %,d  %,d bytes  %s%s%n", g.name(), g.kind(), g.position(),
                        g.auditPosition(), g.storedBytes(), g.verified() == null ? "not verified" : g.verified(),
                        g.writeOnce() ? "  write-once" : "");
            }
            return 0;
        }
    }

    @Command(name = "prune", mixinStandardHelpOptions = true,
            description = {"Apply the retention of generations (kiroku.backup.keep-daily, keep-weekly, keep-monthly): the",
                    "newest, the newest verified, write-once ones and what kept ones continue always stay."})
    static final class Prune extends AdminCommand {
        @Option(names = "--to", paramLabel = "DIR", description = "Target directory (default kiroku.backup.target).")
        Path to;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws IOException {
            Path target = target(ctx.getBean(KirokuProperties.class), to, spec.commandLine().getErr());
            Backups.Pruned p = ctx.getBean(Backups.class).prune(target, Agent.localOperator());
            p.kept().forEach((g, why) -> out.println("kept     " + g + "  (" + why + ")"));
            p.removed().forEach(g -> out.println("removed  " + g));
            return 0;
        }
    }

    @Command(name = "drill", mixinStandardHelpOptions = true,
            description = {"Restore drill: restore the newest backup into a scratch database, verify it, report the time to",
                    "restore (RTO) and the age of its data (RPO), and remove the scratch copy. Exit status 1 if it fails."})
    static final class Drill extends AdminCommand {
        @Option(names = "--to", paramLabel = "DIR", description = "Target directory (default kiroku.backup.target).")
        Path to;

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws IOException {
            KirokuProperties props = ctx.getBean(KirokuProperties.class);
            Path generation = Restores.choose(target(props, to, spec.commandLine().getErr()), null, null);
            Path scratch = Files.createTempDirectory("kiroku-drill-");
            Instant started = Instant.now();
            KirokuCli.Common c = new KirokuCli.Common();
            c.dataDir = scratch.toString();
            List<String> scratchSettings = new ArrayList<>(settings);
            scratchSettings.add("--kiroku.keys-dir=" + props.getKeysDir().toAbsolutePath());
            scratchSettings.add("--kiroku.db.url="); // the scratch copy is always an embedded database of its own
            scratchSettings.add("--spring.flyway.target=" + Restores.schemaVersion(generation));
            Restores.Restored r = null;
            String failure = null;
            Progress progress = new Progress(spec.commandLine().getErr(), "restoring (bytes)", Restores.plainBytes(generation));
            try (ConfigurableApplicationContext drill = KirokuCli.adminContext(c, scratchSettings)) {
                r = drill.getBean(Restores.class).restore(generation, List.of(), null, Agent.localOperator(),
                        progress::advance);
            } catch (RuntimeException e) {
                failure = KirokuCli.rootMessage(e);
            } finally {
                progress.done();
                deleteTree(scratch);
            }
            java.time.Duration rto = java.time.Duration.between(started, Instant.now());
            String id = jp.kiroku.backup.Restores.generationId(generation);
            boolean ok = r != null && r.verification().ok();
            java.time.Duration rpo = r == null ? null : java.time.Duration.between(r.manifest().started(), started);
            String detail = ok ? String.format("generation %s: restored and verified in %.1f s (RTO), data %d s old (RPO),"
                            + " %,d record versions", generation.getFileName(), rto.toMillis() / 1000.0, rpo.toSeconds(),
                    r.rows().getOrDefault("resource_version", 0L))
                    : "generation " + generation.getFileName() + ": FAILED: " + (failure != null ? failure
                    : "the restored ledgers do not verify: " + r.verification().summary());
            ctx.getBean(Backups.class).recordDrill(id, detail, ok, Agent.localOperator());
            out.println("Restore drill: " + detail);
            out.println("Scratch copy removed: " + !Files.exists(scratch));
            return ok ? 0 : 1;
        }

        private static void deleteTree(Path dir) throws IOException {
            if (Files.exists(dir)) {
                try (var walk = Files.walk(dir)) {
                    for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }

    static List<String> external(List<Path> files) throws IOException {
        List<String> notes = new ArrayList<>();
        for (Path p : files) {
            notes.addAll(LedgerCommands.notes(Files.readString(p, StandardCharsets.UTF_8)));
        }
        return notes;
    }

    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = {"Restore a backup into an empty data directory or database (offline), verify the ledgers and",
                    "report what was lost since the backup. Restore the keys first ('kiroku keys restore')."})
    static final class Restore extends AdminCommand {
        @Option(names = "--from", required = true, paramLabel = "DIR",
                description = "A generation, or a target directory (its newest generation).")
        Path from;
        @Option(names = "--to-position", paramLabel = "N", description = "The newest generation at or before records ledger position N.")
        Long toPosition;
        @Option(names = "--to-time", paramLabel = "T", description = "The newest generation taken at or before T (ISO-8601).")
        Instant toTime;
        @Option(names = "--checkpoint", paramLabel = "FILE",
                description = "Signed checkpoints kept outside ('kiroku checkpoint export'), for the damage report; repeatable.")
        List<Path> checkpoints = new ArrayList<>();
        @Option(names = "--damaged-db-url", paramLabel = "JDBC-URL",
                description = "The damaged system's database, if it can still be read (user and password in the URL).")
        String damagedDbUrl;
        @Option(names = "--report", paramLabel = "DIR", description = "Where to write the damage report (text, JSON, PDF;"
                + " default: the data directory).")
        Path report;

        private Path generation;

        @Override
        List<String> before() throws IOException {
            generation = Restores.choose(from, toPosition, toTime);
            try (ConfigurableApplicationContext s = KirokuCli.settingsContext(common, settings)) {
                KirokuProperties props = s.getBean(KirokuProperties.class);
                if (!Files.exists(props.getKeysDir().resolve("master-key.p12"))) {
                    throw new IllegalStateException("there is no master key store in " + props.getKeysDir()
                            + ": restore the key backup first (kiroku keys restore), so that the backup can be opened");
                }
            }
            return List.of("--spring.flyway.target=" + Restores.schemaVersion(generation));
        }

        @Override
        int run(ConfigurableApplicationContext ctx, PrintWriter out) throws IOException {
            KirokuProperties props = ctx.getBean(KirokuProperties.class);
            Progress progress = new Progress(spec.commandLine().getErr(), "restoring (bytes)", Restores.plainBytes(generation));
            Restores.Restored r = ctx.getBean(Restores.class).restore(generation, external(checkpoints), damagedDbUrl,
                    Agent.localOperator(), progress::advance);
            progress.done();
            out.printf("Restored %d generation(s) up to %s in %.1f s (loaded in %.1f s, ledgers verified in %.1f s)%n"
                    + "  ledger positions at the backup: records %d, access %d%n", r.chain().size(), generation,
                    r.took().toMillis() / 1000.0, r.loading().toMillis() / 1000.0, r.verifying().toMillis() / 1000.0,
                    r.manifest().position(), r.manifest().head(2).size());
            r.rows().forEach((t, n) -> out.printf("  %-28s %,12d rows%n", t, n));
            if (!r.keysDestroyedAgain().isEmpty()) {
                out.println("Destroyed again " + r.keysDestroyedAgain().size() + " data key(s) that disposals destroyed after"
                        + " the backup.");
            }
            out.print(LedgerCommands.report(r.verification()));
            out.print(r.damage().text());
            Path dir = report != null ? report : props.getDataDir();
            Files.createDirectories(dir);
            String base = "damage-report-" + java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                    .withZone(java.time.ZoneOffset.UTC).format(Instant.now());
            Files.writeString(dir.resolve(base + ".txt"), r.damage().text(), StandardCharsets.UTF_8);
            Files.write(dir.resolve(base + ".json"), r.damage().json());
            Files.write(dir.resolve(base + ".pdf"), r.damage().pdf());
            out.println("Damage report written to " + dir.resolve(base + ".{txt,json,pdf}"));
            return r.verification().ok() ? 0 : 1;
        }
    }
}
