package jp.kiroku.compliance;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The requirement catalog shipped in the jar ({@code compliance/catalog.json}): every requirement of the guideline
 * catalog with its title and whether the system can show it (system) or only the institution can answer it
 * (organisational), and the items of the MHLW cybersecurity checklist with the requirements they map to.
 */
public final class Catalog {

    /** A requirement of shared/guideline/requirements.md. {@code term} is its Japanese key term, when it has one. */
    public record Requirement(String id, String section, String title, String term, String level, String side) {
        public boolean organisational() {
            return "organisational".equals(side);
        }
    }

    /**
     * An item of the checklist: {@code id} as the checklist numbers it (2-⑤), {@code key} in plain letters for the
     * command line (CL-2-5); {@code question}: the officer answers it (also when requirements are computed).
     */
    public record ChecklistItem(String id, String key, String section, String titleJa, String titleEn,
                                List<String> requirements, boolean question) {
        public String title(String lang) {
            return "en".equals(lang) ? titleEn : titleJa;
        }
    }

    private static final String CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳";

    private final String source;
    private final List<Requirement> requirements;
    private final List<ChecklistItem> checklist;

    private Catalog(String source, List<Requirement> requirements, List<ChecklistItem> checklist) {
        this.source = source;
        this.requirements = List.copyOf(requirements);
        this.checklist = List.copyOf(checklist);
    }

    /** The catalog shipped in the jar. */
    public static Catalog shipped() {
        try (InputStream in = Catalog.class.getResourceAsStream("/compliance/catalog.json")) {
            JsonNode root = JsonMapper.builder().build().readTree(in);
            List<Requirement> reqs = new ArrayList<>();
            for (JsonNode r : root.get("requirements")) {
                reqs.add(new Requirement(r.get("id").asText(), r.get("section").asText(), r.get("title").asText(),
                        r.get("term").isNull() ? null : r.get("term").asText(), r.get("level").asText(),
                        r.get("side").asText()));
            }
            List<ChecklistItem> items = new ArrayList<>();
            for (JsonNode c : root.get("checklist")) {
                List<String> mapped = new ArrayList<>();
                c.get("requirements").forEach(x -> mapped.add(x.asText()));
                String id = c.get("id").asText();
                items.add(new ChecklistItem(id, key(id), c.get("section").asText(), c.get("title_ja").asText(),
                        c.get("title_en").asText(), mapped, c.get("question").asBoolean()));
            }
            return new Catalog(root.get("source").asText(), reqs, items);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read compliance/catalog.json", e);
        }
    }

    /** The checklist number in plain letters: 2-⑤ is CL-2-5, R7-2fa is CL-R7-2fa. */
    static String key(String id) {
        StringBuilder out = new StringBuilder("CL-");
        for (char c : id.toCharArray()) {
            int n = CIRCLED.indexOf(c);
            out.append(n >= 0 ? String.valueOf(n + 1) : String.valueOf(c));
        }
        return out.toString();
    }

    public String source() {
        return source;
    }

    public List<Requirement> requirements() {
        return requirements;
    }

    public List<ChecklistItem> checklist() {
        return checklist;
    }

    public Optional<Requirement> requirement(String id) {
        return requirements.stream().filter(r -> r.id().equalsIgnoreCase(id)).findFirst();
    }

    /** A checklist item by its key (CL-2-5) or as numbered (2-⑤). */
    public Optional<ChecklistItem> checklistItem(String idOrKey) {
        return checklist.stream().filter(c -> c.key().equalsIgnoreCase(idOrKey) || c.id().equals(idOrKey)).findFirst();
    }
}
