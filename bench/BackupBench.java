import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * Backup and restore throughput of Kiroku against pg_dump/pg_restore (Debian's PostgreSQL 15 tools) on the same
 * database (issue 8, "Performance"). Starts {@code java -jar JAR serve} on a data directory that holds data (e.g. kept
 * by bench/run-ingest.sh --keep-data), then, while it serves: kiroku backup create, kiroku backup verify, pg_dump -Fc,
 * kiroku restore into a new data directory, pg_restore into a new database of the same cluster; prints MB/s and
 * resources/s for each. Everything it made is removed at the end; the data directory is left as it was (its schema
 * may be migrated by the jar).
 *
 *   java bench/BackupBench.java --data-dir DIR [--jar target/kiroku.jar] [--port 18090] [--work /tmp]
 *
 * See bench/README.md ("Backup benchmark").
 */
public class BackupBench {

    public static void main(String[] args) throws Exception {
        Path data = null;
        Path jar = Path.of("target/kiroku.jar");
        int port = 18090;
        Path work = Path.of(System.getProperty("java.io.tmpdir"));
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--data-dir" -> data = Path.of(args[++i]).toAbsolutePath();
                case "--jar" -> jar = Path.of(args[++i]).toAbsolutePath();
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--work" -> work = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: java bench/BackupBench.java --data-dir DIR [--jar JAR] [--port N] [--work DIR]");
                    System.exit(2);
                }
            }
        }
        if (data == null || !Files.isDirectory(data)) {
            System.err.println("--data-dir: a Kiroku data directory with data is needed");
            System.exit(2);
        }
        Path out = Files.createTempDirectory(work, "kiroku-backup-bench-");
        Process server = new ProcessBuilder("java", "-Xmx1g", "-jar", jar.toString(), "serve", "--data-dir", data.toString(),
                "--port", String.valueOf(port)).redirectErrorStream(true).redirectOutput(out.resolve("server.log").toFile())
                .start();
        try {
            waitForHealth(port, server);
            Properties db = new Properties();
            try (InputStream in = Files.newInputStream(data.resolve("run/db.properties"))) {
                db.load(in);
            }
            Properties secret = new Properties();
            try (InputStream in = Files.newInputStream(data.resolve("postgres.secret"))) {
                secret.load(in);
            }
            URI url = URI.create(db.getProperty("url").substring("jdbc:".length()));
            String host = url.getHost();
            String pgPort = String.valueOf(url.getPort());
            String dbName = url.getPath().substring(1);
            Map<String, String> owner = Map.of("PGPASSWORD", db.getProperty("owner.password"));
            Map<String, String> superuser = Map.of("PGPASSWORD", secret.getProperty("superuser"));
            String ownerUser = db.getProperty("owner.user");
            long dbBytes = Long.parseLong(psql(owner, host, pgPort, ownerUser, dbName, "SELECT pg_database_size(current_database())"));
            long versions = Long.parseLong(psql(owner, host, pgPort, ownerUser, dbName, "SELECT count(*) FROM resource_version"));
            long events = Long.parseLong(psql(owner, host, pgPort, ownerUser, dbName, "SELECT count(*) FROM audit_log"));
            long resources = Long.parseLong(psql(owner, host, pgPort, ownerUser, dbName,
                    "SELECT count(*) FROM resource_current WHERE NOT deleted"));
            System.out.printf("database %,d bytes; %,d current resources, %,d record versions, %,d audit events%n", dbBytes,
                    resources, versions, events);

            List<String[]> rows = new ArrayList<>();
            Path backups = out.resolve("backups");
            double create = time(Map.of(), "java", "-Xmx2g", "-jar", jar.toString(), "backup", "create", "--data-dir",
                    data.toString(), "--to", backups.toString());
            long backupBytes = size(backups);
            rows.add(row("kiroku backup create", create, dbBytes, versions, backupBytes));
            double verify = time(Map.of(), "java", "-Xmx2g", "-jar", jar.toString(), "backup", "verify", "--data-dir",
                    data.toString(), "--to", backups.toString());
            rows.add(row("kiroku backup verify", verify, dbBytes, versions, backupBytes));
            Path dump = out.resolve("dump.pgc");
            double pgDump = time(owner, "pg_dump", "-Fc", "-h", host, "-p", pgPort, "-U", ownerUser, "-d", dbName, "-f",
                    dump.toString());
            rows.add(row("pg_dump -Fc", pgDump, dbBytes, versions, Files.size(dump)));

            double restore = time(Map.of(), "java", "-Xmx2g", "-jar", jar.toString(), "restore", "--from", backups.toString(),
                    "--data-dir", out.resolve("restored").toString(), "--kiroku.keys-dir=" + data.resolve("keys"));
            rows.add(row("kiroku restore (+ verify)", restore, dbBytes, versions, backupBytes));
            String scratch = "kiroku_bench_pgrestore";
            time(superuser, "psql", "-h", host, "-p", pgPort, "-U", "postgres", "-d", "postgres", "-c",
                    "CREATE DATABASE " + scratch);
            double pgRestore = time(superuser, "pg_restore", "-h", host, "-p", pgPort, "-U", "postgres", "-d", scratch,
                    "--no-owner", dump.toString());
            rows.add(row("pg_restore", pgRestore, dbBytes, versions, Files.size(dump)));
            time(superuser, "psql", "-h", host, "-p", pgPort, "-U", "postgres", "-d", "postgres", "-c",
                    "DROP DATABASE " + scratch);

            System.out.printf("%n| step | seconds | MB/s (database size) | record versions/s | output bytes |%n|---|---|---|---|---|%n");
            for (String[] r : rows) {
                System.out.println("| " + String.join(" | ", r) + " |");
            }
            System.out.printf("%nkiroku backup create / pg_dump -Fc = %.2f; kiroku restore / pg_restore = %.2f%n",
                    create / pgDump, restore / pgRestore);
        } finally {
            server.destroy();
            server.waitFor();
            deleteTree(out.resolve("restored"));
            deleteTree(out.resolve("backups"));
            Files.deleteIfExists(out.resolve("dump.pgc"));
            System.out.println("server log and leftovers: " + out);
        }
    }

    private static String[] row(String step, double seconds, long dbBytes, long versions, long outBytes) {
        return new String[] {step, String.format("%.1f", seconds), String.format("%.1f", dbBytes / 1e6 / seconds),
                String.format("%,.0f", versions / seconds), String.format("%,d", outBytes)};
    }

    private static double time(Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        long start = System.nanoTime();
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes());
        int code = p.waitFor();
        double seconds = (System.nanoTime() - start) / 1e9;
        if (code != 0) {
            throw new IllegalStateException(String.join(" ", command[0], command.length > 1 ? command[1] : "") + " failed ("
                    + code + "):\n" + output);
        }
        String last = output.lines().filter(l -> l.startsWith("Backed up") || l.startsWith("Restored")
                || l.startsWith("Backup verified")).findFirst().orElse("");
        System.out.printf("%-14s %6.1f s  %s%n", command[0].equals("java") ? command[4] + " " + command[5] : command[0],
                seconds, last);
        return seconds;
    }

    private static String psql(Map<String, String> env, String host, String port, String user, String db, String sql)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("psql", "-h", host, "-p", port, "-U", user, "-d", db, "-tAc", sql);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("psql failed: " + new String(p.getErrorStream().readAllBytes()));
        }
        return out;
    }

    private static void waitForHealth(int port, Process server) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        for (int i = 0; i < 600; i++) {
            if (!server.isAlive()) {
                throw new IllegalStateException("the server exited; see its log");
            }
            try {
                if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("the server did not start in 5 minutes");
    }

    private static long size(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
