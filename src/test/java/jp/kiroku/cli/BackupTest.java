package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.KirokuApplication;
import jp.kiroku.ledger.Ledgers;
import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.ServerTest;

/**
 * Backups (issue 8): a backup of the running server restores into a new, empty data directory with every record
 * version and audit event identical (ledger roots and row hashes compared) and its ledgers verifying; writes after the
 * backup are named exactly by the damage report; a damaged segment is found by verify and refused by restore; an
 * incremental chain restores; a backup taken while eight clients write is consistent; write-once generations refuse a
 * non-root writer.
 */
@Tag("BACKUP-01")
@Tag("BACKUP-03")
@Tag("BACKUP-05")
@Tag("BACKUP-06")
class BackupTest extends ServerTest {

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    Ledgers ledgers;

    /**
     * The restored installation shares the keys directory (as after 'kiroku keys restore') and has an embedded database
     * of its own even when the tests run against an external one.
     */
    private String keys() {
        return "--kiroku.keys-dir=" + DATA_DIR.resolve("keys");
    }

    private static final String OWN_DB = "--kiroku.db.url=";

    @Test
    void aRestoreBringsBackEveryVersionAndEventAndNamesWhatWasWrittenAfterTheBackup(@TempDir Path tmp) throws Exception {
        try (Stream<Path> bundles = Files.list(Path.of("../shared/data/synthea"))) { // Synthea patients, whole records
            for (Path bundle : bundles.filter(p -> p.toString().endsWith(".json")).sorted().limit(3).toList()) {
                assertThat(admin.post("", Files.readString(bundle)).status()).as(bundle.toString()).isEqualTo(200);
            }
        }
        writePatients(5);
        Path target = Files.createTempDirectory(tmp, "kiroku-backups-");
        CliRun made = CliRun.kiroku(DATA_DIR, "backup", "create", "--to", target.toString());
        assertThat(made.code()).as(made.err()).isZero();
        assertThat(made.out()).contains("Backed up (full)").contains("MB/s");
        CliRun verified = CliRun.kiroku(DATA_DIR, "backup", "verify", "--to", target.toString());
        assertThat(verified.code()).as(verified.out() + verified.err()).isZero();
        assertThat(verified.out()).contains("Backup verified: OK");

        // written after the backup: the damage report must name exactly these
        List<String> after = writePatients(3);
        Path checkpoint = Files.createTempFile(tmp, "kiroku-checkpoint-", ".txt");
        assertThat(CliRun.kiroku(DATA_DIR, "checkpoint", "export", checkpoint.toString()).code()).isZero();

        Path restored = Files.createTempDirectory(tmp, "kiroku-restored-");
        CliRun r = CliRun.kiroku(restored, "restore", "--from", target.toString(), "--checkpoint", checkpoint.toString(),
                "--damaged-db-url", liveDatabaseUrl(), keys(), OWN_DB);
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("Ledgers verified: OK").contains("LOST").contains("proven exact by the checkpoint");
        Path json;
        try (Stream<Path> files = Files.list(restored)) {
            List<String> names = files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("damage-report-")).toList();
            assertThat(names).hasSize(3).anyMatch(n -> n.endsWith(".pdf")).anyMatch(n -> n.endsWith(".txt"));
            json = restored.resolve(names.stream().filter(n -> n.endsWith(".json")).findFirst().orElseThrow());
        }
        var report = tools.jackson.databind.json.JsonMapper.builder().build().readTree(Files.readAllBytes(json));
        List<String> lostVersions = new ArrayList<>();
        List<String> lostEvents = new ArrayList<>();
        for (var log : report.get("logs")) {
            assertThat(log.get("status").asString()).isEqualTo("lost");
            assertThat(log.get("entriesProven").asBoolean()).isTrue();
            for (var e : log.get("entries")) {
                (log.get("origin").asString().equals("kiroku/record") ? lostVersions : lostEvents).add(e.get("what").asString());
            }
        }
        assertThat(lostVersions).as("exactly the versions written after the backup").containsExactlyInAnyOrderElementsOf(after);
        for (String version : after) {
            assertThat(lostEvents).as("the audit event of each write after the backup").contains("create success " + version);
        }

