package jp.kiroku.access;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * One snapshot of the access tables: the role × category × action matrix, and how resource types and labels map to
 * categories. Small (a few hundred rows); read whole and cached by {@link AccessPolicy}.
 */
record Matrix(Map<String, Map<Action, Map<String, Reach>>> rules, Map<String, String> typeCategory,
              Map<String, String> labelCategory) {

    /** What a rule allows: read (read, vread, search, history), write (create, update, delete), confirm. */
    enum Action {
        READ, WRITE, CONFIRM;

        String code() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static Action of(Permission p) {
            return switch (p) {
                case READ, SEARCH -> READ;
                case CREATE, UPDATE, DELETE -> WRITE;
            };
        }
    }

    static final String UNCLASSIFIED = "unclassified";
    static final String SENSITIVE = "sensitive";

    static Matrix load(JdbcTemplate jdbc) {
        Map<String, Map<Action, Map<String, Reach>>> rules = new HashMap<>();
        jdbc.query("SELECT role, category, action, reach FROM access_rule", rs -> {
            rules.computeIfAbsent(rs.getString(1), r -> new EnumMap<>(Action.class))
                    .computeIfAbsent(Action.valueOf(rs.getString(3).toUpperCase(java.util.Locale.ROOT)), a -> new HashMap<>())
                    .put(rs.getString(2), Reach.of(rs.getString(4)));
        });
        Map<String, String> types = new HashMap<>();
        jdbc.query("SELECT res_type, category FROM access_category_type", rs -> {
            types.put(rs.getString(1), rs.getString(2));
        });
        Map<String, String> labels = new HashMap<>();
        jdbc.query("SELECT system, code, category FROM access_category_label", rs -> {
            labels.put(rs.getString(1) + "|" + rs.getString(2), rs.getString(3));
        });
        return new Matrix(rules, types, labels);
    }

    String categoryOfType(String type) {
        return typeCategory.getOrDefault(type, UNCLASSIFIED);
    }

    /** The widest reach per category that any of the roles has for the action. */
    Map<String, Reach> reach(Set<String> roles, Action action) {
        Map<String, Reach> out = new HashMap<>();
        for (String role : roles) {
            rules.getOrDefault(role, Map.of()).getOrDefault(action, Map.of())
                    .forEach((category, reach) -> out.merge(category, reach, (a, b) -> a.compareTo(b) >= 0 ? a : b));
        }
        return out;
    }
}
