/*
 * Kiroku ingest benchmark (single-file Java 17 program, JDK only; the PostgreSQL JDBC driver is needed only for the
 * raw JDBC reference).
 *
 *   java -cp postgresql-42.7.14.jar bench/IngestBench.java --help
 *
 * See bench/README.md for what it measures and how to read the output.
 */

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

public class IngestBench {

    static final String USAGE = String.join("\n",
            "usage: java -cp <postgresql.jar> bench/IngestBench.java [options]",
            "",
            "Posts fresh copies of the Synthea transaction bundles to a Kiroku server and, as a reference, stores the",
            "same resources with raw JDBC batch inserts.",
            "",
            "  --base URL             server base URL (default http://127.0.0.1:8080)",
            "  --data DIR             directory of Synthea transaction bundles (default ../shared/data/synthea/)",
            "  --patients N           patients (= bundles) per phase (default 150)",
            "  --clients LIST         concurrent clients per phase, comma separated (default 1,8)",
            "  --warmup N             bundles posted/inserted before timing, not counted (default 10)",
            "  --client-id ID         OAuth2 client id (default: env KIROKU_BENCH_CLIENT_ID)",
            "  --client-secret S      OAuth2 client secret (default: env KIROKU_BENCH_CLIENT_SECRET)",
            "  --no-auth              no token request and no Authorization header (a server without authentication,",
            "                         e.g. HAPI FHIR JPA through bench/run-hapi.sh)",
            "  --phase-name NAME      name of the HTTP phases in the output (default kiroku-http)",
            "  --jdbc | --no-jdbc     force / skip the raw JDBC reference (default: run it when a connection is",
            "                         configured and reachable)",
            "  --jdbc-url URL         JDBC URL (default: 'url' in <data-dir>/run/db.properties)",
            "  --jdbc-user USER       JDBC user (default: 'user' in <data-dir>/run/db.properties)",
            "  --jdbc-password PW     JDBC password (default: 'password' in <data-dir>/run/db.properties)",
            "  --data-dir DIR         Kiroku data directory, for run/db.properties (default ./kiroku-data)",
            "  --no-http              skip the server phases (e.g. to run only the JDBC reference)",
            "  --dry-run              build and verify all payloads, print counts, exit (no network, no database)",
            "  --seed N               seed for the fresh identities (default: random; printed)",
            "  --timeout SECONDS      per-request HTTP timeout (default 600)",
            "  -h, --help             this message");

    public static void main(String[] args) {
        Options o;
        try {
            o = Options.parse(args);
        } catch (UsageException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println();
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        if (o.help) {
            System.out.println(USAGE);
            return;
        }
        int rc;
        try {
            rc = new IngestBench(o).run();
        } catch (Fatal e) {
            System.err.println("error: " + e.getMessage());
            rc = 1;
        } catch (InterruptedException e) {
            System.err.println("error: interrupted");
            rc = 1;
        }
        System.out.flush();
        System.exit(rc);
    }

    // ------------------------------------------------------------------------------------------------ options

    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;
        UsageException(String m) { super(m); }
    }

    /** A plain, expected failure: printed as "error: message", no stack trace. */
    static final class Fatal extends RuntimeException {
        private static final long serialVersionUID = 1L;
        Fatal(String m) { super(m); }
        Fatal(String m, Throwable cause) { super(m, cause); }
    }

    enum JdbcMode { AUTO, ON, OFF }

    static final class Options {
        String base = "http://127.0.0.1:8080";
        Path data = Paths.get("../shared/data/synthea/");
        int patients = 150;
        int[] clients = {1, 8};
        int warmup = 10;
        String clientId = System.getenv("KIROKU_BENCH_CLIENT_ID");
        String clientSecret = System.getenv("KIROKU_BENCH_CLIENT_SECRET");
        JdbcMode jdbc = JdbcMode.AUTO;
        String jdbcUrl, jdbcUser, jdbcPassword;
        Path dataDir = Paths.get("./kiroku-data");
        boolean http = true;
        boolean dryRun;
        boolean help;
        Long seed;
        int timeoutSeconds = 600;
        boolean noAuth;
        String phaseName = "kiroku-http";

        static Options parse(String[] args) throws UsageException {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                String name = a, inline = null;
                if (a.startsWith("--") && a.indexOf('=') > 0) {
                    name = a.substring(0, a.indexOf('='));
                    inline = a.substring(a.indexOf('=') + 1);
                }
                switch (name) {
                    case "-h", "--help" -> o.help = true;
                    case "--jdbc" -> { noValue(name, inline); o.jdbc = JdbcMode.ON; }
                    case "--no-jdbc" -> { noValue(name, inline); o.jdbc = JdbcMode.OFF; }
                    case "--no-http" -> { noValue(name, inline); o.http = false; }
                    case "--dry-run" -> { noValue(name, inline); o.dryRun = true; }
                    case "--no-auth" -> { noValue(name, inline); o.noAuth = true; }
                    case "--base", "--data", "--patients", "--clients", "--warmup", "--client-id", "--client-secret",
                         "--jdbc-url", "--jdbc-user", "--jdbc-password", "--data-dir", "--seed", "--timeout",
                         "--phase-name" -> {
                        String v = inline;
                        if (v == null) {
                            if (i + 1 >= args.length) throw new UsageException(name + " needs a value");
                            v = args[++i];
                        }
                        o.set(name, v);
                    }
                    default -> throw new UsageException("unknown option: " + a);
                }
            }
            if (o.jdbc == JdbcMode.OFF && !o.http && !o.dryRun) {
                throw new UsageException("--no-http together with --no-jdbc leaves nothing to run");
            }
            if (o.http && !o.dryRun && !o.help && !o.noAuth) {
                if (o.clientId == null || o.clientId.isEmpty() || o.clientSecret == null || o.clientSecret.isEmpty()) {
                    throw new UsageException("client credentials missing: give --client-id and --client-secret, or set "
                            + "KIROKU_BENCH_CLIENT_ID and KIROKU_BENCH_CLIENT_SECRET");
                }
            }
            return o;
        }

        private static void noValue(String name, String inline) throws UsageException {
            if (inline != null) throw new UsageException(name + " takes no value");
        }

