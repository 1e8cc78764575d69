package jp.kiroku.compliance;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The shipped requirement catalog ({@code src/main/resources/compliance/catalog.json}) holds every requirement ID of
 * {@code ../shared/guideline/requirements.md} with its section, title, Japanese key term and C/D level, and every
 * numbered item of its checklist (section 3). The IDs and titles are generated from the document: run
 * {@code mvn test -Dtest=CatalogSyncTest -Dkiroku.docs.write=true} to rewrite them; whether a requirement is
 * system-side or organisational ({@code side}) and the checklist entries are kept as edited (a new ID comes in as
 * {@code unclassified}, which fails this test until someone decides).
 */
class CatalogSyncTest {

    static final Path REQUIREMENTS = Path.of("../shared/guideline/requirements.md");
    static final Path CATALOG = Path.of("src/main/resources/compliance/catalog.json");
    private static final Pattern SECTION = Pattern.compile("^### (2\\.\\d+ .+)$");
    private static final Pattern ROW = Pattern.compile("^\\| ([A-Z]+-\\d{2}) \\| (.+?) \\| ([^|]+?) \\|");
    private static final Pattern TERM = Pattern.compile("\\s*[（(]([^()（）A-Za-z]*[\\p{IsHan}\\p{IsHiragana}\\p{IsKatakana}][^()（）A-Za-z]*)[)）]");
    private static final Pattern CHECKLIST_ITEM = Pattern.compile("^- (\\d-[①-⑳])");
    static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    record Parsed(String id, String section, String title, String term, String level) {
    }

    static List<Parsed> parse(List<String> lines) {
        List<Parsed> out = new ArrayList<>();
        String section = null;
        for (String line : lines) {
            Matcher s = SECTION.matcher(line);
            if (s.matches()) {
                section = s.group(1).strip();
                continue;
            }
            if (line.startsWith("## 3.")) {
                break;
            }
            Matcher r = ROW.matcher(line);
            if (r.find() && section != null) {
                String text = r.group(2).replace("**", "").strip();
                String first = firstSentence(text);
                Matcher t = TERM.matcher(first);
                String term = t.find() ? t.group(1).strip() : null;
                out.add(new Parsed(r.group(1), section, TERM.matcher(first).replaceAll(""), term,
                        r.group(3).replace("\\", "")));
            }
        }
        return out;
    }

    /** The requirement's first sentence. */
    static String firstSentence(String text) {
        String plain = text;
        int dot = -1;
        for (int i = 0; i < plain.length() - 1; i++) {
            if (plain.charAt(i) == '.' && plain.charAt(i + 1) == ' ' && i > 0 && !Character.isDigit(plain.charAt(i - 1))
                    && !plain.substring(Math.max(0, i - 3), i).matches(".*(e\\.g|i\\.e|etc)")) {
                dot = i;
                break;
            }
        }
        String first = dot > 0 ? plain.substring(0, dot + 1) : plain;
        return first.length() > 220 ? first.substring(0, 217) + "…" : first;
    }

    static Set<String> checklistItems(List<String> lines) {
        Set<String> items = new LinkedHashSet<>();
        boolean in = false;
        for (String line : lines) {
            if (line.startsWith("## 3.")) {
                in = true;
            } else if (line.startsWith("## 4.")) {
                break;
            }
            Matcher m = CHECKLIST_ITEM.matcher(line);
            if (in && m.find()) {
                items.add(m.group(1));
            }
        }
        return items;
    }

    @Test
    void theCatalogHasEveryRequirementAndChecklistItemOfTheDocument() throws Exception {
        Assumptions.assumeTrue(Files.exists(REQUIREMENTS), REQUIREMENTS + " is not on this machine");
        List<String> lines = Files.readAllLines(REQUIREMENTS);
        List<Parsed> parsed = parse(lines);
        assertThat(parsed).as("requirement rows parsed from " + REQUIREMENTS).hasSizeGreaterThan(80);

        ObjectNode catalog = (ObjectNode) JSON.readTree(Files.readString(CATALOG));
        Map<String, String> sides = new LinkedHashMap<>();
        catalog.withArray("requirements").forEach(r -> sides.put(r.get("id").asText(), r.get("side").asText()));
        ArrayNode expected = JSON.createArrayNode();
        for (Parsed p : parsed) {
            ObjectNode n = expected.addObject();
            n.put("id", p.id()).put("section", p.section()).put("title", p.title());
            if (p.term() != null) {
                n.put("term", p.term());
            } else {
                n.putNull("term");
            }
            n.put("level", p.level()).put("side", sides.getOrDefault(p.id(), "unclassified"));
        }
        ObjectNode rewritten = catalog.deepCopy();
        rewritten.set("requirements", expected);
        if (Boolean.getBoolean("kiroku.docs.write")) {
            Files.writeString(CATALOG, JSON.writeValueAsString(rewritten) + "\n");
        }
        assertThat(catalog.get("requirements")).as(CATALOG + " is out of date with " + REQUIREMENTS
                + "; run mvn test -Dtest=CatalogSyncTest -Dkiroku.docs.write=true").isEqualTo(expected);
        assertThat(sides.values()).as("every requirement is classified system or organisational")
                .allMatch(s -> s.equals("system") || s.equals("organisational"));

        Set<String> ids = new LinkedHashSet<>();
        catalog.withArray("checklist").forEach(c -> ids.add(c.get("id").asText()));
        assertThat(ids).as("the numbered checklist items of section 3").containsAll(checklistItems(lines));
        for (JsonNode c : catalog.withArray("checklist")) {
            c.withArray("requirements").forEach(r -> assertThat(sides).as("checklist " + c.get("id")).containsKey(r.asText()));
        }
    }
}
