import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The chart benchmark (issue 11: "the chart of a patient with 2,000 resources opens in under 1 second, server
 * time"). With a system client it stores one patient with --resources resources (laboratory results, problems,
 * medications, allergies, encounters, documents, in transaction bundles) and a CareTeam naming the bench
 * practitioner; the person (an account whose FHIR resource is Practitioner/bench-doctor) logs in to the pages for
 * the first time; then it opens the chart --warmup times untimed and --rounds times timed, one after another, and
 * prints the times (request sent until the whole page is read, on this host: the server's time plus the loopback).
 * Then it stores a second patient with --print-resources resources (500) and times the page's printout of that chart
 * (GET /patients/{id}/print.pdf, --print-rounds times after one untimed) — the "PDF of a 500-resource chart in
 * under 5 seconds" on a running server.
 *
 *   javac -d DIR bench/PersonToken.java bench/ChartBench.java && java -cp DIR ChartBench --base URL --client-id ID
 *        --client-secret S --username U --one-time-password P [--resources 2000] [--warmup 3] [--rounds 20]
 */
public class ChartBench {

    private static final String[] TESTS = {"HbA1c", "血糖", "AST", "ALT", "γ-GTP", "クレアチニン", "eGFR", "尿酸",
            "LDLコレステロール", "HDLコレステロール", "中性脂肪", "白血球数", "赤血球数", "ヘモグロビン", "血小板数", "CRP",
            "ナトリウム", "カリウム", "総蛋白", "アルブミン"};

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new LinkedHashMap<>(Map.of("resources", "2000", "warmup", "3", "rounds", "20"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        for (String need : List.of("base", "client-id", "client-secret", "username", "one-time-password")) {
            if (!o.containsKey(need)) {
                System.err.println("ChartBench: --" + need + " is required");
                System.exit(2);
            }
        }
        String base = o.get("base").replaceAll("/+$", "");
        int resources = Integer.parseInt(o.get("resources"));
        HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
        String system = PersonToken.systemToken(http, base, o.get("client-id"), o.get("client-secret"));

        long t0 = System.nanoTime();
        String patient = store(http, base, system, resources);
        System.out.printf("ChartBench: Patient/%s with %d resources stored in %.1f s%n", patient, resources,
                (System.nanoTime() - t0) / 1e9);

        PersonToken.Browser b = new PersonToken.Browser(base);
        PersonToken.firstLogin(b, o.get("username"), o.get("one-time-password"));
        int warmup = Integer.parseInt(o.get("warmup"));
        int rounds = Integer.parseInt(o.get("rounds"));
        double[] ms = new double[rounds];
        int size = 0;
        for (int i = -warmup; i < rounds; i++) {
            long start = System.nanoTime();
            HttpResponse<String> r = b.http.send(HttpRequest.newBuilder(URI.create(base + "/patients/" + patient))
                    .header("Accept", "text/html").GET().build(), HttpResponse.BodyHandlers.ofString());
            double took = (System.nanoTime() - start) / 1e6;
            if (r.statusCode() != 200 || !r.body().contains("id=\"patient-name\"")) {
                throw new IllegalStateException("the chart did not open: HTTP " + r.statusCode());
            }
            int entries = r.body().split("data-version=", -1).length - 1;
            if (i == -warmup) {
                System.out.printf("ChartBench: the chart lists %d entries and a results table (%d KB of HTML)%n", entries,
                        r.body().length() / 1024);
            }
            if (i >= 0) {
                ms[i] = took;
                size = r.body().length();
            }
        }
        report("chart", resources, ms, size);

        // the printout of a --print-resources chart from the page (a warm server: as a clinician prints)
        int printed = Integer.parseInt(o.getOrDefault("print-resources", "500"));
        int printRounds = Integer.parseInt(o.getOrDefault("print-rounds", "5"));
        String small = store(http, base, system, printed);
        double[] pms = new double[printRounds];
        int bytes = 0;
        for (int i = -1; i < printRounds; i++) {
            long start = System.nanoTime();
            HttpResponse<byte[]> r = b.http.send(HttpRequest.newBuilder(URI.create(base + "/patients/" + small
                    + "/print.pdf")).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            double took = (System.nanoTime() - start) / 1e6;
            if (r.statusCode() != 200 || r.body().length < 5 || r.body()[0] != '%') {
                throw new IllegalStateException("the printout failed: HTTP " + r.statusCode());
            }
            if (i >= 0) {
                pms[i] = took;
                bytes = r.body().length;
            }
        }
        report("print.pdf", printed, pms, bytes);
    }

    private static void report(String what, int resources, double[] ms, int size) {
        Arrays.sort(ms);
        int n = ms.length;
        System.out.printf("ChartBench: %s, %d resources, %d rounds: p50 %.0f ms, p95 %.0f ms, max %.0f ms, min %.0f ms"
                + " (%d KB)%n", what, resources, n, ms[n / 2], ms[(int) Math.ceil(n * 0.95) - 1], ms[n - 1], ms[0],
                size / 1024);
    }

    /** The patient, the care team, and the resources in transaction bundles of 250; returns the patient's id. */
    static String store(HttpClient http, String base, String token, int resources) throws Exception {
        PersonToken.fhir(http, base, token, "PUT", "Practitioner/" + PersonToken.PRACTITIONER,
                "{\"resourceType\":\"Practitioner\",\"id\":\"" + PersonToken.PRACTITIONER + "\"}");
        String created = PersonToken.fhir(http, base, token, "POST", "Patient", "{\"resourceType\":\"Patient\",\"name\":["
                + "{\"family\":\"記録\",\"given\":[\"太郎\"]},{\"extension\":[{\"url\":"
                + "\"http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation\",\"valueCode\":\"SYL\"}],"
                + "\"family\":\"キロク\",\"given\":[\"タロウ\"]}],\"gender\":\"male\",\"birthDate\":\"1950-01-01\"}");
        String patient = PersonToken.field(created, "id");
        PersonToken.fhir(http, base, token, "POST", "CareTeam", "{\"resourceType\":\"CareTeam\",\"status\":\"active\","
                + "\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"participant\":[{\"member\":{\"reference\":"
                + "\"Practitioner/" + PersonToken.PRACTITIONER + "\"}}]}");
        Random random = new Random(11);
        List<String> entries = new ArrayList<>();
        for (int i = 0; i < resources; i++) {
            entries.add(resource(i, patient, random));
            if (entries.size() == 250 || i == resources - 1) {
                StringBuilder bundle = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
                for (int e = 0; e < entries.size(); e++) {
                    String r = entries.get(e);
                    String type = r.replaceAll("^\\{\"resourceType\":\"([A-Za-z]+)\".*$", "$1");
                    bundle.append(e == 0 ? "" : ",").append("{\"resource\":").append(r)
                            .append(",\"request\":{\"method\":\"POST\",\"url\":\"").append(type).append("\"}}");
                }
                PersonToken.fhir(http, base, token, "POST", "", bundle.append("]}").toString());
                entries.clear();
            }
        }
        return patient;
    }

    /** Resource i of the chart: 60% results, then problems, medications, encounters, allergies, documents. */
    private static String resource(int i, String patient, Random random) {
        String subject = "\"subject\":{\"reference\":\"Patient/" + patient + "\"}";
        String day = java.time.LocalDate.of(2020, 1, 1).plusDays(i / 12).toString();
        int kind = i % 20;
        if (kind < 12) {
            String test = TESTS[i % TESTS.length];
            return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"category\":[{\"coding\":[{\"system\":"
                    + "\"http://terminology.hl7.org/CodeSystem/observation-category\",\"code\":\"laboratory\"}]}],"
                    + "\"code\":{\"text\":\"" + test + "\"}," + subject + ",\"effectiveDateTime\":\"" + day + "\","
                    + "\"valueQuantity\":{\"value\":" + (50 + random.nextInt(100)) / 10.0 + ",\"unit\":\"mg/dL\"},"
                    + "\"referenceRange\":[{\"low\":{\"value\":5.0},\"high\":{\"value\":12.0}}]}";
        } else if (kind < 14) {
            return "{\"resourceType\":\"Condition\"," + subject + ",\"clinicalStatus\":{\"text\":\"活動性\"},"
                    + "\"code\":{\"text\":\"病名" + i + "\"},\"onsetDateTime\":\"" + day + "\"}";
        } else if (kind < 16) {
            return "{\"resourceType\":\"MedicationRequest\",\"status\":\"active\",\"intent\":\"order\"," + subject
                    + ",\"medicationCodeableConcept\":{\"text\":\"薬剤" + i + "\"},\"dosageInstruction\":[{\"text\":"
                    + "\"1日1回\"}],\"authoredOn\":\"" + day + "\"}";
        } else if (kind < 18) {
            return "{\"resourceType\":\"Encounter\",\"status\":\"finished\",\"class\":{\"system\":"
                    + "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"AMB\",\"display\":\"外来\"}," + subject
                    + ",\"period\":{\"start\":\"" + day + "T09:00:00+09:00\",\"end\":\"" + day + "T09:30:00+09:00\"}}";
        } else if (kind < 19) {
            return "{\"resourceType\":\"AllergyIntolerance\",\"patient\":{\"reference\":\"Patient/" + patient + "\"},"
                    + "\"code\":{\"text\":\"アレルゲン" + i + "\"},\"recordedDate\":\"" + day + "\"}";
        }
        return "{\"resourceType\":\"DocumentReference\",\"status\":\"current\"," + subject + ",\"type\":{\"text\":"
                + "\"経過記録\"},\"description\":\"記録" + i + "\",\"date\":\"" + day + "T10:00:00+09:00\","
                + "\"content\":[{\"attachment\":{\"contentType\":\"text/plain\",\"data\":\"5YWl6Zmi\"}}]}";
    }
}
