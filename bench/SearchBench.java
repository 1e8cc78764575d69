/*
 * Kiroku search benchmark (single-file Java 17 program, JDK only).
 *
 *   java bench/SearchBench.java --help
 *
 * Discovers the test population through the FHIR API (patients, and the LOINC codes and dates of their observations),
 * then runs one timed phase per query shape with N concurrent clients. See bench/README.md ("Search benchmark").
 */

import java.io.IOException;
import java.lang.management.ManagementFactory;
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
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

public class SearchBench {

    static final String USAGE = String.join("\n",
            "usage: java bench/SearchBench.java [options]",
            "",
            "Runs FHIR reads and searches against a Kiroku server that already holds data (e.g. kept by",
            "bench/run-ingest.sh --keep-data), one timed phase per query shape, with concurrent clients.",
            "",
            "  --base URL             server base URL (default http://127.0.0.1:8080)",
            "  --client-id ID         OAuth2 client id (default: env KIROKU_BENCH_CLIENT_ID)",
            "  --client-secret S      OAuth2 client secret (default: env KIROKU_BENCH_CLIENT_SECRET)",
            "  --no-auth              no token request and no Authorization header (a server without authentication,",
            "                         e.g. HAPI FHIR JPA through bench/run-hapi.sh)",
            "  --clients N            concurrent clients per phase (default 8)",
            "  --seconds N            timed duration of each phase (default 20)",
            "  --warmup-seconds N     untimed warm-up at the start of each phase (default 3)",
            "  --warmup-pass N        before the first timed phase, N s in all of untimed load, shared out equally",
            "                         among the selected phases, so that each phase is timed on a warm server (JIT,",
            "                         connection and database caches): on a cold 2-core server the first minute or so",
            "                         of load runs at about half rate (default 90; 0: none)",
            "  --requests N           instead of --seconds: N timed requests per phase (after the warm-up)",
            "  --patients-sample N    patients whose data the queries use (default 150; all if fewer exist)",
            "  --codes-per-patient N  LOINC codes per sampled patient for the code phase (default 3)",
            "  --phases LIST          comma separated subset of: " + String.join(",", Phase.names()),
            "                         (default: all, in that order)",
            "  --seed N               seed for sampling (default: random; printed)",
            "  --timeout SECONDS      per-request HTTP timeout (default 60)",
            "  --compare-with LOG     the output of another run of this bench (e.g. bench/run-hapi.sh --search on this",
            "                         machine): the target is then checked phase by phase against that run's rates",
            "                         instead of the search issue's fixed reference numbers",
            "  --person-token-file F  a person's access token: each phase runs again with it (access checks on) and the",
            "                         difference to the system client's run is printed (bench/run-search.sh --as-person)",
            "  --dry-run              discover the population, print every chosen query, exit (no timed phases)",
            "  -h, --help             this message");

    static final String LOINC = "http://loinc.org";
    static final int COUNT = 50;   // _count of every search