        private void set(String name, String v) throws UsageException {
            switch (name) {
                case "--base" -> {
                    URI u;
                    try {
                        u = new URI(v);
                    } catch (Exception e) {
                        throw new UsageException("--base: not a URL: " + v);
                    }
                    if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
                        throw new UsageException("--base: expected http(s)://host[:port], got " + v);
                    }
                    base = v.replaceAll("/+$", "");
                }
                case "--data" -> data = Paths.get(v);
                case "--patients" -> patients = positive(name, v, 1);
                case "--warmup" -> warmup = positive(name, v, 0);
                case "--timeout" -> timeoutSeconds = positive(name, v, 1);
                case "--clients" -> {
                    String[] parts = v.split(",");
                    int[] c = new int[parts.length];
                    for (int k = 0; k < parts.length; k++) c[k] = positive(name, parts[k].trim(), 1);
                    if (c.length == 0) throw new UsageException("--clients: empty list");
                    clients = c;
                }
                case "--client-id" -> clientId = v;
                case "--client-secret" -> clientSecret = v;
                case "--jdbc-url" -> {
                    if (!v.startsWith("jdbc:postgresql:")) throw new UsageException("--jdbc-url: expected jdbc:postgresql:..., got " + v);
                    jdbcUrl = v;
                }
                case "--jdbc-user" -> jdbcUser = v;
                case "--jdbc-password" -> jdbcPassword = v;
                case "--data-dir" -> dataDir = Paths.get(v);
                case "--phase-name" -> {
                    if (!v.matches("[A-Za-z0-9._-]{1,11}")) {
                        throw new UsageException("--phase-name: 1-11 letters, digits, '.', '_' or '-', got '" + v + "'");
                    }
                    phaseName = v;
                }
                case "--seed" -> {
                    try {
                        seed = Long.parseLong(v);
                    } catch (NumberFormatException e) {
                        throw new UsageException("--seed: not an integer: " + v);
                    }
                }
                default -> throw new UsageException("unknown option: " + name);
            }
        }

        private static int positive(String name, String v, int min) throws UsageException {
            int n;
            try {
                n = Integer.parseInt(v.trim());
            } catch (NumberFormatException e) {
                throw new UsageException(name + ": not an integer: '" + v + "'");
            }
            if (n < min) throw new UsageException(name + ": must be >= " + min + ", got " + n);
            return n;
        }
    }

    // ------------------------------------------------------------------------------------------------ run

    final Options o;
    final long seed;
    List<Template> templates;

    IngestBench(Options o) {
        this.o = o;
        this.seed = o.seed != null ? o.seed : new SecureRandom().nextLong();
    }

    int run() throws InterruptedException {
        templates = Template.loadAll(o.data);
        long templateResources = templates.stream().mapToLong(t -> t.entryCount).sum();

        printEnvironment(templateResources);

        if (o.dryRun) return dryRun();

        List<Result> results = new ArrayList<>();
        boolean errors = false;

        JdbcConfig jdbc = resolveJdbc();   // fail fast on --jdbc with a bad config, before the long HTTP part
        if (!o.http && jdbc == null) throw new Fatal("--no-http given and the raw JDBC reference is not available: nothing to run");

        if (o.http) {
            HttpBench hb = new HttpBench(o);
            if (o.noAuth) {
                System.out.println("auth: none (--no-auth)");
            } else {
                hb.tokens.get();   // fails fast with a plain message on bad credentials / unreachable server
                System.out.println("token: ok (expires_in " + hb.tokens.expiresIn + " s)");
            }
            if (o.warmup > 0) {
                List<Payload> w = buildPayloads(warmupRange());
                System.out.printf(Locale.ROOT, "%nwarm-up: %d bundles, %d resources (not counted)%n", w.size(), resources(w));
                Result r = hb.run("warmup", w, 1);
                if (r.errors > 0) {
                    r.printErrors();
                    System.out.println("\nFAILED: the warm-up had errors; not starting the timed phases.");
                    return 1;
                }
            }
            for (int p = 0; p < o.clients.length; p++) {
                int c = o.clients[p];
                List<Payload> payloads = buildPayloads(phaseRange(p));
                Result r = hb.run(o.phaseName, payloads, c);
                payloads = null;
                results.add(r);
                r.print();
                errors |= r.errors > 0;
            }
            if (!o.noAuth) {
                System.out.println("token fetches: " + hb.tokens.fetches.get() + ", 401 retries: " + hb.retries401.get());
            }
        }

        if (jdbc != null) {
            try {
                List<Result> jr = new JdbcBench(jdbc).runAll();
                for (Result r : jr) errors |= r.errors > 0;
                results.addAll(jr);
            } catch (Fatal e) {   // keep the server results: print them, then fail
                System.out.println("\nerror: " + e.getMessage());
                errors = true;
            }
        }

        printSummary(results);
        if (errors) {
            System.out.println("\nFAILED: there were errors (see above); the numbers are not valid.");
            return 1;
        }
        return 0;
    }

    /** Copy indices [from, to) and the template index of the k-th copy: warm-up copies come first, then each phase. */
    record Range(int firstCopy, int count) {}

    Range warmupRange() { return new Range(0, o.warmup); }

    Range phaseRange(int phase) { return new Range(o.warmup + phase * o.patients, o.patients); }

    Template templateFor(Range r, int k) { return templates.get(k % templates.size()); }

    List<Payload> buildPayloads(Range r) {
        long t0 = System.nanoTime();
        Payload[] out = new Payload[r.count()];
        IntStream.range(0, r.count()).parallel().forEach(k -> {
            Template t = templateFor(r, k);
            Copy c = new Copy(t, r.firstCopy() + k, seed);
            out[k] = new Payload(t.name + "#" + c.copyNo, c.render(0, t.text.length()).getBytes(StandardCharsets.UTF_8),
                    t.entryCount);
        });
        List<Payload> list = Arrays.asList(out);
        long bytes = list.stream().mapToLong(p -> p.body.length).sum();
        System.out.printf(Locale.ROOT, "%nbuilt %d bundles (%d resources, %.1f MB) in %.2f s%n", list.size(),
                resources(list), bytes / 1e6, (System.nanoTime() - t0) / 1e9);
        return list;
    }

    static long resources(List<Payload> l) { return l.stream().mapToLong(p -> p.resources).sum(); }

    List<RowBundle> buildRows(Range r) {
        long t0 = System.nanoTime();
        RowBundle[] out = new RowBundle[r.count()];
        IntStream.range(0, r.count()).parallel().forEach(k -> {
            Template t = templateFor(r, k);
            Copy c = new Copy(t, r.firstCopy() + k, seed);
            out[k] = c.rows();
        });
        List<RowBundle> list = Arrays.asList(out);
        long rows = list.stream().mapToLong(b -> b.rows.length).sum();
        long bytes = list.stream().flatMap(b -> Arrays.stream(b.rows)).mapToLong(x -> x.body.length).sum();
        System.out.printf(Locale.ROOT, "%nbuilt %d row bundles (%d rows, %.1f MB of minified JSON) in %.2f s%n",
                list.size(), rows, bytes / 1e6, (System.nanoTime() - t0) / 1e9);
        return list;
    }

    // ------------------------------------------------------------------------------------------------ environment

    void printEnvironment(long templateResources) {
        System.out.println("Kiroku ingest benchmark");
        System.out.println("  date (UTC) : " + DateTimeFormatter.ISO_INSTANT.format(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)));
        System.out.println("  commit     : " + gitRevision());
        System.out.println("  nproc      : " + nproc());
        System.out.println("  memory     : " + memTotal());
        String cpu = cpuModel();
        if (cpu != null) System.out.println("  cpu        : " + cpu);
        System.out.println("  bench JVM  : " + System.getProperty("java.version") + ", max heap "
                + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB");
        System.out.println("  data       : " + o.data + " (" + templates.size() + " bundles, " + templateResources
                + " resources)");
        System.out.println("  patients   : " + o.patients + " per phase, clients " + Arrays.toString(o.clients)
                + ", warm-up " + o.warmup + " bundles");
        System.out.println("  server     : " + (o.http ? o.base + (o.noAuth ? " (no auth)" : "") : "(skipped: --no-http)"));
        System.out.println("  seed       : " + seed);
    }

    static String run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(false).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroy();
                return null;
            }
            return p.exitValue() == 0 ? new String(out, StandardCharsets.UTF_8).trim() : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    static String gitRevision() {
        String rev = run("git", "rev-parse", "--short", "HEAD");
        if (rev == null || rev.isEmpty()) return "unknown (no git revision in the working directory)";
        String status = run("git", "status", "--porcelain", "--untracked-files=no");
        return rev + (status != null && !status.isEmpty() ? " (with uncommitted changes)" : "");
    }

    static String nproc() {
        String n = run("nproc");
        return n != null ? n : Runtime.getRuntime().availableProcessors() + " (JVM availableProcessors)";
    }

    static String memTotal() {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    return String.format(Locale.ROOT, "%.1f GiB (MemTotal %d kB)", kb / 1048576.0, kb);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall through
        }
        return "unknown";
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (IOException e) {
            // fall through
        }
        return null;
    }

    // ------------------------------------------------------------------------------------------------ results

    static final class Result {
        final String phase;
        final int clients;
        final int bundles;
        final long resources;
        final long wallNanos;
        final long[] latencies;   // per bundle, nanoseconds
        final int errors;
        final List<String> firstErrors;

        Result(String phase, int clients, int bundles, long resources, long wallNanos, long[] latencies, int errors,
               List<String> firstErrors) {
            this.phase = phase;
            this.clients = clients;
            this.bundles = bundles;
            this.resources = resources;
            this.wallNanos = wallNanos;
            this.latencies = latencies.clone();
            Arrays.sort(this.latencies);
            this.errors = errors;
            this.firstErrors = firstErrors;
        }

        double wallSeconds() { return wallNanos / 1e9; }
        double resourcesPerSecond() { return resources / wallSeconds(); }
        double bundlesPerSecond() { return bundles / wallSeconds(); }

        /** Nearest-rank percentile of the per-bundle latency, in ms. */
        double percentileMs(double p) {
            if (latencies.length == 0) return Double.NaN;
            int rank = (int) Math.ceil(p / 100.0 * latencies.length);
            return latencies[Math.max(0, Math.min(latencies.length - 1, rank - 1))] / 1e6;
        }

        void print() {
            System.out.printf(Locale.ROOT,
                    "%s, %d client%s: %d bundles, %d resources in %.2f s -> %.0f resources/s, %.2f bundles/s; "
                            + "latency per bundle p50 %.1f ms, p95 %.1f ms, p99 %.1f ms; errors %d%n",
                    phase, clients, clients == 1 ? "" : "s", bundles, resources, wallSeconds(), resourcesPerSecond(),
                    bundlesPerSecond(), percentileMs(50), percentileMs(95), percentileMs(99), errors);
            printErrors();
        }

        void printErrors() {
            if (errors == 0) return;
            System.out.println("  " + errors + " error(s); first " + firstErrors.size() + ":");
            for (String e : firstErrors) System.out.println("    " + e);
        }

        String row() {
            return String.format(Locale.ROOT, "| %-11s | %7d | %7d | %9d | %8.2f | %11.0f | %9.2f | %8.1f | %8.1f | %8.1f | %6d |",
                    phase, clients, bundles, resources, wallSeconds(), resourcesPerSecond(), bundlesPerSecond(),
                    percentileMs(50), percentileMs(95), percentileMs(99), errors);
        }
    }

    static final class ErrorLog {
        static final int KEEP = 5;
        final AtomicInteger count = new AtomicInteger();
        final List<String> first = Collections.synchronizedList(new ArrayList<>());

        void add(String what) {
            count.incrementAndGet();
            synchronized (first) {
                if (first.size() < KEEP) first.add(what);
            }
        }
    }

    void printSummary(List<Result> results) {
        if (results.isEmpty()) return;
        System.out.println("\n## Summary\n");
        System.out.println("| phase       | clients | bundles | resources |   wall s | resources/s | bundles/s |  p50 ms |  p95 ms |  p99 ms | errors |");
        System.out.println("|-------------|--------:|--------:|----------:|---------:|------------:|----------:|--------:|--------:|--------:|-------:|");
        for (Result r : results) System.out.println(r.row());
        Map<Integer, Result> raw = new HashMap<>();
        for (Result r : results) if (r.phase.equals("jdbc-raw")) raw.put(r.clients, r);
        boolean header = false;
        for (Result r : results) {
            Result ref = raw.get(r.clients);
            if (!r.phase.equals(o.phaseName) || ref == null) continue;
            if (!header) {
                System.out.println("\nKiroku throughput relative to the raw JDBC floor (same rows, same concurrency):");
                header = true;
            }
            System.out.printf(Locale.ROOT, "  %d client%s: %.1f%% of raw resources/s (%.1fx slower); p50 latency %.1fx%n",
                    r.clients, r.clients == 1 ? " " : "s", 100.0 * r.resourcesPerSecond() / ref.resourcesPerSecond(),
                    ref.resourcesPerSecond() / r.resourcesPerSecond(), r.percentileMs(50) / ref.percentileMs(50));
        }
    }

    // ------------------------------------------------------------------------------------------------ HTTP

    record Payload(String name, byte[] body, int resources) {}

    static final class HttpBench {
        final Options o;
        final HttpClient client;
        final URI fhir;
        final Tokens tokens;
        final AtomicLong retries401 = new AtomicLong();

        HttpBench(Options o) {
            this.o = o;
            this.client = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10))
                    .build();
            this.fhir = URI.create(o.base + "/fhir");
            this.tokens = o.noAuth ? null : new Tokens(client, URI.create(o.base + "/oauth2/token"), o.clientId, o.clientSecret);
        }

        Result run(String phase, List<Payload> payloads, int clients) throws InterruptedException {
            int n = payloads.size();
            long[] lat = new long[n];
            ErrorLog errors = new ErrorLog();
            AtomicInteger next = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            List<Future<?>> fs = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                fs.add(pool.submit(() -> {
                    go.await();
                    for (int i; (i = next.getAndIncrement()) < n; ) {
                        Payload p = payloads.get(i);
                        long t0 = System.nanoTime();
                        String err = post(p);
                        lat[i] = System.nanoTime() - t0;
                        if (err != null) errors.add(p.name() + ": " + err);
                    }
                    return null;
                }));
            }
            long start = System.nanoTime();
            go.countDown();
            for (Future<?> f : fs) await(f);
            long wall = System.nanoTime() - start;
            pool.shutdown();
            return new Result(phase, clients, n, resources(payloads), wall, lat, errors.count.get(), errors.first);
        }

        /** Posts one bundle; null when 2xx, else a description of the failure. */
        String post(Payload p) throws InterruptedException {
            String token = null;
            if (!o.noAuth) {
                try {
                    token = tokens.get();
                } catch (Fatal e) {
                    return "token: " + e.getMessage();
                }
            }
            for (int attempt = 0; ; attempt++) {
                HttpRequest.Builder b = HttpRequest.newBuilder(fhir)
                        .timeout(Duration.ofSeconds(o.timeoutSeconds))
                        .header("Content-Type", "application/fhir+json")
                        .header("Accept", "application/fhir+json");
                if (token != null) b.header("Authorization", "Bearer " + token);
                HttpRequest req = b.POST(HttpRequest.BodyPublishers.ofByteArray(p.body())).build();
                HttpResponse<byte[]> resp;
                try {
                    resp = client.send(req, HttpResponse.BodyHandlers.ofByteArray());
                } catch (IOException e) {
                    return "I/O error: " + describe(e);
                }
                int s = resp.statusCode();
                if (s >= 200 && s < 300) return null;
                if (s == 401 && attempt == 0 && !o.noAuth) {
                    retries401.incrementAndGet();
                    try {
                        token = tokens.refreshAfter401(token);
                    } catch (Fatal e) {
                        return "HTTP 401, then token refresh failed: " + e.getMessage();
                    }
                    continue;
                }
                return "HTTP " + s + (attempt > 0 ? " (after a token refresh)" : "") + ": " + snippet(resp.body());
            }
        }
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        if (e instanceof ConnectException && (m == null || m.isEmpty())) m = "connection refused";
        return e.getClass().getSimpleName() + (m == null || m.isEmpty() ? "" : " " + m);
    }

    static String snippet(byte[] body) {
        String s = new String(body, StandardCharsets.UTF_8).replaceAll("\\s+", " ").trim();
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    static void await(Future<?> f) throws InterruptedException {
        try {
            f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof InterruptedException ie) throw ie;
            if (c instanceof RuntimeException re) throw re;
            throw new RuntimeException(c);
        }
    }

    /** OAuth2 client-credentials tokens: refreshed within 60 s of expiry, or once after a 401. */
    static final class Tokens {
        final HttpClient client;
        final URI endpoint;
        final String basic;
        final AtomicLong fetches = new AtomicLong();
        String token;
        long refreshAt;   // System.nanoTime()
        long expiresIn;

        Tokens(HttpClient client, URI endpoint, String id, String secret) {
            this.client = client;
            this.endpoint = endpoint;
            // RFC 6749 2.3.1: client id and secret are form-urlencoded before Basic encoding
            String cred = URLEncoder.encode(id, StandardCharsets.UTF_8) + ":" + URLEncoder.encode(secret, StandardCharsets.UTF_8);
            this.basic = "Basic " + Base64.getEncoder().encodeToString(cred.getBytes(StandardCharsets.UTF_8));
        }

        synchronized String get() throws InterruptedException {
            if (token == null || System.nanoTime() - refreshAt >= 0) fetch();
            return token;
        }

        /** After a 401 with {@code failed}: fetch a new token unless another thread already has. */
        synchronized String refreshAfter401(String failed) throws InterruptedException {
            if (failed.equals(token)) fetch();
            return token;
        }

        private void fetch() throws InterruptedException {
            String form = "grant_type=client_credentials&scope=" + URLEncoder.encode("system/*.*", StandardCharsets.UTF_8);
            HttpRequest req = HttpRequest.newBuilder(endpoint)
                    .timeout(Duration.ofSeconds(60))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header("Accept", "application/json")
                    .header("Authorization", basic)
                    .POST(HttpRequest.BodyPublishers.ofString(form))
                    .build();
            HttpResponse<byte[]> resp;
            try {
                resp = client.send(req, HttpResponse.BodyHandlers.ofByteArray());
            } catch (IOException e) {
                throw new Fatal("token request to " + endpoint + " failed: " + describe(e));
            }
            if (resp.statusCode() != 200) {
                throw new Fatal("token request to " + endpoint + " returned HTTP " + resp.statusCode() + ": "
                        + snippet(resp.body()));
            }
            Json.Node n;
            try {
                n = Json.parse(new String(resp.body(), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new Fatal("token response is not JSON: " + snippet(resp.body()));
            }
            Json.Node at = n.get("access_token");
            if (at == null || at.kind != Json.STRING || at.str.isEmpty()) {
                throw new Fatal("token response has no access_token: " + snippet(resp.body()));
            }
            Json.Node exp = n.get("expires_in");
            long e = 300;
            if (exp != null) {
                try {
                    e = exp.kind == Json.STRING ? Long.parseLong(exp.str) : (long) Double.parseDouble(exp.raw);
                } catch (NumberFormatException ignored) {
                    // keep the default
                }
            }
            long now = System.nanoTime();
            token = at.str;
            expiresIn = e;
            // refresh when within 60 s of expiry (lifetimes of 60 s or less: at half-life)
            long refreshAfter = e > 60 ? e - 60 : Math.max(1, e / 2);
            refreshAt = now + TimeUnit.SECONDS.toNanos(refreshAfter);
            fetches.incrementAndGet();
        }
    }

    // ------------------------------------------------------------------------------------------------ JDBC reference

    record JdbcConfig(String url, String user, String password, String source) {}

    JdbcConfig resolveJdbc() {
        if (o.jdbc == JdbcMode.OFF) {
            System.out.println("\nraw JDBC reference: off (--no-jdbc)");
            return null;
        }
        boolean forced = o.jdbc == JdbcMode.ON;
        String url = o.jdbcUrl, user = o.jdbcUser, password = o.jdbcPassword;
        String source = "flags";
        Path file = o.dataDir.resolve("run").resolve("db.properties");
        if (url == null || user == null || password == null) {
            if (Files.isReadable(file)) {
                Properties p = new Properties();
                try (InputStream in = Files.newInputStream(file)) {
                    p.load(in);
                } catch (IOException e) {
                    return jdbcUnavailable(forced, "cannot read " + file + ": " + e.getMessage());
                }
                if (url == null) url = p.getProperty("url");
                if (user == null) user = p.getProperty("user");
                if (password == null) password = p.getProperty("password");
                source = o.jdbcUrl == null ? file.toString() : "flags + " + file;
            }
        }
        if (url == null) {
            return jdbcUnavailable(forced, "no connection configured (no --jdbc-url and no readable " + file + ")");
        }
        try {
            Class.forName("org.postgresql.Driver");
        } catch (ClassNotFoundException e) {
            return jdbcUnavailable(forced, "PostgreSQL JDBC driver not on the class path (java -cp postgresql-42.7.14.jar ...)");
        }
        JdbcConfig cfg = new JdbcConfig(url, user, password, source);
        String settings;
        try (Connection c = JdbcBench.connect(cfg); Statement st = c.createStatement();
             var rs = st.executeQuery("SELECT current_schema(), coalesce(has_schema_privilege(current_schema(), 'CREATE'), false), "
                     + "current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit'), "
                     + "current_setting('shared_buffers')")) {
            rs.next();
            if (!rs.getBoolean(2)) {
                return jdbcUnavailable(forced, "user " + user + " may not create the scratch table in schema "
                        + rs.getString(1) + " of " + redact(url));
            }
            settings = "PostgreSQL " + rs.getString(3) + ", fsync=" + rs.getString(4) + ", synchronous_commit="
                    + rs.getString(5) + ", shared_buffers=" + rs.getString(6);
        } catch (SQLException e) {
            return jdbcUnavailable(forced, "cannot connect to " + redact(url) + ": " + e.getMessage());
        }
        System.out.println("\nraw JDBC reference: " + redact(url) + " as " + user + " (from " + source + "); " + settings);
        return cfg;
    }

    static JdbcConfig jdbcUnavailable(boolean forced, String why) {
        if (forced) throw new Fatal("--jdbc: " + why);
        System.out.println("\nraw JDBC reference: skipped, " + why);
        return null;
    }

    static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^&]*", "$1***");
    }

    record Row(String type, String id, byte[] body, byte[] hash) {}

    record RowBundle(String name, Row[] rows) {}

    final class JdbcBench {
        static final String TABLE = "bench_raw_version";
        final JdbcConfig cfg;

        JdbcBench(JdbcConfig cfg) { this.cfg = cfg; }

        static Connection connect(JdbcConfig cfg) throws SQLException {
            Properties p = new Properties();
            if (cfg.user() != null) p.setProperty("user", cfg.user());
            if (cfg.password() != null) p.setProperty("password", cfg.password());
            p.setProperty("reWriteBatchedInserts", "true");
            p.setProperty("ApplicationName", "kiroku-ingest-bench");
            return DriverManager.getConnection(cfg.url(), p);
        }

        List<Result> runAll() throws InterruptedException {
            List<Result> results = new ArrayList<>();
            try (Connection admin = connect(cfg); Statement st = admin.createStatement()) {
                st.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (res_type text, res_id text, version_id int, "
                        + "last_updated timestamptz, body bytea, content_hash bytea, primary key(res_type,res_id,version_id))");
                st.execute("TRUNCATE " + TABLE);
                try {
                    if (o.warmup > 0) {
                        List<RowBundle> w = buildRows(warmupRange());
                        System.out.printf(Locale.ROOT, "jdbc warm-up: %d bundles (not counted)%n", w.size());
                        Result r = run("warmup", w, 1);
                        r.printErrors();
                        if (r.errors > 0) results.add(r);
                    }
                    for (int p = 0; p < o.clients.length; p++) {
                        List<RowBundle> rows = buildRows(phaseRange(p));
                        Result r = run("jdbc-raw", rows, o.clients[p]);
                        rows = null;
                        results.add(r);
                        r.print();
                    }
                    try (var rs = st.executeQuery("SELECT count(*), pg_total_relation_size('" + TABLE + "') FROM " + TABLE)) {
                        rs.next();
                        System.out.printf(Locale.ROOT, "%s: %d rows, %.1f MB on disk (table + TOAST + index)%n",
                                TABLE, rs.getLong(1), rs.getLong(2) / 1e6);
                    }
                } finally {
                    st.execute("DROP TABLE IF EXISTS " + TABLE);
                }
            } catch (SQLException e) {
                throw new Fatal("raw JDBC reference failed: " + e.getMessage(), e);
            }
            return results;
        }

        Result run(String phase, List<RowBundle> bundles, int writers) throws InterruptedException, SQLException {
            int n = bundles.size();
            long[] lat = new long[n];
            ErrorLog errors = new ErrorLog();
            AtomicInteger next = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            List<Connection> conns = new ArrayList<>();
            ExecutorService pool = Executors.newFixedThreadPool(writers);
            try {
                for (int w = 0; w < writers; w++) {   // connections are opened before the clock starts
                    Connection c = connect(cfg);
                    c.setAutoCommit(false);
                    conns.add(c);
                }
                List<Future<?>> fs = new ArrayList<>();
                for (Connection c : conns) {
                    fs.add(pool.submit(() -> {
                        go.await();
                        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + TABLE
                                + " (res_type, res_id, version_id, last_updated, body, content_hash) VALUES (?, ?, ?, ?, ?, ?)")) {
                            for (int i; (i = next.getAndIncrement()) < n; ) {
                                RowBundle b = bundles.get(i);
                                long t0 = System.nanoTime();
                                try {
                                    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
                                    for (Row r : b.rows()) {
                                        ps.setString(1, r.type());
                                        ps.setString(2, r.id());
                                        ps.setInt(3, 1);
                                        ps.setObject(4, now);
                                        ps.setBytes(5, r.body());
                                        ps.setBytes(6, r.hash());
                                        ps.addBatch();
                                    }
                                    ps.executeBatch();
                                    c.commit();
                                } catch (SQLException e) {
                                    ps.clearBatch();
                                    try {
                                        c.rollback();
                                    } catch (SQLException ignored) {
                                        // reported below
                                    }
                                    SQLException root = e.getNextException() != null ? e.getNextException() : e;
                                    errors.add(b.name() + ": " + root.getMessage());
                                }
                                lat[i] = System.nanoTime() - t0;
                            }
                        }
                        return null;
                    }));
                }
                long start = System.nanoTime();
                go.countDown();
                for (Future<?> f : fs) await(f);
                long wall = System.nanoTime() - start;
                long rows = bundles.stream().mapToLong(b -> b.rows().length).sum();
                return new Result(phase, writers, n, rows, wall, lat, errors.count.get(), errors.first);
            } finally {
                pool.shutdownNow();
                for (Connection c : conns) {
                    try {
                        c.close();
                    } catch (SQLException ignored) {
                        // best effort
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ dry run

    int dryRun() {
        System.out.println("\ndry run: building and verifying every payload (no network, no database)");
        Set<String> allUuids = ConcurrentHashMap.newKeySet();
        Set<String> allIdentifiers = ConcurrentHashMap.newKeySet();
        AtomicLong references = new AtomicLong();
        List<String> problems = Collections.synchronizedList(new ArrayList<>());
        List<Range> ranges = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        ranges.add(warmupRange());
        labels.add("warm-up");
        for (int p = 0; p < o.clients.length; p++) {
            ranges.add(phaseRange(p));
            labels.add("phase " + (p + 1) + " (" + o.clients[p] + " client" + (o.clients[p] == 1 ? "" : "s") + ")");
        }
        long totalBundles = 0, totalResources = 0;
        for (int i = 0; i < ranges.size(); i++) {
            Range r = ranges.get(i);
            if (r.count() == 0) continue;
            List<Payload> payloads = buildPayloads(r);
            List<RowBundle> rows = buildRows(r);
            long t0 = System.nanoTime();
            IntStream.range(0, r.count()).parallel().forEach(k -> {
                Template t = templateFor(r, k);
                Copy c = new Copy(t, r.firstCopy() + k, seed);
                String err = Verify.copy(t, c, payloads.get(k), rows.get(k), allUuids, allIdentifiers, references);
                if (err != null) problems.add(payloads.get(k).name() + ": " + err);
            });
            long res = resources(payloads);
            long rowCount = rows.stream().mapToLong(b -> b.rows().length).sum();
            long bytes = payloads.stream().mapToLong(p -> p.body().length).sum();
            System.out.printf(Locale.ROOT, "%-22s bundles %5d  resources %7d  jdbc rows %7d  payload %.1f MB  (verified in %.2f s)%n",
                    labels.get(i), r.count(), res, rowCount, bytes / 1e6, (System.nanoTime() - t0) / 1e9);
            totalBundles += r.count();
            totalResources += res;
        }
        System.out.printf(Locale.ROOT, "%ntotal: %d bundles, %d resources, %d distinct urn:uuid ids, %d distinct "
                        + "patient identifier values, %d urn:uuid references checked%n",
                totalBundles, totalResources, allUuids.size(), allIdentifiers.size(), references.get());
        if (!problems.isEmpty()) {
            System.out.println("\nFAILED: " + problems.size() + " problem(s), first ones:");
            problems.stream().limit(10).forEach(p -> System.out.println("  " + p));
            return 1;
        }
        System.out.println("verification: ok (valid JSON, references resolve within each copy, no identity reused)");
        return 0;
    }

    /** Independent checks of a built copy, by re-parsing its bytes. */
    static final class Verify {
        static String copy(Template t, Copy c, Payload p, RowBundle rb, Set<String> allUuids, Set<String> allIdentifiers,
                           AtomicLong references) {
            String text = new String(p.body(), StandardCharsets.UTF_8);
            Json.Node root;
            try {
                root = Json.parse(text);
            } catch (IllegalArgumentException e) {
                return "not valid JSON: " + e.getMessage();
            }
            if (!"Bundle".equals(str(root.get("resourceType"))) || !"transaction".equals(str(root.get("type")))) {
                return "not a transaction Bundle";
            }
            Json.Node entries = root.get("entry");
            if (entries == null || entries.items.size() != t.entryCount || p.resources() != t.entryCount) {
                return "entry count differs from the template";
            }
            Set<String> fullUrls = new HashSet<>();
            for (Json.Node e : entries.items) {
                String fu = str(e.get("fullUrl"));
                if (fu == null || !fu.startsWith("urn:uuid:") || !Template.isUuid(fu, 9) || fu.length() != 45) {
                    return "bad fullUrl " + fu;
                }
                String u = fu.substring(9);
                if (!fullUrls.add(u)) return "duplicate fullUrl " + fu;
                if (t.originalUuids.contains(u)) return "fullUrl not rewritten: " + fu;
                if (!allUuids.add(u)) return "fullUrl reused from another copy: " + fu;
                Json.Node res = e.get("resource");
                String id = str(res.get("id"));
                if (id != null && !id.equals(u)) return "resource.id " + id + " does not match fullUrl " + fu;
                if (!"POST".equals(str(e.get("request").get("method")))) return "request.method is not POST";
            }
            // every urn:uuid: reference resolves inside this copy
            List<String> refs = new ArrayList<>();
            collectReferences(root, refs);
            for (String ref : refs) {
                if (ref.startsWith("urn:uuid:")) {
                    references.incrementAndGet();
                    if (!fullUrls.contains(ref.substring(9))) return "dangling reference " + ref;
                }
            }
            // no UUID of the template survives anywhere in the text
            for (int i = 0; i + 36 <= text.length(); i++) {
                if (Template.isUuidAt(text, i) && t.originalUuids.contains(text.substring(i, i + 36).toLowerCase(Locale.ROOT))) {
                    return "template UUID left in copy: " + text.substring(i, i + 36);
                }
            }
            // patient identity is fresh
            String suffix = Integer.toString(c.copyNo);
            for (Json.Node e : entries.items) {
                Json.Node res = e.get("resource");
                if (!"Patient".equals(str(res.get("resourceType")))) continue;
                Json.Node names = res.get("name");
                if (names != null) {
                    for (Json.Node nm : names.items) {
                        String fam = str(nm.get("family"));
                        if (fam != null && !fam.endsWith(suffix)) return "family name not freshened: " + fam;
                        Json.Node given = nm.get("given");
                        if (given != null) for (Json.Node g : given.items) {
                            if (!g.str.endsWith(suffix)) return "given name not freshened: " + g.str;
                        }
                    }
                }
                Json.Node ids = res.get("identifier");
                if (ids != null) {
                    for (Json.Node idn : ids.items) {
                        String v = str(idn.get("value"));
                        if (v == null) continue;
                        if (t.originalIdentifierValues.contains(v)) return "identifier value not replaced: " + v;
                        if (!allIdentifiers.add(v)) return "identifier value reused: " + v;
                    }
                }
            }
            // JDBC rows: one per entry, same type/id, body is that resource as (minified) JSON, hash matches
            if (rb.rows().length != t.entryCount) return "jdbc row count differs";
            for (int i = 0; i < rb.rows().length; i++) {
                Row r = rb.rows()[i];
                Json.Node res = entries.items.get(i).get("resource");
                Json.Node body;
                try {
                    body = Json.parse(new String(r.body(), StandardCharsets.UTF_8));
                } catch (IllegalArgumentException e) {
                    return "jdbc row body is not JSON: " + e.getMessage();
                }
                if (!r.type().equals(str(res.get("resourceType"))) || !r.type().equals(str(body.get("resourceType")))) {
                    return "jdbc row type mismatch";
                }
                if (!r.id().equals(entries.items.get(i).get("fullUrl").str.substring(9))) return "jdbc row id mismatch";
                if (!Arrays.equals(r.hash(), sha256(r.body()))) return "jdbc row hash mismatch";
                if (!Json.minify(text.substring(res.start, res.end)).equals(new String(r.body(), StandardCharsets.UTF_8))) {
                    return "jdbc row body differs from the bundle's resource";
                }
            }
            return null;
        }

        static void collectReferences(Json.Node n, List<String> out) {
            if (n.kind == Json.OBJECT) {
                for (int i = 0; i < n.keys.size(); i++) {
                    Json.Node v = n.items.get(i);
                    if (n.keys.get(i).equals("reference") && v.kind == Json.STRING) out.add(v.str);
                    else collectReferences(v, out);
                }
            } else if (n.kind == Json.ARRAY) {
                for (Json.Node v : n.items) collectReferences(v, out);
            }
        }

        static String str(Json.Node n) {
            return n != null && n.kind == Json.STRING ? n.str : null;
        }
    }

    // ------------------------------------------------------------------------------------------------ data set

    static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * One source bundle, prepared for cheap copying: a list of text edits (positions in the original text) that
     * give each copy fresh UUIDs, fresh patient names and fresh patient identifier values.
     */
    static final class Template {
        static final int UUID = 0;     // replace [start,end) with the copy's UUID for slot arg
        static final int SUFFIX = 1;   // insert the copy number at start (= end), inside a name string
        static final int IDENT = 2;    // replace [start,end) (a string's contents) with fresh identifier value arg

        record Edit(int start, int end, int kind, int arg) {}

        final String name;
        final String text;
        final Edit[] edits;
        final int uuidSlots;
        final int identSlots;
        final int entryCount;
        final String[] resType;    // per entry
        final int[] resStart, resEnd;   // span of each entry's resource object in text
        final int[] resIdSlot;     // UUID slot of each entry's fullUrl
        final Set<String> originalUuids;
        final Set<String> originalIdentifierValues = new HashSet<>();

        static List<Template> loadAll(Path dir) {
            if (!Files.isDirectory(dir)) throw new Fatal("data directory not found: " + dir.toAbsolutePath().normalize());
            List<Path> files;
            try (var s = Files.list(dir)) {
                files = s.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().collect(Collectors.toList());
            } catch (IOException e) {
                throw new Fatal("cannot list " + dir + ": " + e.getMessage());
            }
            if (files.isEmpty()) throw new Fatal("no *.json bundles in " + dir.toAbsolutePath().normalize());
            List<Template> out = new ArrayList<>();
            for (Path f : files) {
                try {
                    out.add(new Template(f.getFileName().toString().replaceAll("\\.json$", ""),
                            Files.readString(f, StandardCharsets.UTF_8)));
                } catch (IOException e) {
                    throw new Fatal("cannot read " + f + ": " + e.getMessage());
                } catch (IllegalArgumentException e) {
                    throw new Fatal(f + ": " + e.getMessage());
                }
            }
            return out;
        }

        Template(String name, String text) {
            this.name = name;
            this.text = text;
            Json.Node root = Json.parse(text);
            if (root.kind != Json.OBJECT || !"Bundle".equals(Verify.str(root.get("resourceType")))) {
                throw new IllegalArgumentException("not a FHIR Bundle");
            }
            if (!"transaction".equals(Verify.str(root.get("type")))) {
                throw new IllegalArgumentException("Bundle.type is not transaction");
            }
            Json.Node entries = root.get("entry");
            if (entries == null || entries.kind != Json.ARRAY || entries.items.isEmpty()) {
                throw new IllegalArgumentException("Bundle has no entries");
            }

            // UUIDs to rewrite: everything that appears as urn:uuid:<uuid> anywhere in the bundle
            Map<String, Integer> slots = new HashMap<>();
            for (int i = text.indexOf("urn:uuid:"); i >= 0; i = text.indexOf("urn:uuid:", i + 9)) {
                if (isUuidAt(text, i + 9)) {
                    slots.computeIfAbsent(text.substring(i + 9, i + 45).toLowerCase(Locale.ROOT), k -> slots.size());
                }
            }
            this.originalUuids = Set.copyOf(slots.keySet());

            entryCount = entries.items.size();
            resType = new String[entryCount];
            resStart = new int[entryCount];
            resEnd = new int[entryCount];
            resIdSlot = new int[entryCount];
            List<Edit> edits = new ArrayList<>();
            int ident = 0;
            for (int i = 0; i < entryCount; i++) {
                Json.Node e = entries.items.get(i);
                String fu = Verify.str(e.get("fullUrl"));
                if (fu == null || !fu.startsWith("urn:uuid:") || fu.length() != 45 || !isUuid(fu, 9)) {
                    throw new IllegalArgumentException("entry " + i + ": fullUrl is not urn:uuid:<uuid>: " + fu);
                }
                Json.Node req = e.get("request");
                if (req == null || !"POST".equals(Verify.str(req.get("method")))) {
                    throw new IllegalArgumentException("entry " + i + ": request.method is not POST");
                }
                if (req.get("ifNoneExist") != null) {
                    throw new IllegalArgumentException("entry " + i + ": conditional create is not supported by this benchmark");
                }
                Json.Node res = e.get("resource");
                if (res == null || res.kind != Json.OBJECT || Verify.str(res.get("resourceType")) == null) {
                    throw new IllegalArgumentException("entry " + i + ": no resource");
                }
                resType[i] = Verify.str(res.get("resourceType"));
                resStart[i] = res.start;
                resEnd[i] = res.end;
                resIdSlot[i] = slots.get(fu.substring(9).toLowerCase(Locale.ROOT));
                if (resType[i].equals("Patient")) {
                    Json.Node names = res.get("name");
                    if (names != null && names.kind == Json.ARRAY) {
                        for (Json.Node nm : names.items) {
                            if (nm.kind != Json.OBJECT) continue;
                            Json.Node fam = nm.get("family");
                            if (fam != null && fam.kind == Json.STRING) edits.add(new Edit(fam.end - 1, fam.end - 1, SUFFIX, 0));
                            Json.Node given = nm.get("given");
                            if (given != null && given.kind == Json.ARRAY) {
                                for (Json.Node g : given.items) {
                                    if (g.kind == Json.STRING) edits.add(new Edit(g.end - 1, g.end - 1, SUFFIX, 0));
                                }
                            }
                            Json.Node txt = nm.get("text");
                            if (txt != null && txt.kind == Json.STRING) edits.add(new Edit(txt.end - 1, txt.end - 1, SUFFIX, 0));
                        }
                    }
                    Json.Node ids = res.get("identifier");
                    if (ids != null && ids.kind == Json.ARRAY) {
                        for (Json.Node idn : ids.items) {
                            Json.Node v = idn.kind == Json.OBJECT ? idn.get("value") : null;
                            if (v != null && v.kind == Json.STRING) {
                                edits.add(new Edit(v.start + 1, v.end - 1, IDENT, ident++));
                                originalIdentifierValues.add(v.str);
                            }
                        }
                    }
                }
            }
            // every occurrence of a rewritten UUID, with or without the urn:uuid: prefix (resource ids, identifiers)
            List<Edit> uuidEdits = new ArrayList<>();
            for (int i = 0; i + 36 <= text.length(); i++) {
                if (text.charAt(i) == '-' || !isUuidAt(text, i)) continue;
                Integer slot = slots.get(text.substring(i, i + 36).toLowerCase(Locale.ROOT));
                if (slot != null) {
                    uuidEdits.add(new Edit(i, i + 36, UUID, slot));
                    i += 35;
                }
            }
            // identifier values are replaced whole, so drop UUID edits inside them
            List<Edit> identEdits = edits.stream().filter(e -> e.kind == IDENT).collect(Collectors.toList());
            for (Edit u : uuidEdits) {
                boolean inside = false;
                for (Edit e : identEdits) {
                    if (u.start >= e.start && u.end <= e.end) inside = true;
                }
                if (!inside) edits.add(u);
            }
            edits.sort((a, b) -> a.start != b.start ? Integer.compare(a.start, b.start) : Integer.compare(a.end, b.end));
            for (int i = 1; i < edits.size(); i++) {
                if (edits.get(i).start < edits.get(i - 1).end) throw new IllegalStateException("overlapping edits in " + name);
            }
            this.edits = edits.toArray(new Edit[0]);
            this.uuidSlots = slots.size();
            this.identSlots = ident;
        }

        /** A UUID (8-4-4-4-12 hex) at s[i], not glued to further hex digits or dashes. */
        static boolean isUuidAt(String s, int i) {
            if (i + 36 > s.length()) return false;
            if (i > 0 && (isHex(s.charAt(i - 1)) || s.charAt(i - 1) == '-')) return false;
            if (i + 36 < s.length() && (isHex(s.charAt(i + 36)) || s.charAt(i + 36) == '-')) return false;
            return isUuid(s, i);
        }

        static boolean isUuid(String s, int i) {
            if (i + 36 > s.length()) return false;
            for (int k = 0; k < 36; k++) {
                char ch = s.charAt(i + k);
                if (k == 8 || k == 13 || k == 18 || k == 23) {
                    if (ch != '-') return false;
                } else if (!isHex(ch)) {
                    return false;
                }
            }
            return true;
        }

        static boolean isHex(char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        }
    }

    /** The k-th copy of a template: deterministic in (seed, copy index), so the JDBC reference stores the same copies. */
    static final class Copy {
        final Template t;
        final int copyNo;
        final String[] uuids;
        final String[] idents;
        final String suffix;

        Copy(Template t, int copyIndex, long seed) {
            this.t = t;
            this.copyNo = copyIndex + 1;
            SplittableRandom r = new SplittableRandom(mix(seed + 0x9E3779B97F4A7C15L * (copyIndex + 1L)));
            uuids = new String[t.uuidSlots];
            for (int i = 0; i < uuids.length; i++) uuids[i] = randomUuid(r);
            idents = new String[t.identSlots];
            for (int i = 0; i < idents.length; i++) idents[i] = randomUuid(r);
            suffix = Integer.toString(copyNo);
        }

        static long mix(long z) {
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }

        static String randomUuid(SplittableRandom r) {
            long hi = (r.nextLong() & ~0xF000L) | 0x4000L;                            // version 4
            long lo = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;     // IETF variant
            return new UUID(hi, lo).toString();
        }

        /** The copy's text for the original span [from, to). */
        String render(int from, int to) {
            StringBuilder sb = new StringBuilder(to - from + 64);
            int pos = from;
            Template.Edit[] edits = t.edits;
            int lo = 0, hi = edits.length;   // first edit with start >= from
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (edits[mid].start() < from) lo = mid + 1; else hi = mid;
            }
            for (int i = lo; i < edits.length && edits[i].start() < to; i++) {
                Template.Edit e = edits[i];
                sb.append(t.text, pos, e.start());
                switch (e.kind()) {
                    case Template.UUID -> sb.append(uuids[e.arg()]);
                    case Template.SUFFIX -> sb.append(suffix);
                    case Template.IDENT -> sb.append(idents[e.arg()]);
                    default -> throw new IllegalStateException();
                }
                pos = e.end();
            }
            sb.append(t.text, pos, to);
            return sb.toString();
        }

        /** One row per entry: its resource as minified JSON, SHA-256 of those bytes. */
        RowBundle rows() {
            Row[] rows = new Row[t.entryCount];
            for (int i = 0; i < rows.length; i++) {
                byte[] body = Json.minify(render(t.resStart[i], t.resEnd[i])).getBytes(StandardCharsets.UTF_8);
                rows[i] = new Row(t.resType[i], uuids[t.resIdSlot[i]], body, sha256(body));
            }
            return new RowBundle(t.name + "#" + copyNo, rows);
        }
    }

    // ------------------------------------------------------------------------------------------------ tiny JSON

    /** A small strict JSON parser that keeps each value's span in the source text. */
    static final class Json {
        static final int OBJECT = 0, ARRAY = 1, STRING = 2, NUMBER = 3, LITERAL = 4;

        static final class Node {
            final int kind;
            int start, end;                 // [start, end) in the source
            String str;                     // STRING: decoded value
            String raw;                     // NUMBER / LITERAL: source text
            List<String> keys;              // OBJECT
            List<Node> items;               // OBJECT values / ARRAY items

            Node(int kind) { this.kind = kind; }

            Node get(String key) {
                if (kind != OBJECT) return null;
                for (int i = 0; i < keys.size(); i++) if (keys.get(i).equals(key)) return items.get(i);
                return null;
            }
        }

        private final String s;
        private int i;

        private Json(String s) { this.s = s; }

        static Node parse(String s) {
            Json j = new Json(s);
            j.ws();
            Node n = j.value(0);
            j.ws();
            if (j.i != s.length()) throw j.err("trailing characters");
            return n;
        }

        private IllegalArgumentException err(String m) {
            return new IllegalArgumentException("JSON: " + m + " at offset " + i);
        }

        private void ws() {
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') i++; else break;
            }
        }

        private Node value(int depth) {
            if (depth > 200) throw err("nesting too deep");
            if (i >= s.length()) throw err("unexpected end");
            char c = s.charAt(i);
            switch (c) {
                case '{': {
                    Node n = new Node(OBJECT);
                    n.start = i++;
                    n.keys = new ArrayList<>();
                    n.items = new ArrayList<>();
                    ws();
                    if (i < s.length() && s.charAt(i) == '}') {
                        n.end = ++i;
                        return n;
                    }
                    while (true) {
                        ws();
                        if (i >= s.length() || s.charAt(i) != '"') throw err("expected a key");
                        n.keys.add(string().str);
                        ws();
                        expect(':');
                        ws();
                        n.items.add(value(depth + 1));
                        ws();
                        if (i < s.length() && s.charAt(i) == ',') { i++; continue; }
                        expect('}');
                        n.end = i;
                        return n;
                    }
                }
                case '[': {
                    Node n = new Node(ARRAY);
                    n.start = i++;
                    n.items = new ArrayList<>();
                    ws();
                    if (i < s.length() && s.charAt(i) == ']') {
                        n.end = ++i;
                        return n;
                    }
                    while (true) {
                        ws();
                        n.items.add(value(depth + 1));
                        ws();
                        if (i < s.length() && s.charAt(i) == ',') { i++; continue; }
                        expect(']');
                        n.end = i;
                        return n;
                    }
                }
                case '"':
                    return string();
                case 't':
                    return literal("true");
                case 'f':
                    return literal("false");
                case 'n':
                    return literal("null");
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return number();
                    throw err("unexpected character '" + c + "'");
            }
        }

        private void expect(char c) {
            if (i >= s.length() || s.charAt(i) != c) throw err("expected '" + c + "'");
            i++;
        }

        private Node literal(String word) {
            if (!s.startsWith(word, i)) throw err("bad literal");
            Node n = new Node(LITERAL);
            n.start = i;
            i += word.length();
            n.end = i;
            n.raw = word;
            return n;
        }

        private Node number() {
            Node n = new Node(NUMBER);
            n.start = i;
            if (s.charAt(i) == '-') i++;
            if (i < s.length() && s.charAt(i) == '0') {
                i++;
            } else if (i < s.length() && s.charAt(i) >= '1' && s.charAt(i) <= '9') {
                while (i < s.length() && Character.isDigit(s.charAt(i)) && s.charAt(i) < 128) i++;
            } else {
                throw err("bad number");
            }
            if (i < s.length() && s.charAt(i) == '.') {
                i++;
                int d = i;
                while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') i++;
                if (i == d) throw err("bad number");
            }
            if (i < s.length() && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
                i++;
                if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) i++;
                int d = i;
                while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') i++;
                if (i == d) throw err("bad number");
            }
            n.end = i;
            n.raw = s.substring(n.start, n.end);
            return n;
        }

        private Node string() {
            Node n = new Node(STRING);
            n.start = i++;
            StringBuilder sb = null;
            int runStart = i;
            while (true) {
                if (i >= s.length()) throw err("unterminated string");
                char c = s.charAt(i);
                if (c == '"') {
                    n.str = sb == null ? s.substring(runStart, i) : sb.append(s, runStart, i).toString();
                    n.end = ++i;
                    return n;
                }
                if (c < 0x20) throw err("control character in string");
                if (c == '\\') {
                    if (sb == null) sb = new StringBuilder();
                    sb.append(s, runStart, i);
                    if (i + 1 >= s.length()) throw err("bad escape");
                    char e = s.charAt(i + 1);
                    switch (e) {
                        case '"', '\\', '/' -> sb.append(e);
                        case 'b' -> sb.append('\b');
                        case 'f' -> sb.append('\f');
                        case 'n' -> sb.append('\n');
                        case 'r' -> sb.append('\r');
                        case 't' -> sb.append('\t');
                        case 'u' -> {
                            if (i + 6 > s.length()) throw err("bad \\u escape");
                            try {
                                sb.append((char) Integer.parseInt(s.substring(i + 2, i + 6), 16));
                            } catch (NumberFormatException x) {
                                throw err("bad \\u escape");
                            }
                            i += 4;
                        }
                        default -> throw err("bad escape \\" + e);
                    }
                    i += 2;
                    runStart = i;
                    continue;
                }
                i++;
            }
        }

        /** Removes insignificant whitespace (outside strings) from valid JSON text. */
        static String minify(String json) {
            StringBuilder sb = new StringBuilder(json.length());
            boolean inString = false;
            for (int k = 0; k < json.length(); k++) {
                char c = json.charAt(k);
                if (inString) {
                    sb.append(c);
                    if (c == '\\') {
                        sb.append(json.charAt(++k));
                    } else if (c == '"') {
                        inString = false;
                    }
                } else if (c == '"') {
                    inString = true;
                    sb.append(c);
                } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                    sb.append(c);
                }
            }
            return sb.toString();
        }
    }
}