        // with the damaged database gone for good, the checkpoint kept outside still says how much was lost
        Path second = Files.createTempDirectory(tmp, "kiroku-restored-");
        CliRun blind = CliRun.kiroku(second, "restore", "--from", target.toString(), "--checkpoint", checkpoint.toString(),
                keys(), OWN_DB);
        assertThat(blind.code()).as(blind.out() + blind.err()).isZero();
        assertThat(blind.out()).containsPattern("kiroku/record: \\d+ entries restored; " + after.size() + " entries LOST")
                .contains("not named: the damaged system was not readable");

        // identical: the restored ledgers are a prefix of the live ones, and the record rows hash the same
        long[] positions = positions(r);
        withRestored(restored, (rjdbc, rledgers) -> {
            samePrefix(rledgers, positions);
            long maxSeq = rjdbc.queryForObject("SELECT max(seq) FROM resource_version", Long.class);
            String rows = "SELECT md5(string_agg(res_type || res_id || version_id || encode(content_hash, 'hex')"
                    + " || coalesce(encode(body, 'base64'), '') || author_id, ',' ORDER BY seq)) FROM resource_version"
                    + " WHERE seq <= ? AND NOT (res_type || '/' || res_id || '/_history/' || version_id = ANY(?))";
            assertThat(rjdbc.queryForObject(rows, String.class, maxSeq, after.toArray(String[]::new)))
                    .isEqualTo(jdbc.queryForObject(rows, String.class, maxSeq, after.toArray(String[]::new)));
            assertThat(rjdbc.queryForObject("SELECT count(*) FROM resource_version WHERE res_type || '/' || res_id"
                    + " || '/_history/' || version_id = ANY(?)", Long.class, (Object) after.toArray(String[]::new))).isZero();
            return null;
        });

        // a restore into the data directory a server runs on is refused, and nothing is touched
        long versions = jdbc.queryForObject("SELECT count(*) FROM resource_version", Long.class);
        CliRun running = CliRun.kiroku(DATA_DIR, "restore", "--from", target.toString());
        assertThat(running.code()).isEqualTo(1);
        assertThat(running.err()).contains("a Kiroku server is running on this database");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM resource_version", Long.class)).isEqualTo(versions);