    /** HAPI FHIR JPA reference numbers from the search issue (same machine, 150 patients, 8 clients). */
    static final double HAPI_SEARCH_LO = 68, HAPI_SEARCH_HI = 196, HAPI_SEARCH_P95_LO = 69, HAPI_SEARCH_P95_HI = 199;
    static final double HAPI_READ_LO = 188, HAPI_READ_HI = 341, HAPI_READ_P95_LO = 44, HAPI_READ_P95_HI = 75;
    static final double TARGET_P95_MS = 50, TARGET_FACTOR = 5;

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
            rc = new SearchBench(o).run();
        } catch (Fatal e) {
            System.out.println("\nerror: " + e.getMessage());
            System.out.println("\nFAILED");
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
    }

    static final class Options {
        String base = "http://127.0.0.1:8080";
        String clientId = System.getenv("KIROKU_BENCH_CLIENT_ID");
        String clientSecret = System.getenv("KIROKU_BENCH_CLIENT_SECRET");
        int clients = 8;
        int seconds = 20;
        int warmupSeconds = 3;
        int warmupPass = 90;    // seconds in all, shared among the phases, before the first timed phase
        int requests;           // 0: run for --seconds
        int patientsSample = 150;
        int codesPerPatient = 3;
        List<Phase> phases = List.of(Phase.values());
        Long seed;
        int timeoutSeconds = 60;
        boolean dryRun;
        boolean help;
        /** A person's bearer token (file): every phase runs once as the system client, then once as this person. */
        String personTokenFile;
        /** No token endpoint, no Authorization header (a server without authentication). */
        boolean noAuth;
        /** Another run's output, and its rate per phase: the target is then taken against it. */
        String compareWith;
        Map<String, Double> comparedRates;

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
                    case "--dry-run" -> {
                        if (inline != null) throw new UsageException(name + " takes no value");
                        o.dryRun = true;
                    }
                    case "--no-auth" -> {
                        if (inline != null) throw new UsageException(name + " takes no value");
                        o.noAuth = true;
                    }
                    case "--base", "--client-id", "--client-secret", "--clients", "--seconds", "--warmup-seconds", "--warmup-pass",
                         "--requests", "--patients-sample", "--codes-per-patient", "--phases", "--seed", "--timeout",
                         "--person-token-file", "--compare-with" -> {
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
            if (o.compareWith != null) o.comparedRates = summaryRates(Path.of(o.compareWith));
            if (o.noAuth && o.personTokenFile != null) {
                throw new UsageException("--person-token-file needs authentication; it cannot be used with --no-auth");
            }
            if (!o.help && !o.noAuth && (o.clientId == null || o.clientId.isEmpty() || o.clientSecret == null || o.clientSecret.isEmpty())) {
                throw new UsageException("client credentials missing: give --client-id and --client-secret, or set "
                        + "KIROKU_BENCH_CLIENT_ID and KIROKU_BENCH_CLIENT_SECRET");
            }
            return o;
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
                case "--client-id" -> clientId = v;
                case "--client-secret" -> clientSecret = v;
                case "--clients" -> clients = number(name, v, 1);
                case "--seconds" -> seconds = number(name, v, 1);
                case "--warmup-seconds" -> warmupSeconds = number(name, v, 0);
                case "--warmup-pass" -> warmupPass = number(name, v, 0);
                case "--requests" -> requests = number(name, v, 1);
                case "--patients-sample" -> patientsSample = number(name, v, 1);
                case "--codes-per-patient" -> codesPerPatient = number(name, v, 1);
                case "--timeout" -> timeoutSeconds = number(name, v, 1);
                case "--person-token-file" -> personTokenFile = v;
                case "--compare-with" -> compareWith = v;
                case "--phases" -> {
                    List<Phase> list = new ArrayList<>();
                    for (String p : v.split(",")) {
                        Phase ph = Phase.byName(p.trim());
                        if (ph == null) {
                            throw new UsageException("--phases: unknown phase '" + p.trim() + "' (known: "
                                    + String.join(", ", Phase.names()) + ")");
                        }
                        if (!list.contains(ph)) list.add(ph);
                    }
                    if (list.isEmpty()) throw new UsageException("--phases: empty list");
                    phases = list;
                }
                case "--seed" -> {
                    try {
                        seed = Long.parseLong(v.trim());
                    } catch (NumberFormatException e) {
                        throw new UsageException("--seed: not an integer: " + v);
                    }
                }
                default -> throw new UsageException("unknown option: " + name);
            }
        }

        /**
         * req/s per phase from the "## Summary" table of a run's output (the system client's rows; a phase listed twice,
         * as when a log holds two runs, counts its last row).
         */
        static Map<String, Double> summaryRates(Path log) throws UsageException {
            List<String> lines;
            try {
                lines = Files.readAllLines(log);
            } catch (IOException | RuntimeException e) {
                throw new UsageException("--compare-with: cannot read " + log + ": " + e.getMessage());
            }
            Map<String, Double> rates = new LinkedHashMap<>();
            boolean inSummary = false;
            for (String line : lines) {
                if (line.startsWith("## ")) inSummary = line.equals("## Summary");
                if (!inSummary || !line.startsWith("| ")) continue;
                String[] cells = line.split("(?<!\\\\)\\|");   // the query cell escapes its own bars as \|
                if (cells.length < 5 || Phase.byName(cells[1].trim()) == null) continue;
                try {
                    rates.put(cells[1].trim(), Double.parseDouble(cells[4].trim().replace(",", "")));
                } catch (NumberFormatException e) {
                    throw new UsageException("--compare-with: " + log + ": no req/s for " + cells[1].trim() + ": " + line);
                }
            }
            if (rates.isEmpty()) throw new UsageException("--compare-with: no \"## Summary\" table of this bench in " + log);
            return rates;
        }

        private static int number(String name, String v, int min) throws UsageException {
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

    // ------------------------------------------------------------------------------------------------ phases

    enum Phase {
        READ("read", "GET Patient/{id}", "Patient", false),
        OBS_CODE("obs-code", "Observation?patient={id}&code=http://loinc.org|{code}", "Observation", true),
        OBS_DATE("obs-date", "Observation?patient={id}&date=ge{date}", "Observation", true),
        PATIENT_FAMILY("patient-family", "Patient?family={3-letter prefix}", "Patient", true),
        CONDITION("condition", "Condition?patient={id}", "Condition", false),
        ENCOUNTER("encounter", "Encounter?patient={id}&_sort=-date", "Encounter", false),
        EVERYTHING("everything", "Patient/{id}/$everything", null, true);

        final String label;
        final String shape;
        final String type;          // resource type of every result (null: any)
        final boolean mustMatch;    // the query was built from data the server holds: an empty page is an error

        Phase(String label, String shape, String type, boolean mustMatch) {
            this.label = label;
            this.shape = shape;
            this.type = type;
            this.mustMatch = mustMatch;
        }

        boolean isRead() { return this == READ; }

        static Phase byName(String s) {
            for (Phase p : values()) if (p.label.equals(s)) return p;
            return null;
        }

        static List<String> names() {
            List<String> l = new ArrayList<>();
            for (Phase p : values()) l.add(p.label);
            return l;
        }
    }

    /**
     * One concrete request: {@code path} is relative to {base}/fhir/ and already URL-encoded. {@code patientId}: every
     * result must have subject Patient/{patientId} (null: not checked). {@code readId}: the id a read must return.
     */
    record Query(String path, URI uri, String patientId, String readId) {}

    // ------------------------------------------------------------------------------------------------ run

    final Options o;
    final long seed;
    final Http http;

    SearchBench(Options o) {
        this.o = o;
        this.seed = o.seed != null ? o.seed : new SecureRandom().nextLong();
        this.http = new Http(o);
    }

    int run() throws InterruptedException {
        String personToken = null;
        if (o.personTokenFile != null) {
            try {
                personToken = java.nio.file.Files.readString(java.nio.file.Path.of(o.personTokenFile)).strip();
                java.nio.file.Path device = java.nio.file.Path.of(o.personTokenFile + ".device"); // BYOD-01 terminal
                if (java.nio.file.Files.exists(device)) {
                    http.personDevice = java.nio.file.Files.readString(device).strip();
                }
            } catch (IOException e) {
                throw new Fatal("--person-token-file: " + describe(e));
            }
        }
        printEnvironment();
        if (o.noAuth) {
            System.out.println("auth: none (--no-auth)");
        } else {
            http.tokens.get();   // fails fast with a plain message on bad credentials / unreachable server
            System.out.println("token: ok (expires_in " + http.tokens.expiresIn + " s)");
        }
        printServer();

        Population pop = discover();
        Map<Phase, List<Query>> plan = plan(pop);
        printPlan(plan);

        if (o.dryRun) {
            System.out.println("\n## Chosen queries (dry run)");
            for (var e : plan.entrySet()) {
                System.out.println("\n### " + e.getKey().label + " (" + e.getValue().size() + ")");
                for (Query q : e.getValue()) System.out.println("GET " + q.uri());
            }
            System.out.println("\ndry run: done (no timed phases)");
            return 0;
        }

        List<Result> results = new ArrayList<>();
        boolean failed = false;
        if (personToken != null) {
            // the person's path (access checks) has code the system client's requests never ran: let the JIT compile
            // it before anything is timed, or the first phase pays for it (run 8: reads -31% first, -3% second)
            for (Phase p : o.phases) {
                List<Query> qs = plan.get(p);
                if (qs != null && !qs.isEmpty()) {
                    System.out.println("\nwarming up the person's path with " + p.label + " (10 s, not counted)");
                    runAsPerson(p, qs, personToken, TimeUnit.SECONDS.toNanos(10), true);
                    break;
                }
            }
        }
        warmUp(plan);
        for (Phase p : o.phases) {
            List<Query> qs = plan.get(p);
            if (qs == null || qs.isEmpty()) {
                System.out.println("\n" + p.label + ": NO QUERIES (the sampled patients have no data for this shape)");
                failed = true;
                continue;
            }
            if (personToken == null) {
                Result r = runPhase(p, qs);
                results.add(r);
                r.print();
                failed |= r.errors > 0;
                continue;
            }
            // the same queries with a person's token (access checks on), in the order system, person, person, system,
            // each half the time, so that warming up during the phase favours neither side
            long half = TimeUnit.SECONDS.toNanos(o.seconds) / 2;
            Result s1 = runPhase(p, qs, half);
            Result p1 = runAsPerson(p, qs, personToken, half, false);
            Result p2 = runAsPerson(p, qs, personToken, half, false);
            Result s2 = runPhase(p, qs, half);
            Result r = Result.merge(s1, s2);
            Result asPerson = Result.merge(p1, p2);
            asPerson.as = " [person]";
            r.print();
            asPerson.print();
            results.add(r);
            results.add(asPerson);
            failed |= r.errors > 0 || asPerson.errors > 0;
            System.out.printf(Locale.ROOT, "  access checks: throughput %+.1f%%, p50 %+.1f%%, p95 %+.1f%%%n",
                    (asPerson.perSecond() / r.perSecond() - 1) * 100,
                    (asPerson.percentileMs(50) / r.percentileMs(50) - 1) * 100,
                    (asPerson.percentileMs(95) / r.percentileMs(95) - 1) * 100);
        }
        if (!o.noAuth) {
            System.out.println("token fetches: " + http.tokens.fetches.get() + ", 401 retries: " + http.retries401.get());
        }

        printSummary(results);
        if (failed) {
            System.out.println("\nFAILED: there were errors (see above); the numbers are not valid.");
            return 1;
        }
        return 0;
    }

    // ------------------------------------------------------------------------------------------------ discovery

    record PatientInfo(String id, String family) {}

    static final class PatientData {
        final PatientInfo patient;
        final Set<String> loincCodes = new LinkedHashSet<>();
        final TreeSet<String> dates = new TreeSet<>();   // YYYY-MM-DD of effective[x] / issued
        int observations;

        PatientData(PatientInfo p) { this.patient = p; }
    }

    record Population(int patientsTotal, List<PatientData> sample) {}

    static final Pattern DAY = Pattern.compile("^\\d{4}-\\d{2}-\\d{2}.*");

    Population discover() throws InterruptedException {
        long t0 = System.nanoTime();
        List<PatientInfo> patients = new ArrayList<>();
        URI next = http.fhirUri("Patient?_count=1000&_sort=_id");
        int pages = 0;
        while (next != null) {
            if (++pages > 10_000) throw new Fatal("discovery: more than 10,000 pages of patients; giving up");
            Object bundle = http.getJson(next, "discovery");
            for (Map<?, ?> res : entries(bundle)) {
                if (!"Patient".equals(res.get("resourceType"))) continue;
                String id = str(res.get("id"));
                if (id != null) patients.add(new PatientInfo(id, family(res)));
            }
            next = nextLink(bundle);
        }
        System.out.printf(Locale.ROOT, "%ndiscovery: %d patients in %d page(s) of Patient?_count=1000&_sort=_id (%.1f s)%n",
                patients.size(), pages, (System.nanoTime() - t0) / 1e9);
        if (patients.isEmpty()) throw new Fatal("discovery: the server has no patients (ingest some first, e.g. "
                + "bench/run-ingest.sh --keep-data)");

        List<PatientInfo> shuffled = new ArrayList<>(patients);
        Collections.shuffle(shuffled, new Random(seed));
        List<PatientInfo> chosen = shuffled.subList(0, Math.min(o.patientsSample, shuffled.size()));

        // one page of each sampled patient's observations, with the same number of clients as the phases
        long t1 = System.nanoTime();
        PatientData[] data = new PatientData[chosen.size()];
        AtomicInteger cursor = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(o.clients);
        List<Future<?>> fs = new ArrayList<>();
        for (int c = 0; c < o.clients; c++) {
            fs.add(pool.submit(() -> {
                for (int i; (i = cursor.getAndIncrement()) < data.length; ) {
                    PatientInfo p = chosen.get(i);
                    PatientData d = new PatientData(p);
                    Object bundle = http.getJson(http.fhirUri("Observation?patient=" + enc(p.id()) + "&_count=" + COUNT),
                            "discovery");
                    for (Map<?, ?> res : entries(bundle)) {
                        d.observations++;
                        Object code = res.get("code");
                        if (code instanceof Map<?, ?> cc && cc.get("coding") instanceof List<?> codings) {
                            for (Object cd : codings) {
                                if (cd instanceof Map<?, ?> m && LOINC.equals(m.get("system")) && str(m.get("code")) != null) {
                                    d.loincCodes.add(str(m.get("code")));
                                }
                            }
                        }
                        String when = str(res.get("effectiveDateTime"));
                        if (when == null && res.get("effectivePeriod") instanceof Map<?, ?> per) when = str(per.get("start"));
                        if (when == null) when = str(res.get("effectiveInstant"));
                        if (when == null) when = str(res.get("issued"));
                        if (when != null && DAY.matcher(when).matches()) d.dates.add(when.substring(0, 10));
                    }
                    data[i] = d;
                }
                return null;
            }));
        }
        try {
            for (Future<?> f : fs) await(f);
        } finally {
            pool.shutdownNow();
        }
        List<PatientData> sample = Arrays.asList(data);
        long withObs = sample.stream().filter(d -> d.observations > 0).count();
        System.out.printf(Locale.ROOT, "discovery: %d sampled patients (seed %d); one page of Observation?patient={id}&_count=%d "
                        + "each: %d with observations, %d distinct LOINC codes seen (%.1f s)%n",
                sample.size(), seed, COUNT, withObs,
                sample.stream().flatMap(d -> d.loincCodes.stream()).distinct().count(), (System.nanoTime() - t1) / 1e9);
        return new Population(patients.size(), sample);
    }

    static String family(Map<?, ?> patient) {
        if (patient.get("name") instanceof List<?> names) {
            for (Object n : names) {
                if (n instanceof Map<?, ?> m && str(m.get("family")) != null && !str(m.get("family")).isBlank()) {
                    return str(m.get("family"));
                }
            }
        }
        return null;
    }

    /** The {@code resource} of each entry of a Bundle. */
    static List<Map<?, ?>> entries(Object bundle) {
        List<Map<?, ?>> out = new ArrayList<>();
        if (bundle instanceof Map<?, ?> b && b.get("entry") instanceof List<?> es) {
            for (Object e : es) {
                if (e instanceof Map<?, ?> em && em.get("resource") instanceof Map<?, ?> r) out.add(r);
            }
        }
        return out;
    }

    static URI nextLink(Object bundle) {
        if (bundle instanceof Map<?, ?> b && b.get("link") instanceof List<?> links) {
            for (Object l : links) {
                if (l instanceof Map<?, ?> m && "next".equals(m.get("relation")) && str(m.get("url")) != null) {
                    return URI.create(str(m.get("url")));
                }
            }
        }
        return null;
    }

    static String str(Object o) { return o instanceof String s ? s : null; }

    static String enc(String v) { return URLEncoder.encode(v, StandardCharsets.UTF_8); }

    // ------------------------------------------------------------------------------------------------ plan

    Map<Phase, List<Query>> plan(Population pop) {
        Random r = new Random(seed ^ 0x5DEECE66DL);
        Map<Phase, List<Query>> plan = new LinkedHashMap<>();
        for (Phase p : o.phases) plan.put(p, new ArrayList<>());
        Set<String> prefixes = new LinkedHashSet<>();
        for (PatientData d : pop.sample()) {
            String id = d.patient.id();
            String pid = enc(id);
            add(plan, Phase.READ, "Patient/" + pid, null, id);
            if (!d.loincCodes.isEmpty()) {
                List<String> codes = new ArrayList<>(d.loincCodes);
                Collections.shuffle(codes, r);
                for (String code : codes.subList(0, Math.min(o.codesPerPatient, codes.size()))) {
                    add(plan, Phase.OBS_CODE, "Observation?patient=" + pid + "&code=" + enc(LOINC + "|" + code)
                            + "&_count=" + COUNT, id, null);
                }
            }
            if (!d.dates.isEmpty()) {
                // the median day of the observations seen: "ge" matches about half of them (and that one for sure)
                String day = new ArrayList<>(d.dates).get(d.dates.size() / 2);
                add(plan, Phase.OBS_DATE, "Observation?patient=" + pid + "&date=" + enc("ge" + day) + "&_count=" + COUNT,
                        id, null);
            }
            String fam = d.patient.family();
            if (fam != null && fam.codePointCount(0, fam.length()) >= 3) {
                prefixes.add(fam.substring(0, fam.offsetByCodePoints(0, 3)));
            }
            add(plan, Phase.CONDITION, "Condition?patient=" + pid + "&_count=" + COUNT, id, null);
            add(plan, Phase.ENCOUNTER, "Encounter?patient=" + pid + "&_sort=-date&_count=" + COUNT, id, null);
            // first page of everything; its entries are of many types and link to the patient in many ways
            add(plan, Phase.EVERYTHING, "Patient/" + pid + "/$everything?_count=" + COUNT, null, null);
        }
        for (String prefix : prefixes) add(plan, Phase.PATIENT_FAMILY, "Patient?family=" + enc(prefix) + "&_count=" + COUNT, null, null);
        for (List<Query> l : plan.values()) Collections.shuffle(l, r);
        return plan;
    }

    void add(Map<Phase, List<Query>> plan, Phase p, String path, String patientId, String readId) {
        List<Query> l = plan.get(p);
        if (l != null) l.add(new Query(path, http.fhirUri(path), patientId, readId));
    }

    void printPlan(Map<Phase, List<Query>> plan) {
        System.out.println("\nqueries per phase (each client takes the next query of its phase's list, round robin):");
        for (var e : plan.entrySet()) {
            Phase p = e.getKey();
            List<Query> l = e.getValue();
            System.out.printf(Locale.ROOT, "  %-14s %4d distinct  GET %s%n", p.label, l.size(),
                    l.isEmpty() ? p.shape + " (none)" : l.get(0).path());
        }
        System.out.println("  every search has _count=" + COUNT + " and is sent with Prefer: handling=strict (an unsupported "
                + "parameter is a 400, not silently ignored)");
        System.out.println("  not measured: _include/_revinclude, chains, string sorts");
    }

    // ------------------------------------------------------------------------------------------------ timed phase

    static final class LongList {
        long[] a = new long[1024];
        int n;

        void add(long v) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }
    }

    /** What one client saw in one phase. */
    static final class ClientStats {
        final LongList latencies = new LongList();
        long entries;
        long emptyPages;
        long bytes;
        long lastEnd;
        int warmupRequests;
    }

    /**
     * Every phase's queries, untimed, before anything is timed: a server fresh from start-up runs its first minute or so
     * of load at about half its later rate (JIT compilation competing with the requests on two CPUs, new database
     * connections), so without this the first phase of a run (reads, by default) measured the warm-up.
     */
    void warmUp(Map<Phase, List<Query>> plan) throws InterruptedException {
        if (o.warmupPass == 0) return;
        List<Phase> phases = o.phases.stream().filter(p -> plan.get(p) != null && !plan.get(p).isEmpty()).toList();
        if (phases.isEmpty()) return;
        long each = TimeUnit.SECONDS.toNanos(o.warmupPass) / phases.size();
        System.out.printf(Locale.ROOT, "%nwarm-up pass: %d s in all, %.1f s per phase, not counted%n", o.warmupPass,
                each / 1e9);
        for (Phase p : phases) {
            Result r = runPhase(p, plan.get(p), each, true);
            System.out.printf(Locale.ROOT, "  %s: %d requests, %.0f req/s%s%n", p.label, r.requests + r.warmupRequests,
                    (r.requests + r.warmupRequests) / (r.phaseNanos / 1e9), r.errors > 0 ? ", " + r.errors + " errors" : "");
        }
    }

    /**
     * One phase with the person's token (access checks on); {@code passOnly} as in
     * {@link #runPhase(Phase, List, long, boolean)} (the person's warm-up runs for its time).
     */
    Result runAsPerson(Phase phase, List<Query> qs, String token, long timedNanos, boolean passOnly)
            throws InterruptedException {
        http.personToken = token;
        try {
            return runPhase(phase, qs, timedNanos, passOnly);
        } finally {
            http.personToken = null;
        }
    }

    Result runPhase(Phase phase, List<Query> qs) throws InterruptedException {
        return runPhase(phase, qs, TimeUnit.SECONDS.toNanos(o.seconds));
    }

    Result runPhase(Phase phase, List<Query> qs, long timedNanos) throws InterruptedException {
        return runPhase(phase, qs, timedNanos, false);
    }

    /** {@code passOnly}: part of the warm-up pass, so not announced and bounded by time even with --requests. */
    Result runPhase(Phase phase, List<Query> qs, long timedNanos, boolean passOnly) throws InterruptedException {
        int clients = o.clients;
        ErrorLog errors = new ErrorLog();
        AtomicLong cursor = new AtomicLong();
        AtomicInteger tickets = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        ClientStats[] stats = new ClientStats[clients];
        long[] startAt = new long[1];
        long warmupNanos = TimeUnit.SECONDS.toNanos(o.warmupSeconds);
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> fs = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            ClientStats st = stats[c] = new ClientStats();
            fs.add(pool.submit(() -> {
                go.await();
                long warmEnd = startAt[0] + warmupNanos;
                long end = warmEnd + timedNanos;
                while (true) {
                    long t0 = System.nanoTime();
                    boolean timed = t0 >= warmEnd;
                    if (timed) {
                        if (o.requests > 0 && !passOnly) {
                            if (tickets.getAndIncrement() >= o.requests) break;
                        } else if (t0 >= end) {
                            break;
                        }
                    }
                    Query q = qs.get((int) (cursor.getAndIncrement() % qs.size()));
                    Outcome out = http.timedGet(q, phase);
                    long t1 = System.nanoTime();
                    if (out.error != null) errors.add((timed ? "" : "(warm-up) ") + "GET " + q.path() + ": " + out.error);
                    if (!timed) {
                        st.warmupRequests++;
                        continue;
                    }
                    st.latencies.add(t1 - t0);
                    st.lastEnd = Math.max(st.lastEnd, t1);
                    st.bytes += out.bytes;
                    if (out.error == null && !phase.isRead()) {
                        st.entries += out.entries;
                        if (out.entries == 0) st.emptyPages++;
                    }
                }
                return null;
            }));
        }
        if (!passOnly) System.out.printf(Locale.ROOT, "%n%s%s: %d client%s, %d s warm-up, then %s ...%n", phase.label,
                http.personToken != null ? " [person]" : "", clients, clients == 1 ? "" : "s", o.warmupSeconds,
                o.requests > 0 ? o.requests + " requests" : String.format(Locale.ROOT, "%.1f s", timedNanos / 1e9));
        long cpu0 = processCpuNanos();
        startAt[0] = System.nanoTime();
        go.countDown();
        try {
            for (Future<?> f : fs) await(f);
        } finally {
            pool.shutdownNow();
        }
        long cpu1 = processCpuNanos();
        long warmEnd = startAt[0] + warmupNanos;
        int n = 0, warm = 0;
        long entries = 0, empty = 0, bytes = 0, lastEnd = warmEnd;
        for (ClientStats st : stats) {
            n += st.latencies.n;
            warm += st.warmupRequests;
            entries += st.entries;
            empty += st.emptyPages;
            bytes += st.bytes;
            lastEnd = Math.max(lastEnd, st.lastEnd);
        }
        long[] lat = new long[n];
        int k = 0;
        for (ClientStats st : stats) {
            System.arraycopy(st.latencies.a, 0, lat, k, st.latencies.n);
            k += st.latencies.n;
        }
        return new Result(phase, clients, qs.size(), n, warm, lastEnd - warmEnd, lat, entries, empty, bytes,
                errors.count.get(), errors.first, cpu1 - cpu0, System.nanoTime() - startAt[0]);
    }

    static long processCpuNanos() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) return sun.getProcessCpuTime();
        return -1;
    }

    // ------------------------------------------------------------------------------------------------ results

    static final class Result {
        final Phase phase;
        /** "" for the system client; " [person]" for the phase run with a person's token. */
        String as = "";
        final int clients, distinct, requests, warmupRequests, errors;
        final long wallNanos, entries, emptyPages, bytes, cpuNanos, phaseNanos;
        final long[] latencies;
        final List<String> firstErrors;

        Result(Phase phase, int clients, int distinct, int requests, int warmupRequests, long wallNanos, long[] latencies,
               long entries, long emptyPages, long bytes, int errors, List<String> firstErrors, long cpuNanos,
               long phaseNanos) {
            this.phase = phase;
            this.clients = clients;
            this.distinct = distinct;
            this.requests = requests;
            this.warmupRequests = warmupRequests;
            this.wallNanos = wallNanos;
            this.latencies = latencies;
            Arrays.sort(this.latencies);
            this.entries = entries;
            this.emptyPages = emptyPages;
            this.bytes = bytes;
            this.errors = errors;
            this.firstErrors = firstErrors;
            this.cpuNanos = cpuNanos;
            this.phaseNanos = phaseNanos;
        }

        double perSecond() { return wallNanos <= 0 ? 0 : requests / (wallNanos / 1e9); }

        /** Two runs of the same phase as one: requests, time and latencies added up. */
        static Result merge(Result a, Result b) {
            long[] lat = new long[a.latencies.length + b.latencies.length];
            System.arraycopy(a.latencies, 0, lat, 0, a.latencies.length);
            System.arraycopy(b.latencies, 0, lat, a.latencies.length, b.latencies.length);
            List<String> errs = new ArrayList<>(a.firstErrors);
            errs.addAll(b.firstErrors);
            return new Result(a.phase, a.clients, a.distinct, a.requests + b.requests, a.warmupRequests + b.warmupRequests,
                    a.wallNanos + b.wallNanos, lat, a.entries + b.entries, a.emptyPages + b.emptyPages, a.bytes + b.bytes,
                    a.errors + b.errors, errs, a.cpuNanos < 0 || b.cpuNanos < 0 ? -1 : a.cpuNanos + b.cpuNanos,
                    a.phaseNanos + b.phaseNanos);
        }

        /** Nearest-rank percentile of the per-request latency, in ms. */
        double percentileMs(double p) {
            if (latencies.length == 0) return Double.NaN;
            int rank = (int) Math.ceil(p / 100.0 * latencies.length);
            return latencies[Math.max(0, Math.min(latencies.length - 1, rank - 1))] / 1e6;
        }

        String meanEntries() {
            if (phase.isRead()) return "-";
            long ok = requests - Math.min(requests, errors);
            return ok <= 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", (double) entries / ok);
        }

        void print() {
            System.out.printf(Locale.ROOT,
                    "%s: %d requests in %.2f s -> %.0f req/s; latency p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms; "
                            + "mean entries/page %s, empty pages %s; %.1f KB/response; errors %d%n",
                    phase.label + as, requests, wallNanos / 1e9, perSecond(), percentileMs(50), percentileMs(95),
                    percentileMs(99), latencies.length == 0 ? Double.NaN : latencies[latencies.length - 1] / 1e6,
                    meanEntries(), phase.isRead() ? "-" : Long.toString(emptyPages),
                    requests == 0 ? 0.0 : bytes / 1024.0 / requests, errors);
            if (cpuNanos >= 0) {
                System.out.printf(Locale.ROOT, "  (%d warm-up requests not counted; bench client CPU %.1f s over %.1f s, "
                        + "%.2f cores of this machine's %d)%n", warmupRequests, cpuNanos / 1e9, phaseNanos / 1e9,
                        (double) cpuNanos / phaseNanos, Runtime.getRuntime().availableProcessors());
            }
            printErrors();
        }

        void printErrors() {
            if (errors == 0) return;
            System.out.println("  " + errors + " error(s); first " + firstErrors.size() + ":");
            for (String e : firstErrors) System.out.println("    " + e);
        }

        String row() {
            return String.format(Locale.ROOT, "| %-14s | %-56s | %8d | %8.0f | %7.1f | %7.1f | %7.1f | %7s | %5s | %6d |",
                    phase.label + as, phase.shape.replace("|", "\\|"), requests, perSecond(), percentileMs(50), percentileMs(95),
                    percentileMs(99), meanEntries(), phase.isRead() ? "-" : Long.toString(emptyPages), errors);
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

    /**
     * The target phase by phase against another run of this bench on the same machine (--compare-with): every search
     * p95 < 50 ms and >= 5x the other run's rate for the same phase. Reads by id are shown with their ratio; the issue
     * states its target for searches.
     */
    void printComparison(List<Result> results) {
        System.out.printf(Locale.ROOT, "%nCompared with %s (req/s of the same phases; run it on this machine)%n", o.compareWith);
        System.out.printf(Locale.ROOT, "Target: every search p95 < %.0f ms and >= %.0fx the compared run's rate for the same phase"
                + " (reads by id: ratio shown, not part of the search target)%n%n", TARGET_P95_MS, TARGET_FACTOR);
        boolean allMet = true;
        for (Result r : results) {
            if (!r.as.isEmpty()) continue;
            Double other = o.comparedRates.get(r.phase.label);
            double p95 = r.percentileMs(95);
            boolean latOk = p95 < TARGET_P95_MS;
            double ratio = other == null || other <= 0 ? Double.NaN : r.perSecond() / other;
            boolean rateOk = ratio >= TARGET_FACTOR;
            String verdict = r.phase.isRead() ? "reference" : other == null ? "NOT checked: no such phase in the compared run"
                    : rateOk ? "met" : "NOT met";
            if (!r.phase.isRead()) allMet &= latOk && rateOk && r.errors == 0;
            System.out.printf(Locale.ROOT, "  %-14s %6.0f req/s against %6s = %5.1fx (%s); p95 %6.1f ms (%s)%s%n",
                    r.phase.label, r.perSecond(), other == null ? "-" : String.format(Locale.ROOT, "%.0f", other), ratio,
                    verdict, p95, latOk ? "met" : "NOT met", r.errors > 0 ? "  [errors: not valid]" : "");
        }
        System.out.println(allMet ? "\nTarget: met by every search phase." : "\nTarget: NOT met by every search phase (see above).");
    }

    void printSummary(List<Result> results) {
        if (results.isEmpty()) return;
        System.out.println("\n## Summary\n");
        System.out.printf(Locale.ROOT, "%d clients, %s per phase after a %d s warm-up (and a warm-up pass of %d s in all"
                        + " before the first), _count=%d; latency in ms; entries = mean entries per page%n%n", o.clients,
                o.requests > 0 ? o.requests + " requests" : o.seconds + " s", o.warmupSeconds, o.warmupPass, COUNT);
        System.out.println("| phase          | query                                                    | requests |    req/s |  p50 ms |  p95 ms |  p99 ms | entries | empty | errors |");
        System.out.println("|----------------|----------------------------------------------------------|---------:|---------:|--------:|--------:|--------:|--------:|------:|-------:|");
        for (Result r : results) System.out.println(r.row());

        if (o.comparedRates != null) {
            printComparison(results);
        } else {
            printAgainstIssueNumbers(results);
        }
        System.out.println("\nNotes: every Bundle carries an exact total; a search with more matches than its page saves a"
                + " paging snapshot on the first page (the everything phase does, every time). _include, chains and string"
                + " sorts are not measured.");
    }

    /** The target against the search issue's fixed HAPI numbers, taken at the top of their range. */
    void printAgainstIssueNumbers(List<Result> results) {
        System.out.println("\nReference: HAPI FHIR JPA, 150 patients, 8 clients (the search issue's numbers, from another machine;"
                + " bench/run-hapi.sh measures HAPI on this one):");
        System.out.printf(Locale.ROOT, "  searches    %.0f-%.0f/s, p95 %.0f-%.0f ms%n", HAPI_SEARCH_LO, HAPI_SEARCH_HI,
                HAPI_SEARCH_P95_LO, HAPI_SEARCH_P95_HI);
        System.out.printf(Locale.ROOT, "  reads by id %.0f-%.0f/s, p95 %.0f-%.0f ms%n", HAPI_READ_LO, HAPI_READ_HI,
                HAPI_READ_P95_LO, HAPI_READ_P95_HI);
        System.out.printf(Locale.ROOT, "Target: every search p95 < %.0f ms and >= %.0fx HAPI's throughput (taken against the top of "
                        + "HAPI's range: searches >= %.0f/s; reads, same rule: >= %.0f/s)%n%n", TARGET_P95_MS, TARGET_FACTOR,
                TARGET_FACTOR * HAPI_SEARCH_HI, TARGET_FACTOR * HAPI_READ_HI);
        boolean allMet = true;
        for (Result r : results) {
            double lo = r.phase.isRead() ? HAPI_READ_LO : HAPI_SEARCH_LO;
            double hi = r.phase.isRead() ? HAPI_READ_HI : HAPI_SEARCH_HI;
            double p95 = r.percentileMs(95);
            boolean latOk = p95 < TARGET_P95_MS;
            boolean rateOk = r.perSecond() >= TARGET_FACTOR * hi;
            allMet &= latOk && rateOk && r.errors == 0;
            System.out.printf(Locale.ROOT, "  %-14s %6.0f req/s = %5.1f-%5.1fx HAPI's %s rate (%s); p95 %6.1f ms (%s)%s%n",
                    r.phase.label + r.as, r.perSecond(), r.perSecond() / hi, r.perSecond() / lo,
                    r.phase.isRead() ? "read" : "search", rateOk ? "met" : "NOT met", p95,
                    latOk ? "met" : "NOT met", r.errors > 0 ? "  [errors: not valid]" : "");
        }
        System.out.println(allMet ? "\nTarget: met by every phase." : "\nTarget: NOT met by every phase (see above).");
    }

    // ------------------------------------------------------------------------------------------------ environment

    void printEnvironment() {
        System.out.println("Kiroku search benchmark");
        System.out.println("  date (UTC) : " + DateTimeFormatter.ISO_INSTANT.format(Instant.now().truncatedTo(ChronoUnit.SECONDS)));
        System.out.println("  commit     : " + gitRevision());
        System.out.println("  nproc      : " + nproc());
        System.out.println("  memory     : " + memTotal());
        String cpu = cpuModel();
        if (cpu != null) System.out.println("  cpu        : " + cpu);
        System.out.println("  bench JVM  : " + System.getProperty("java.version") + ", max heap "
                + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB");
        System.out.println("  server     : " + o.base + (o.noAuth ? " (no auth)" : ""));
        System.out.println("  clients    : " + o.clients + ", " + (o.requests > 0 ? o.requests + " requests" : o.seconds + " s")
                + " per phase after " + o.warmupSeconds + " s warm-up; before the first phase a warm-up pass of "
                + o.warmupPass + " s in all" + (o.dryRun ? " (dry run: no timed phases)" : ""));
        System.out.println("  sample     : " + o.patientsSample + " patients, " + o.codesPerPatient + " LOINC code(s) each");
        System.out.println("  phases     : " + String.join(", ", o.phases.stream().map(p -> p.label).toList()));
        System.out.println("  seed       : " + seed);
    }

    void printServer() {
        try {
            Object cs = http.getJson(http.fhirUri("metadata"), "metadata");
            if (cs instanceof Map<?, ?> m && m.get("software") instanceof Map<?, ?> sw) {
                System.out.println("server software: " + sw.get("name") + " " + sw.get("version") + ", FHIR "
                        + m.get("fhirVersion"));
            }
        } catch (Fatal e) {
            System.out.println("server software: unknown (" + e.getMessage() + ")");
        }
    }

    static String run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
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

    // ------------------------------------------------------------------------------------------------ HTTP

    /** What a timed request returned: an error description (null if fine), result entries, body size. */
    record Outcome(String error, int entries, int bytes) {}

    static final class Http {
        final Options o;
        final HttpClient client;
        final String fhirBase;
        final Tokens tokens;
        final AtomicLong retries401 = new AtomicLong();
        /** When set, timed requests carry this person's token (not refreshed: the run must fit its lifetime). */
        volatile String personToken;
        /** The enrolled terminal's credential the person's requests present (X-Kiroku-Device), if any. */
        volatile String personDevice;

        Http(Options o) {
            this.o = o;
            this.client = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10))
                    .build();
            this.fhirBase = o.base + "/fhir/";
            this.tokens = o.noAuth ? null : new Tokens(client, URI.create(o.base + "/oauth2/token"), o.clientId, o.clientSecret);
        }

        URI fhirUri(String path) { return URI.create(fhirBase + path); }

        /** GET with the bearer token; one token refresh and retry after a 401. */
        HttpResponse<byte[]> get(URI uri, boolean strict) throws IOException, InterruptedException {
            String person = personToken;
            if (person != null) {
                HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(o.timeoutSeconds))
                        .header("Accept", "application/fhir+json").header("Authorization", "Bearer " + person).GET();
                if (personDevice != null) b.header("X-Kiroku-Device", personDevice);
                if (strict) b.header("Prefer", "handling=strict");
                return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            }
            String token = o.noAuth ? null : tokens.get();
            for (int attempt = 0; ; attempt++) {
                HttpRequest.Builder b = HttpRequest.newBuilder(uri)
                        .timeout(Duration.ofSeconds(o.timeoutSeconds))
                        .header("Accept", "application/fhir+json")
                        .GET();
                if (token != null) b.header("Authorization", "Bearer " + token);
                if (strict) b.header("Prefer", "handling=strict");
                HttpResponse<byte[]> resp = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
                if (resp.statusCode() == 401 && attempt == 0 && token != null) {
                    retries401.incrementAndGet();
                    token = tokens.refreshAfter401(token);
                    continue;
                }
                return resp;
            }
        }

        /** Discovery: a 200 with JSON, fully parsed, or Fatal. */
        Object getJson(URI uri, String what) {
            HttpResponse<byte[]> resp;
            try {
                resp = get(uri, true);
            } catch (IOException e) {
                throw new Fatal(what + ": GET " + uri + " failed: " + describe(e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Fatal(what + ": interrupted");
            }
            if (resp.statusCode() != 200) {
                throw new Fatal(what + ": GET " + uri + " returned HTTP " + resp.statusCode() + ": " + snippet(resp.body()));
            }
            try {
                return new Scan(resp.body()).parseDocument();
            } catch (IllegalArgumentException e) {
                throw new Fatal(what + ": GET " + uri + ": " + e.getMessage());
            }
        }

        /** A timed request; the response is checked with a light scan (no object tree). */
        Outcome timedGet(Query q, Phase phase) throws InterruptedException {
            HttpResponse<byte[]> resp;
            try {
                resp = get(q.uri(), !phase.isRead());
            } catch (IOException e) {
                return new Outcome("I/O error: " + describe(e), 0, 0);
            } catch (Fatal e) {
                return new Outcome("token: " + e.getMessage(), 0, 0);
            }
            byte[] body = resp.body();
            if (resp.statusCode() != 200) return new Outcome("HTTP " + resp.statusCode() + ": " + snippet(body), 0, body.length);
            try {
                Check c = Check.scan(body, phase, q);
                return new Outcome(c.verdict(phase, q), c.entries, body.length);
            } catch (IllegalArgumentException e) {
                return new Outcome("HTTP 200 but " + e.getMessage() + ": " + snippet(body), 0, body.length);
            }
        }
    }

    /** Checks of a timed response (200 already): resource type, ids, result types, subjects, non-empty when expected. */
    static final class Check {
        String resourceType, bundleType, id;
        int entries;
        String wrong;   // first problem found in an entry

        /** Null if the response is what the query must return, else the problem. */
        String verdict(Phase phase, Query q) {
            if (phase.isRead()) {
                if (!phase.type.equals(resourceType)) return "HTTP 200 but resourceType " + resourceType + ", expected " + phase.type;
                if (!q.readId().equals(id)) return "HTTP 200 but id " + id + ", expected " + q.readId();
                return null;
            }
            if (!"Bundle".equals(resourceType)) return "HTTP 200 but resourceType " + resourceType + ", expected Bundle";
            if (!"searchset".equals(bundleType)) return "HTTP 200 but Bundle.type " + bundleType + ", expected searchset";
            if (wrong != null) return "HTTP 200 but " + wrong;
            if (entries > COUNT) return "HTTP 200 but " + entries + " entries on a page of _count=" + COUNT;
            if (phase.mustMatch && entries == 0) return "HTTP 200 but no entries (the query was built from data the server holds)";
            return null;
        }

        static Check scan(byte[] body, Phase phase, Query q) {
            Check c = new Check();
            Scan s = new Scan(body);
            String expectedSubject = q.patientId() == null ? null : "Patient/" + q.patientId();
            s.ws();
            s.object(key -> {
                switch (key) {
                    case "resourceType" -> c.resourceType = s.string();
                    case "type" -> c.bundleType = s.string();
                    case "id" -> c.id = s.string();
                    case "entry" -> {
                        if (phase.isRead()) {
                            s.skipValue(0);
                            return;
                        }
                        s.array(() -> {
                            c.entries++;
                            String[] rt = new String[1], subject = new String[1];
                            s.object(ek -> {
                                if (!ek.equals("resource")) {
                                    s.skipValue(0);
                                    return;
                                }
                                s.object(rk -> {
                                    switch (rk) {
                                        case "resourceType" -> rt[0] = s.string();
                                        case "subject" -> s.object(sk -> {
                                            if (sk.equals("reference")) subject[0] = s.string(); else s.skipValue(0);
                                        });
                                        default -> s.skipValue(0);
                                    }
                                });
                            });
                            if (c.wrong == null && phase.type != null && !phase.type.equals(rt[0])) {
                                c.wrong = "an entry of type " + rt[0] + ", expected " + phase.type;
                            }
                            if (c.wrong == null && expectedSubject != null && !expectedSubject.equals(subject[0])) {
                                c.wrong = "an entry with subject " + subject[0] + ", expected " + expectedSubject;
                            }
                        });
                    }
                    default -> s.skipValue(0);
                }
            });
            s.ws();
            if (!s.atEnd()) throw new IllegalArgumentException("trailing characters after the JSON value");
            return c;
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
            String cred = URLEncoder.encode(id == null ? "" : id, StandardCharsets.UTF_8) + ":"
                    + URLEncoder.encode(secret == null ? "" : secret, StandardCharsets.UTF_8);
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
            Object n;
            try {
                n = new Scan(resp.body()).parseDocument();
            } catch (IllegalArgumentException e) {
                throw new Fatal("token response is not JSON: " + snippet(resp.body()));
            }
            String at = n instanceof Map<?, ?> m ? str(m.get("access_token")) : null;
            if (at == null || at.isEmpty()) throw new Fatal("token response has no access_token: " + snippet(resp.body()));
            long e = 300;
            Object exp = ((Map<?, ?>) n).get("expires_in");
            if (exp instanceof Double d) e = d.longValue();
            else if (exp instanceof String s) {
                try {
                    e = Long.parseLong(s);
                } catch (NumberFormatException ignored) {
                    // keep the default
                }
            }
            token = at;
            expiresIn = e;
            // refresh when within 60 s of expiry (lifetimes of 60 s or less: at half-life)
            long refreshAfter = e > 60 ? e - 60 : Math.max(1, e / 2);
            refreshAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(refreshAfter);
            fetches.incrementAndGet();
        }
    }

    // ------------------------------------------------------------------------------------------------ tiny JSON

    /**
     * A small strict JSON reader over UTF-8 bytes (the structural characters are ASCII, so scanning bytes is safe):
     * {@link #parseDocument()} builds Map/List/String/Double/Boolean/null for discovery; the timed checks walk objects
     * and arrays with callbacks and skip everything they do not look at, without building a tree.
     */
    static final class Scan {
        interface Field { void value(String key); }

        interface Item { void value(); }

        private final byte[] b;
        private int i;

        Scan(byte[] b) { this.b = b; }

        boolean atEnd() { return i >= b.length; }

        private IllegalArgumentException err(String m) {
            return new IllegalArgumentException("malformed JSON: " + m + " at offset " + i);
        }

        void ws() {
            while (i < b.length) {
                byte c = b[i];
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') i++; else break;
            }
        }

        private byte peek() {
            if (i >= b.length) throw err("unexpected end");
            return b[i];
        }

        private void expect(char c) {
            if (i >= b.length || b[i] != c) throw err("expected '" + c + "'");
            i++;
        }

        /** An object at the cursor; {@code f} must consume each value. */
        void object(Field f) {
            ws();
            expect('{');
            ws();
            if (peek() == '}') {
                i++;
                return;
            }
            while (true) {
                ws();
                String key = string();
                ws();
                expect(':');
                ws();
                f.value(key);
                ws();
                if (peek() == ',') {
                    i++;
                    continue;
                }
                expect('}');
                return;
            }
        }

        /** An array at the cursor; {@code f} must consume each item. */
        void array(Item f) {
            ws();
            expect('[');
            ws();
            if (peek() == ']') {
                i++;
                return;
            }
            while (true) {
                ws();
                f.value();
                ws();
                if (peek() == ',') {
                    i++;
                    continue;
                }
                expect(']');
                return;
            }
        }

        String string() {
            ws();
            expect('"');
            int start = i;
            StringBuilder sb = null;
            while (true) {
                if (i >= b.length) throw err("unterminated string");
                byte c = b[i];
                if (c == '"') {
                    String s = sb == null ? new String(b, start, i - start, StandardCharsets.UTF_8)
                            : sb.append(new String(b, start, i - start, StandardCharsets.UTF_8)).toString();
                    i++;
                    return s;
                }
                if (c >= 0 && c < 0x20) throw err("control character in string");
                if (c == '\\') {
                    if (sb == null) sb = new StringBuilder();
                    sb.append(new String(b, start, i - start, StandardCharsets.UTF_8));
                    if (i + 1 >= b.length) throw err("bad escape");
                    char e = (char) b[i + 1];
                    switch (e) {
                        case '"', '\\', '/' -> sb.append(e);
                        case 'b' -> sb.append('\b');
                        case 'f' -> sb.append('\f');
                        case 'n' -> sb.append('\n');
                        case 'r' -> sb.append('\r');
                        case 't' -> sb.append('\t');
                        case 'u' -> {
                            if (i + 6 > b.length) throw err("bad \\u escape");
                            try {
                                sb.append((char) Integer.parseInt(new String(b, i + 2, 4, StandardCharsets.US_ASCII), 16));
                            } catch (NumberFormatException x) {
                                throw err("bad \\u escape");
                            }
                            i += 4;
                        }
                        default -> throw err("bad escape \\" + e);
                    }
                    i += 2;
                    start = i;
                    continue;
                }
                i++;
            }
        }

        private void skipString() {
            expect('"');
            while (true) {
                if (i >= b.length) throw err("unterminated string");
                byte c = b[i++];
                if (c == '"') return;
                if (c == '\\') i++;
                else if (c >= 0 && c < 0x20) throw err("control character in string");
            }
        }

        void skipValue(int depth) {
            if (depth > 200) throw err("nesting too deep");
            ws();
            switch (peek()) {
                case '{' -> object(k -> skipValue(depth + 1));
                case '[' -> array(() -> skipValue(depth + 1));
                case '"' -> skipString();
                default -> scalar();
            }
        }

        private Object scalar() {
            int start = i;
            while (i < b.length) {
                byte c = b[i];
                if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
                        || (c >= 'a' && c <= 'z')) i++; else break;
            }
            String t = new String(b, start, i - start, StandardCharsets.US_ASCII);
            switch (t) {
                case "true": return Boolean.TRUE;
                case "false": return Boolean.FALSE;
                case "null": return null;
                default:
                    try {
                        if (t.isEmpty() || !(t.charAt(0) == '-' || Character.isDigit(t.charAt(0)))) throw new NumberFormatException();
                        return Double.parseDouble(t);
                    } catch (NumberFormatException e) {
                        i = start;
                        throw err("unexpected '" + t + "'");
                    }
            }
        }

        /** The whole input as Map/List/String/Double/Boolean/null. */
        Object parseDocument() {
            Object v = parse(0);
            ws();
            if (!atEnd()) throw err("trailing characters");
            return v;
        }

        private Object parse(int depth) {
            if (depth > 200) throw err("nesting too deep");
            ws();
            switch (peek()) {
                case '{': {
                    Map<String, Object> m = new LinkedHashMap<>();
                    object(k -> m.put(k, parse(depth + 1)));
                    return m;
                }
                case '[': {
                    List<Object> l = new ArrayList<>();
                    array(() -> l.add(parse(depth + 1)));
                    return l;
                }
                case '"':
                    return string();
                default:
                    return scalar();
            }
        }
    }
}
