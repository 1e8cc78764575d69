package jp.kiroku;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * docs/configuration.md lists every kiroku.* setting with its default, generated from the code (the configuration
 * metadata that Spring Boot's processor derives from KirokuProperties). Run with -Dkiroku.docs.write=true to rewrite it.
 */
class ConfigurationDocsTest {

    private static final String START = "<!-- generated from KirokuProperties: start -->";
    private static final String END = "<!-- generated from KirokuProperties: end -->";

    @Test
    void theSettingsTableMatchesTheCode() throws Exception {
        JsonNode meta = new ObjectMapper().readTree(getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json"));
        List<JsonNode> props = new ArrayList<>();
        meta.get("properties").forEach(props::add);
        props.sort(Comparator.comparing(p -> p.get("name").asText()));
        StringBuilder table = new StringBuilder("| property | environment variable | default | meaning |\n|---|---|---|---|\n");
        for (JsonNode p : props) {
            String name = p.get("name").asText();
            String env = name.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
            String def = p.has("defaultValue") ? "`" + p.get("defaultValue").asText() + "`" : "—";
            if (name.equals("kiroku.keys-dir")) {
                def = "`<data-dir>/keys`";
            }
            String desc = p.has("description") ? p.get("description").asText().replace("|", "\\|") : "";
            table.append("| `").append(name).append("` | `").append(env).append("` | ").append(def).append(" | ")
                    .append(desc).append(" |\n");
        }
        Path doc = Path.of("docs/configuration.md");
        String text = Files.readString(doc);
        int s = text.indexOf(START);
        int e = text.indexOf(END);
        assertThat(s).as("markers in " + doc).isNotNegative();
        assertThat(e).isGreaterThan(s);
        String expected = text.substring(0, s + START.length()) + "\n" + table + text.substring(e);
        if (Boolean.getBoolean("kiroku.docs.write")) {
            Files.writeString(doc, expected);
        }
        assertThat(text).as("docs/configuration.md is out of date; run mvn test -Dtest=ConfigurationDocsTest -Dkiroku.docs.write=true")
                .isEqualTo(expected);
    }
}
