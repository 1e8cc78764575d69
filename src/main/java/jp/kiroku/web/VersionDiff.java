package jp.kiroku.web;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Two versions of a record side by side (issue 11, item 1): every element path with its value in each, marked as
 * the same, changed, added or removed. The server's own bookkeeping (version id, last updated) is left out: the
 * version list shows it.
 */
final class VersionDiff {

    enum Change { SAME, CHANGED, ADDED, REMOVED }

    record Row(String path, String before, String after, Change change) {
        public String css() {
            return change.name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Set<String> BOOKKEEPING = Set.of("meta.versionId", "meta.lastUpdated");

    private VersionDiff() {
    }

    /** The rows of {@code before} against {@code after} (FHIR JSON), in the order the elements appear. */
    static List<Row> of(String before, String after) {
        Map<String, String> a = flatten(before);
        Map<String, String> b = flatten(after);
        List<Row> rows = new ArrayList<>();
        for (var e : a.entrySet()) {
            String now = b.get(e.getKey());
            rows.add(new Row(e.getKey(), e.getValue(), now == null ? "" : now, now == null ? Change.REMOVED
                    : now.equals(e.getValue()) ? Change.SAME : Change.CHANGED));
        }
        b.forEach((path, value) -> {
            if (!a.containsKey(path)) {
                rows.add(new Row(path, "", value, Change.ADDED));
            }
        });
        return rows;
    }

    /** Path → value of every leaf: {@code code.coding[0].display → ペニシリン}. */
    private static Map<String, String> flatten(String json) {
        Map<String, String> out = new LinkedHashMap<>();
        if (json != null) {
            walk("", JSON.readTree(json), out);
        }
        return out;
    }

    private static void walk(String path, JsonNode node, Map<String, String> out) {
        if (node.isObject()) {
            for (var e : node.properties()) {
                walk(path.isEmpty() ? e.getKey() : path + "." + e.getKey(), e.getValue(), out);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                walk(path + "[" + i + "]", node.get(i), out);
            }
        } else if (!BOOKKEEPING.contains(path)) {
            out.put(path, node.asString());
        }
    }
}
