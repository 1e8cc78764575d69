import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Chart printing (issue 11, item 2: "PDF of a 500-resource chart in under 5 seconds"). Starts {@code java -jar JAR
 * serve} on a fresh data directory, stores one patient's chart of N resources (one transaction; Japanese names,
 * encounters, conditions, allergies, prescriptions, observations with reference ranges, documents with a narrative),
 * then runs {@code kiroku print --patient ID} as a separate process (as an operator would) several times. Reports the
 * command's own time for the printout (gathering every version with its authorship, the ledger checkpoint, layout,
 * audit: the "Printed N version(s) in X ms." line) and the process's wall time (JVM and Spring start included).
 * Everything it made is removed at the end.
 *
 *   java bench/PrintBench.java [--jar target/kiroku.jar] [--resources 500] [--runs 3] [--port 18091] [--work /tmp]
 *
 * See bench/README.md ("Print benchmark").
 */
public class PrintBench {

    private static final Pattern STAGES = Pattern.compile("versions: (checkpoint.*) \\(\\d+ bytes\\)");
    private static final Pattern PRINTED = Pattern.compile("Printed (\\d+) version\\(s\\) in (\\d+) ms");

    public static void main(String[] args) throws Exception {
        Path jar = Path.of("target/kiroku.jar").toAbsolutePath();
        int resources = 500;
        int runs = 3;
        int port = 18091;
        Path work = Path.of(System.getProperty("java.io.tmpdir"));
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--jar" -> jar = Path.of(args[++i]).toAbsolutePath();
                case "--resources" -> resources = Integer.parseInt(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--work" -> work = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: java bench/PrintBench.java [--jar JAR] [--resources N] [--runs N] [--port N] [--work DIR]");
                    System.exit(2);
                }
            }
        }
        Path dir = Files.createTempDirectory(work, "kiroku-print-bench-");
        Path data = dir.resolve("data");
        String secret = secret();
        ProcessBuilder serve = new ProcessBuilder("java", "-Xmx1g", "-jar", jar.toString(), "serve", "--data-dir",
                data.toString(), "--port", String.valueOf(port)).redirectErrorStream(true)
                .redirectOutput(dir.resolve("server.log").toFile());
        serve.environment().put("KIROKU_BOOTSTRAP_CLIENT_ID", "print-bench");
        serve.environment().put("KIROKU_BOOTSTRAP_CLIENT_SECRET", secret);
        Process server = serve.start();
        try {
            String base = "http://127.0.0.1:" + port;
            HttpClient http = HttpClient.newHttpClient();
            waitForHealth(http, base, server);
            waitForWarmUp(dir.resolve("server.log"));
            String token = token(http, base, secret);
            String patient = "bench-" + Long.toHexString(System.nanoTime());
            long t0 = System.nanoTime();
            HttpResponse<String> stored = http.send(HttpRequest.newBuilder(URI.create(base + "/fhir"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/fhir+json")
                    .POST(HttpRequest.BodyPublishers.ofString(chart(patient, resources))).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (stored.statusCode() != 200) {
                throw new IllegalStateException("transaction: HTTP " + stored.statusCode() + " " + stored.body());
            }
            System.out.printf("stored a chart of %d resources in %d ms%n", resources, (System.nanoTime() - t0) / 1_000_000);
            System.out.println("| run | versions | print (in the command) ms | of which | process wall ms | PDF bytes |");
            System.out.println("|---|---:|---:|---|---:|---:|");
            for (int run = 1; run <= runs; run++) {
                Path pdf = dir.resolve("chart-" + run + ".pdf");
                long start = System.nanoTime();
                Process p = new ProcessBuilder("java", "-jar", jar.toString(), "print", "--patient", patient, "--out",
                        pdf.toString(), "--data-dir", data.toString(), "--logging.level.jp.kiroku.render.Charts=debug")
                        .redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                int code = p.waitFor();
                long wall = (System.nanoTime() - start) / 1_000_000;
                Matcher m = PRINTED.matcher(out);
                if (code != 0 || !m.find()) {
                    throw new IllegalStateException("kiroku print exited " + code + ":\n" + out);
                }
                Matcher stages = STAGES.matcher(out);
                System.out.printf("| %d | %s | %s | %s | %d | %,d |%n", run, m.group(1), m.group(2),
                        stages.find() ? stages.group(1) : "?", wall, Files.size(pdf));
            }
        } finally {
            server.destroy();
            server.waitFor();
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** One patient's chart as a transaction of {@code n} resources (the Patient included), PUT with fixed ids. */
    static String chart(String patient, int n) {
        List<String> entries = new ArrayList<>();
        entries.add(entry("Patient", patient, "{\"resourceType\":\"Patient\",\"id\":\"" + patient + "\",\"identifier\":[{\"type\":"
                + "{\"text\":\"診察券番号\"},\"value\":\"" + patient + "\"}],\"name\":[" + name("IDE", "山田", "太郎") + ","
                + name("SYL", "ヤマダ", "タロウ") + "],\"gender\":\"male\",\"birthDate\":\"1950-04-01\"}"));
        String subject = "\"subject\":{\"reference\":\"Patient/" + patient + "\"}";
        for (int i = 1; i < n; i++) {
            String id = patient + "-" + i;
            String day = "2026-%02d-%02d".formatted(1 + i % 12, 1 + i % 28);
            entries.add(switch (i % 10) {
                case 0 -> entry("Encounter", id, "{\"resourceType\":\"Encounter\",\"id\":\"" + id + "\",\"status\":\"finished\","
                        + "\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"AMB\",\"display\":"
                        + "\"外来\"}," + subject + ",\"period\":{\"start\":\"" + day + "T09:00:00+09:00\",\"end\":\"" + day
                        + "T09:30:00+09:00\"},\"reasonCode\":[{\"text\":\"定期受診\"}]}");
                case 1 -> entry("Condition", id, "{\"resourceType\":\"Condition\",\"id\":\"" + id + "\",\"clinicalStatus\":{\"coding\":"
                        + "[{\"system\":\"http://terminology.hl7.org/CodeSystem/condition-clinical\",\"code\":\"active\"}]},"
                        + "\"code\":{\"coding\":[{\"system\":\"http://jpfhir.jp/fhir/core/CodeSystem/JP_ConditionDiseaseCode_MEDIS\","
                        + "\"code\":\"8833421\",\"display\":\"本態性高血圧症\"}],\"text\":\"本態性高血圧症\"}," + subject
                        + ",\"onsetDateTime\":\"" + day + "\",\"recorder\":{\"display\":\"医師 田中一郎\"}}");
                case 2 -> entry("AllergyIntolerance", id, "{\"resourceType\":\"AllergyIntolerance\",\"id\":\"" + id + "\","
                        + "\"criticality\":\"high\",\"code\":{\"text\":\"ペニシリン系抗菌薬\"},\"patient\":{\"reference\":\"Patient/"
                        + patient + "\"},\"recordedDate\":\"" + day + "\",\"reaction\":[{\"manifestation\":[{\"text\":\"全身じんましん\"}]}]}");
                case 3, 4 -> entry("MedicationRequest", id, "{\"resourceType\":\"MedicationRequest\",\"id\":\"" + id + "\","
                        + "\"status\":\"active\",\"intent\":\"order\",\"medicationCodeableConcept\":{\"coding\":[{\"system\":"
                        + "\"urn:oid:1.2.392.100495.20.2.74\",\"code\":\"107761101\",\"display\":\"アムロジピン錠5mg\"}]}," + subject
                        + ",\"authoredOn\":\"" + day + "\",\"dosageInstruction\":[{\"text\":\"1日1回 朝食後 1錠\"}]}");
                case 5 -> entry("DocumentReference", id, "{\"resourceType\":\"DocumentReference\",\"id\":\"" + id + "\",\"text\":"
                        + "{\"status\":\"generated\",\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\"><p>経過記録 " + i
                        + ": 血圧は安定。服薬継続。</p><ul><li>収縮期 128</li><li>拡張期 78</li></ul></div>\"},\"status\":\"current\","
                        + "\"type\":{\"text\":\"経過記録\"}," + subject + ",\"content\":[{\"attachment\":{\"contentType\":\"text/plain\","
                        + "\"title\":\"経過記録 " + i + "\"}}]}");
                default -> entry("Observation", id, "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"status\":\"final\","
                        + "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/observation-category\","
                        + "\"code\":\"laboratory\"}]}],\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"2823-3\","
                        + "\"display\":\"血清カリウム\"}]}," + subject + ",\"effectiveDateTime\":\"" + day + "T08:00:00+09:00\","
                        + "\"valueQuantity\":{\"value\":4." + (i % 10) + ",\"unit\":\"mmol/L\",\"system\":\"http://unitsofmeasure.org\","
                        + "\"code\":\"mmol/L\"},\"referenceRange\":[{\"low\":{\"value\":3.5,\"unit\":\"mmol/L\"},\"high\":{\"value\":5.0,"
                        + "\"unit\":\"mmol/L\"}}]}");
            });
        }
        return "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + String.join(",", entries) + "]}";
    }

    private static String entry(String type, String id, String resource) {
        return "{\"resource\":" + resource + ",\"request\":{\"method\":\"PUT\",\"url\":\"" + type + "/" + id + "\"}}";
    }

    private static String name(String representation, String family, String given) {
        return "{\"extension\":[{\"url\":\"http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation\","
                + "\"valueCode\":\"" + representation + "\"}],\"family\":\"" + family + "\",\"given\":[\"" + given + "\"]}";
    }

    private static String secret() {
        byte[] b = new byte[30];
        new SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private static String token(HttpClient http, String base, String secret) throws Exception {
        String basic = Base64.getEncoder().encodeToString(("print-bench:" + secret).getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/oauth2/token"))
                .header("Authorization", "Basic " + basic).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")).build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"").matcher(r.body());
        if (r.statusCode() != 200 || !m.find()) {
            throw new IllegalStateException("token: HTTP " + r.statusCode() + " " + r.body());
        }
        return m.group(1);
    }

    /** The server's background warm-up (validator, search extractor) takes CPU for a while: not while timing. */
    private static void waitForWarmUp(Path log) throws Exception {
        for (int i = 0; i < 240 && !Files.readString(log).contains("Background warm-up finished"); i++) {
            Thread.sleep(500);
        }
    }

    private static void waitForHealth(HttpClient http, String base, Process server) throws Exception {
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!server.isAlive()) {
                throw new IllegalStateException("the server stopped; see its log");
            }
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(base + "/actuator/health")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (java.io.IOException e) {
                // not listening yet
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("the server did not become healthy in 180 s");
    }
}
