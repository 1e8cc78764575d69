package jp.kiroku.compliance;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The test-evidence index shipped in the jar ({@code src/main/resources/compliance/test-evidence.json}): which
 * automated tests carry which requirement tag ({@code @Tag("AUTH-07")} on a test class or method, found by scanning
 * {@code src/test/java}), and — where a surefire report of that test class was in {@code target/surefire-reports} (or
 * {@code -Dkiroku.evidence.reports=DIR}) when the index was written — its outcome and when it ran (the report file's
 * modification time: surefire's XML carries no date). This test fails when the list of tagged tests changed since the
 * index was written; outcomes and dates are not compared (they change with every run). Rewrite it with
 * {@code mvn test -Dtest=TestEvidenceIndexTest -Dkiroku.docs.write=true}, best after a full {@code mvn verify} so that
 * every outcome is there.
 */
class TestEvidenceIndexTest {

    static final Path INDEX = Path.of("src/main/resources/compliance/test-evidence.json");
    private static final Pattern TAG = Pattern.compile("@Tag\\(\"([A-Z]+-\\d{2})\"\\)");
    private static final Pattern TYPE = Pattern.compile("\\b(class|record|interface|enum)\\s+(\\w+)");
    private static final Pattern METHOD = Pattern.compile("\\bvoid\\s+(\\w+)\\s*\\(");
    private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+);");

    /** One tagged test: a whole class ({@code method} null) or one method. */
    record Tagged(String requirement, String testClass, String method) implements Comparable<Tagged> {
        @Override
        public int compareTo(Tagged o) {
            return (requirement + " " + testClass + "#" + method).compareTo(o.requirement + " " + o.testClass + "#" + o.method);
        }
    }

    static Set<Tagged> scan(Path root) throws IOException {
        Set<Tagged> out = new TreeSet<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = null;
                String top = null;
                List<String> pending = new ArrayList<>();
                for (String line : Files.readAllLines(f)) {
                    Matcher p = PACKAGE.matcher(line);
                    if (p.find()) {
                        pkg = p.group(1);
                    }
                    String code = line.strip();
                    if (code.startsWith("//") || code.startsWith("*") || code.startsWith("/*")) {
                        continue;
                    }
                    Matcher t = TAG.matcher(line);
                    while (t.find()) {
                        pending.add(t.group(1));
                    }
                    Matcher m = METHOD.matcher(line);
                    Matcher c = TYPE.matcher(line);
                    if (!code.startsWith("@") && c.find() && !line.contains("(\"")) {
                        if (top == null) {
                            top = (pkg == null ? "" : pkg + ".") + c.group(2);
                        }
                        for (String r : pending) {
                            out.add(new Tagged(r, top, null));
                        }
                        pending.clear();
                    } else if (!code.startsWith("@") && m.find() && top != null) {
                        for (String r : pending) {
                            out.add(new Tagged(r, top, m.group(1)));
                        }
                        pending.clear();
                    }
                }
            }
        }
        return out;
    }

    /** A surefire report's outcome for the class or one of its methods, and when it ran; null when not run. */
    static ObjectNode outcome(Path reports, Tagged t) throws Exception {
        Path report = reports.resolve("TEST-" + t.testClass() + ".xml");
        ObjectNode n = CatalogSyncTest.JSON.createObjectNode();
        if (!Files.exists(report)) {
            return n.put("result", "not run");
        }
        NodeList cases;
        try {
            cases = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(report.toFile())
                    .getElementsByTagName("testcase");
        } catch (org.xml.sax.SAXException e) {
            // a report cut short (a run that was killed or ran out of disk, or one still being written): no outcome
            return n.put("result", "not run");
        }
        int passed = 0;
        int failed = 0;
        int skipped = 0;
        for (int i = 0; i < cases.getLength(); i++) {
            Element e = (Element) cases.item(i);
            String name = e.getAttribute("name");
            if (t.method() != null && !(name.equals(t.method()) || name.startsWith(t.method() + "(")
                    || name.startsWith(t.method() + "["))) {
                continue;
            }
            if (e.getElementsByTagName("failure").getLength() + e.getElementsByTagName("error").getLength() > 0) {
                failed++;
            } else if (e.getElementsByTagName("skipped").getLength() > 0) {
                skipped++;
            } else {
                passed++;
            }
        }
        String result = failed > 0 ? "failed" : passed > 0 ? "passed" : skipped > 0 ? "skipped" : "not run";
        n.put("result", result).put("passed", passed).put("failed", failed).put("skipped", skipped);
        if (!result.equals("not run")) {
            n.put("ran", Files.getLastModifiedTime(report).toInstant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        }
        return n;
    }

    @Test
    void theShippedIndexListsEveryTaggedTest() throws Exception {
        Set<Tagged> tagged = scan(Path.of("src/test/java"));
        assertThat(tagged).as("tagged tests in src/test/java").hasSizeGreaterThan(50);
        JsonNode catalog = CatalogSyncTest.JSON.readTree(Files.readString(CatalogSyncTest.CATALOG));
        Set<String> ids = new TreeSet<>();
        catalog.get("requirements").forEach(r -> ids.add(r.get("id").asText()));
        assertThat(tagged).as("every requirement tag names a requirement of the catalog")
                .allMatch(t -> ids.contains(t.requirement()));

        Path reports = Path.of(System.getProperty("kiroku.evidence.reports", "target/surefire-reports"));
        Map<String, ArrayNode> byRequirement = new TreeMap<>();
        ObjectNode index = CatalogSyncTest.JSON.createObjectNode();
        index.put("about", "Automated tests by requirement tag (@Tag on a test class or method in src/test/java). result"
                + " and ran come from the surefire report of the test class present when this index was written (ran: the"
                + " report file's time); 'not run' means no report was there then, not that the test fails.");
        index.put("generated", Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        for (Tagged t : tagged) {
            ObjectNode n = byRequirement.computeIfAbsent(t.requirement(), r -> CatalogSyncTest.JSON.createArrayNode()).addObject();
            n.put("test", t.testClass());
            if (t.method() != null) {
                n.put("method", t.method());
            }
            n.setAll(outcome(reports, t));
        }
        ObjectNode reqs = index.putObject("requirements");
        byRequirement.forEach(reqs::set);
        if (Boolean.getBoolean("kiroku.docs.write")) {
            Files.writeString(INDEX, CatalogSyncTest.JSON.writeValueAsString(index) + "\n");
        }
        assertThat(Files.exists(INDEX)).as(INDEX + " is missing; run mvn test -Dtest=TestEvidenceIndexTest"
                + " -Dkiroku.docs.write=true").isTrue();
        assertThat(listed(CatalogSyncTest.JSON.readTree(Files.readString(INDEX)))).as(INDEX + " is out of date; run mvn test"
                + " -Dtest=TestEvidenceIndexTest -Dkiroku.docs.write=true (after the tests, for their outcomes)")
                .isEqualTo(listed(index));
    }

    /** The tests an index lists, without outcomes and dates. */
    private static Set<String> listed(JsonNode index) {
        Set<String> out = new TreeSet<>();
        index.get("requirements").properties().forEach(e -> e.getValue().forEach(t -> out.add(e.getKey() + " "
                + t.get("test").asText() + "#" + (t.has("method") ? t.get("method").asText() : ""))));
        return out;
    }
}
