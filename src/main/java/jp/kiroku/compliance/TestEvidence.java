package jp.kiroku.compliance;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The automated tests that prove each requirement, from the index shipped in the jar
 * ({@code compliance/test-evidence.json}, written at build time by TestEvidenceIndexTest from the tests' {@code @Tag}s
 * and the surefire reports of that build): per test, its last recorded outcome and when it ran.
 */
public final class TestEvidence {

    /** One tagged test: a class (method null) or one method; {@code ran} null when no report was there. */
    public record TestRef(String test, String method, String result, String ran) {
        public boolean failed() {
            return "failed".equals(result);
        }
    }

    private final String generated;
    private final Map<String, List<TestRef>> byRequirement;

    private TestEvidence(String generated, Map<String, List<TestRef>> byRequirement) {
        this.generated = generated;
        this.byRequirement = byRequirement;
    }

    static TestEvidence shipped() {
        try (InputStream in = TestEvidence.class.getResourceAsStream("/compliance/test-evidence.json")) {
            if (in == null) {
                return new TestEvidence(null, Map.of());
            }
            JsonNode root = JsonMapper.builder().build().readTree(in);
            Map<String, List<TestRef>> out = new LinkedHashMap<>();
            root.get("requirements").properties().forEach(e -> {
                List<TestRef> tests = new ArrayList<>();
                for (JsonNode t : e.getValue()) {
                    tests.add(new TestRef(t.get("test").asText(), t.has("method") ? t.get("method").asText() : null,
                            t.get("result").asText(), t.has("ran") ? t.get("ran").asText() : null));
                }
                out.put(e.getKey(), List.copyOf(tests));
            });
            return new TestEvidence(root.get("generated").asText(), out);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read compliance/test-evidence.json", e);
        }
    }

    /** When the index was written (UTC), or null when the jar has none. */
    String generated() {
        return generated;
    }

    List<TestRef> tests(String requirement) {
        return byRequirement.getOrDefault(requirement, List.of());
    }
}