        // a second restore into the same (now full) data directory is refused
        CliRun again = CliRun.kiroku(restored, "restore", "--from", target.toString(), keys(), OWN_DB);
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("empty data directory");
    }

    @Test
    void aDamagedSegmentIsFoundByVerifyAndRefusedByRestore(@TempDir Path tmp) throws Exception {
        writePatients(2);
        Path target = Files.createTempDirectory(tmp, "kiroku-backups-");
        assertThat(CliRun.kiroku(DATA_DIR, "backup", "create", "--to", target.toString()).code()).isZero();
        Path generation;
        try (Stream<Path> s = Files.list(target)) {
            generation = s.findFirst().orElseThrow();
        }
        Path segment;
        try (Stream<Path> s = Files.list(generation)) {
            segment = s.filter(p -> p.getFileName().toString().startsWith("resource_version.")).findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(segment);
        bytes[bytes.length / 2] ^= 0x40;
        Files.write(segment, bytes);

        CliRun verified = CliRun.kiroku(DATA_DIR, "backup", "verify", generation.toString());
        assertThat(verified.code()).isEqualTo(1);
        assertThat(verified.out()).contains(generation.getFileName() + "/" + segment.getFileName() + " is damaged");
        Path restored = Files.createTempDirectory(tmp, "kiroku-restored-");
        CliRun r = CliRun.kiroku(restored, "restore", "--from", generation.toString(), keys(), OWN_DB);
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains(segment.getFileName() + " is damaged").contains("rolled back");
    }

    @Test
    void anIncrementalChainTakenWhileEightClientsWriteRestoresConsistently(@TempDir Path tmp) throws Exception {
        Path target = Files.createTempDirectory(tmp, "kiroku-backups-");
        List<String> early = writePatients(2);
        assertThat(CliRun.kiroku(DATA_DIR, "backup", "create", "--to", target.toString()).code()).isZero();
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicInteger written = new AtomicInteger();
        ExecutorService clients = Executors.newFixedThreadPool(8);
        for (int i = 0; i < 8; i++) {
            clients.submit(() -> {
                while (writing.get()) {
                    writePatients(1);
                    written.incrementAndGet();
                }
                return null;
            });
        }
        try {
            while (written.get() < 8) {
                Thread.sleep(20);
            }
            CliRun first = CliRun.kiroku(DATA_DIR, "backup", "create", "--incremental", "--to", target.toString());
            assertThat(first.code()).as(first.err()).isZero();
            assertThat(first.out()).contains("Backed up (incremental)");
            int before = written.get();
            while (written.get() < before + 8) {
                Thread.sleep(20);
            }
            CliRun second = CliRun.kiroku(DATA_DIR, "backup", "create", "--incremental", "--to", target.toString());
            assertThat(second.code()).as(second.err()).isZero();
        } finally {
            writing.set(false);
            clients.shutdown();
            clients.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
        }
        // another installation cannot continue this chain: its generation is full, and says why
        CliRun other = CliRun.kiroku(Files.createTempDirectory(tmp, "kiroku-other-"), "backup", "create", "--incremental",
                "--to", Files.createTempDirectory(tmp, "kiroku-other-backups-").toString(), OWN_DB);
        assertThat(other.out()).contains("Full backup, not incremental: no earlier generation");
        Path foreign = Files.createTempDirectory(tmp, "kiroku-other-");
        CliRun mixed = CliRun.kiroku(foreign, "backup", "create", "--incremental", "--to", target.toString(), OWN_DB);
        assertThat(mixed.code()).as(mixed.err()).isZero();
        assertThat(mixed.out()).contains("Full backup, not incremental").contains("is not a backup of this database's ledgers");
        deleteTree(generations(target).get(generations(target).size() - 1));

        CliRun list = CliRun.kiroku(DATA_DIR, "backup", "list", "--to", target.toString());
        assertThat(list.out().lines().filter(l -> l.contains("incremental")).count()).isEqualTo(2);

        Path restored = Files.createTempDirectory(tmp, "kiroku-restored-");
        CliRun r = CliRun.kiroku(restored, "restore", "--from", target.toString(), keys(), OWN_DB);
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("Restored 3 generation(s)").contains("Ledgers verified: OK");
        long[] positions = positions(r);
        withRestored(restored, (rjdbc, rledgers) -> {
            samePrefix(rledgers, positions);
            // every current pointer and index row belongs to a restored version, and every resource has its pointer
            assertThat(rjdbc.queryForObject("SELECT count(*) FROM resource_current c WHERE NOT EXISTS (SELECT 1 FROM"
                    + " resource_version v WHERE v.res_type = c.res_type AND v.res_id = c.res_id AND v.version_id ="
                    + " c.version_id)", Long.class)).isZero();
            assertThat(rjdbc.queryForObject("SELECT count(*) FROM (SELECT DISTINCT res_type, res_id FROM resource_version)"
                    + " v WHERE NOT EXISTS (SELECT 1 FROM resource_current c WHERE c.res_type = v.res_type AND c.res_id ="
                    + " v.res_id)", Long.class)).isZero();
            assertThat(rjdbc.queryForObject("SELECT count(*) FROM search_token t WHERE NOT EXISTS (SELECT 1 FROM"
                    + " resource_current c WHERE c.res_type = t.res_type AND c.res_id = t.res_id)", Long.class)).isZero();
            // the index rows of resources written before the backup are those of the live server
            String index = "SELECT md5(string_agg(res_type || res_id || param || coalesce(system, '') || code, ','"
                    + " ORDER BY res_type, res_id, param, system, code)) FROM search_token WHERE res_type || '/' || res_id"
                    + " || '/_history/1' = ANY(?)";
            assertThat(rjdbc.queryForObject(index, String.class, (Object) early.toArray(String[]::new))).isNotNull()
                    .isEqualTo(jdbc.queryForObject(index, String.class, (Object) early.toArray(String[]::new)));
            return null;
        });
    }

    @Test
    void aWriteOnceGenerationRefusesANonRootWriterAndAPlainOneDoesNot(@TempDir Path tmp) throws Exception {
        Path target = Files.createTempDirectory(tmp, "kiroku-worm-");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x")); // the writer gets through, as in /tmp
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThat(CliRun.kiroku(DATA_DIR, "backup", "create", "--to", target.resolve("worm").toString(), "--write-once")
                .code()).isZero();
        assertThat(CliRun.kiroku(DATA_DIR, "backup", "create", "--to", target.resolve("plain").toString()).code()).isZero();
        Path worm = single(target.resolve("worm"));
        Path plain = single(target.resolve("plain"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(worm))).isEqualTo("r-xr-xr-x");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(worm.resolve("manifest.json"))))
                .isEqualTo("r--r--r--");
        run("chown", "-R", "65534:65534", target.toString()); // the writer owns the files, as a service account would
        assertThat(asNobody("echo x >> " + worm.resolve("manifest.json"))).as("append to a write-once file").isNotZero();
        assertThat(asNobody("rm -f " + worm.resolve("manifest.sig"))).as("delete from a write-once generation").isNotZero();
        assertThat(Files.exists(worm.resolve("manifest.sig"))).isTrue();
        assertThat(asNobody("echo x >> " + plain.resolve("manifest.json"))).as("a plain generation is writable").isZero();
        CliRun verify = CliRun.kiroku(DATA_DIR, "backup", "verify", worm.toString());
        assertThat(verify.code()).as(verify.out()).isZero();
        CliRun tampered = CliRun.kiroku(DATA_DIR, "backup", "verify", plain.toString());
        assertThat(tampered.code()).isEqualTo(1);
        assertThat(tampered.out()).contains("manifest.json").contains("FINDINGS");
    }

    @Test
    @Tag("BACKUP-01")
    void aDrillRestoresTheNewestBackupIntoAScratchDatabaseAndReportsRtoAndRpo(@TempDir Path tmp) throws Exception {
        writePatients(1);
        Path target = Files.createTempDirectory(tmp, "kiroku-backups-");
        assertThat(CliRun.kiroku(DATA_DIR, "backup", "create", "--to", target.toString()).code()).isZero();
        CliRun drill = CliRun.kiroku(DATA_DIR, "backup", "drill", "--to", target.toString());
        assertThat(drill.code()).as(drill.out() + drill.err()).isZero();
        assertThat(drill.out()).containsPattern("restored and verified in [0-9.]+ s \\(RTO\\), data \\d+ s old \\(RPO\\)")
                .contains("Scratch copy removed: true");
        assertThat(jdbc.queryForObject("SELECT drill_detail FROM backup_run WHERE location LIKE ? ORDER BY finished_at DESC"
                + " LIMIT 1", String.class, target + "%")).contains("RTO");

        // the same drill on a damaged generation fails, and says so
        Path generation = single(target);
        try (Stream<Path> s = Files.list(generation)) {
            Path segment = s.filter(p -> p.getFileName().toString().startsWith("audit_log.")).findFirst().orElseThrow();
            byte[] bytes = Files.readAllBytes(segment);
            bytes[bytes.length - 1] ^= 1;
            Files.write(segment, bytes);
        }
        CliRun failed = CliRun.kiroku(DATA_DIR, "backup", "drill", "--to", target.toString());
        assertThat(failed.code()).isEqualTo(1);
        assertThat(failed.out()).contains("FAILED").contains("is damaged").contains("Scratch copy removed: true");
    }

    @Test
    @Tag("BACKUP-01")
    void theHealthEndpointSaysHowOldTheNewestVerifiedBackupIs(@TempDir Path tmp) throws Exception {
        Path target = Files.createTempDirectory(tmp, "kiroku-backups-");
        assertThat(CliRun.kiroku(DATA_DIR, "backup", "create", "--to", target.toString()).code()).isZero();
        assertThat(CliRun.kiroku(DATA_DIR, "backup", "verify", "--to", target.toString()).code()).isZero();
        assertThat(anonymous.get(anonymous.root() + "/actuator/health").body()).contains("\"backup\":{\"status\":\"UP\"}");
        // every backup made a day and more ago: stale
        jdbc.update("UPDATE backup_run SET finished_at = finished_at - interval '27 hours', verified_at = verified_at"
                + " - interval '27 hours'");
        assertThat(anonymous.get(anonymous.root() + "/actuator/health").body()).contains("\"backup\":{\"status\":\"STALE\"}");
        assertThat(CliRun.kiroku(DATA_DIR, "backup", "create", "--to", target.toString()).code()).isZero();
        assertThat(anonymous.get(anonymous.root() + "/actuator/health").body()).as("made, not yet verified")
                .contains("\"backup\":{\"status\":\"STALE\"}");
        assertThat(CliRun.kiroku(DATA_DIR, "backup", "verify", "--to", target.toString()).code()).isZero();
        assertThat(anonymous.get(anonymous.root() + "/actuator/health").body()).contains("\"backup\":{\"status\":\"UP\"}");
    }

    @Test
    @Tag("BACKUP-02")
    void retentionKeepsTheNewestTheNewestVerifiedTheWriteOnceAndWhatTheyContinue(@TempDir Path tmp) throws Exception {
        Path target = Files.createTempDirectory(tmp, "kiroku-backups-");
        String[] one = {"--kiroku.backup.keep-daily=1", "--kiroku.backup.keep-weekly=0", "--kiroku.backup.keep-monthly=0"};
        assertThat(CliRun.kiroku(DATA_DIR, "backup", "create", "--to", target.toString()).code()).isZero();
        Path verified = single(target);
        assertThat(CliRun.kiroku(DATA_DIR, "backup", "verify", verified.toString()).code()).isZero();
        Thread.sleep(1100); // generations are named by the second
        assertThat(CliRun.kiroku(DATA_DIR, "backup", "create", "--to", target.toString()).code()).isZero();
        Thread.sleep(1100);
        assertThat(CliRun.kiroku(DATA_DIR, "backup", "create", "--to", target.toString()).code()).isZero();
        Thread.sleep(1100);
        assertThat(CliRun.kiroku(DATA_DIR, "backup", "create", "--incremental", "--to", target.toString()).code()).isZero();
        List<Path> all = generations(target);
        assertThat(all).hasSize(4);

        // a generation left unfinished two days ago goes; one being written now stays
        Path stale = Files.createDirectories(target.resolve(".partial-20261201-000000-deadbeef"));
        Files.writeString(stale.resolve("resource_version.00000.seg"), "cut off");
        Files.setLastModifiedTime(stale, java.nio.file.attribute.FileTime.from(Instant.now().minusSeconds(2 * 86_400)));
        Path writing = Files.createDirectories(target.resolve(".partial-20261207-000000-cafebabe"));
        CliRun pruned = CliRun.kiroku(DATA_DIR, concat(new String[] {"backup", "prune", "--to", target.toString()}, one));
        assertThat(Files.exists(stale)).as(pruned.out()).isFalse();
        assertThat(Files.exists(writing)).isTrue();
        assertThat(pruned.out()).contains("removed  .partial-20261201-000000-deadbeef (unfinished)");
        assertThat(pruned.code()).as(pruned.err()).isZero();
        assertThat(generations(target)).as(pruned.out()).containsExactly(all.get(0), all.get(2), all.get(3));
        assertThat(pruned.out()).contains("the newest verified").contains("continued by").contains("removed  "
                + all.get(1).getFileName());

        // once the newest is verified, the older verified one goes too
        assertThat(CliRun.kiroku(DATA_DIR, "backup", "verify", all.get(3).toString()).code()).isZero();
        CliRun again = CliRun.kiroku(DATA_DIR, concat(new String[] {"backup", "prune", "--to", target.toString()}, one));
        assertThat(generations(target)).as(again.out()).containsExactly(all.get(2), all.get(3));
    }

    private static List<Path> generations(Path target) throws Exception {
        try (Stream<Path> s = Files.list(target)) {
            return s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        }
    }

    private static void deleteTree(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The ledger positions the restored backup held, as the restore reports them. */
    private static long[] positions(CliRun r) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("ledger positions at the backup: records (\\d+),"
                + " access (\\d+)").matcher(r.out());
        assertThat(m.find()).as(r.out()).isTrue();
        return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))};
    }

    /** Both restored ledgers, up to the backup's positions, have the live ledgers' roots: the same leaves in order. */
    private void samePrefix(Ledgers restored, long[] positions) {
        for (int log = 1; log <= 2; log++) {
            long size = positions[log - 1];
            assertThat(size).isPositive();
            assertThat(restored.rootAt(log, size).orElseThrow()).as("log " + log + " root at " + size)
                    .isEqualTo(ledgers.rootAt(log, size).orElseThrow());
        }
    }

    private static int asNobody(String shell) throws Exception {
        return new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", shell)
                .redirectErrorStream(true).start().waitFor();
    }

    private static void run(String... command) throws Exception {
        assertThat(new ProcessBuilder(command).inheritIO().start().waitFor()).isZero();
    }

    private static Path single(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> !p.getFileName().toString().startsWith(".")).findFirst().orElseThrow();
        }
    }

    /** Creates patients, each with an observation; returns Type/id/_history/version of every version written. */
    private List<String> writePatients(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Response p = admin.post("/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Backup\",\"given\":[\"T"
                    + i + "\"]}],\"birthDate\":\"1970-01-0" + (1 + i % 9) + "\"}");
            assertThat(p.status()).as(p.body()).isEqualTo(201);
            String patient = id(p);
            out.add("Patient/" + patient + "/_history/1");
            Response o = admin.post("/Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":"
                    + "{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8867-4\"}]},\"subject\":{\"reference\":"
                    + "\"Patient/" + patient + "\"},\"valueQuantity\":{\"value\":" + (60 + i) + ",\"unit\":\"/min\"}}");
            assertThat(o.status()).as(o.body()).isEqualTo(201);
            out.add("Observation/" + id(o) + "/_history/1");
        }
        return out;
    }

    private static String id(Response r) {
        String location = r.headers().firstValue("Location").orElseThrow();
        return location.replaceAll("^.*/fhir/[A-Za-z]+/([^/]+)/_history/.*$", "$1");
    }

    private static String liveDatabaseUrl() throws Exception {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(DATA_DIR.resolve("run/db.properties"))) {
            p.load(in);
        }
        return p.getProperty("url") + (p.getProperty("url").contains("?") ? "&" : "?") + "user=" + p.getProperty("user")
                + "&password=" + java.net.URLEncoder.encode(p.getProperty("password"), java.nio.charset.StandardCharsets.UTF_8);
    }

    private <T> T withRestored(Path dir, java.util.function.BiFunction<JdbcTemplate, Ledgers, T> work) {
        KirokuCli.application = KirokuApplication.class;
        KirokuCli.Common common = new KirokuCli.Common();
        common.dataDir = dir.toString();
        try (ConfigurableApplicationContext ctx = KirokuCli.adminContext(common, List.of(keys(), OWN_DB))) {
            return work.apply(ctx.getBean(JdbcTemplate.class), ctx.getBean(Ledgers.class));
        }
    }
}
