package jp.kiroku.backup;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which tables a backup copies and how. Everything in Kiroku's schema is copied but what is only a cache or a live
 * credential (search paging snapshots, web sessions, OAuth2 grants: after a restore everybody logs in again) and
 * Flyway's history (a restore migrates the empty database to the backup's version itself). In an incremental
 * generation the two ledgered tables and the ledger entries take only rows after the parent's ledger positions,
 * the per-resource tables (current pointers, search index, references) only the rows of resources changed since,
 * and every other (small) table is copied whole.
 */
final class Tables {

    static final Set<String> EXCLUDED = Set.of("flyway_schema_history", "search_snapshot", "spring_session",
            "spring_session_attributes", "oauth2_authorization");
    /** Append-only tables under a ledger, with the log that holds a leaf per row. */
    static final Map<String, Integer> LOGGED = Map.of("resource_version", 1, "audit_log", 2);
    static final String ENTRIES = "ledger_entry";
    /** The pseudo-table of an incremental generation listing the resources changed after its parent. */
    static final String CHANGED = "_changed_resources";

    enum Mode { WHOLE, APPEND, RESOURCES, CHANGED }

    private Tables() {
    }

    static Mode mode(String table) {
        if (LOGGED.containsKey(table) || table.equals(ENTRIES)) {
            return Mode.APPEND;
        }
        return resourceColumns(table) != null ? Mode.RESOURCES : Mode.WHOLE;
    }

    /** The (type, id) columns that name the resource a row belongs to, for the per-resource tables; else null. */
    static String[] resourceColumns(String table) {
        if (table.equals("resource_reference")) {
            return new String[] {"src_type", "src_id"};
        }
        if (table.equals("resource_current") || table.startsWith("search_")) {
            return new String[] {"res_type", "res_id"};
        }
        return null;
    }

    /** Kiroku's tables to copy, each after the tables its foreign keys point to. */
    static List<String> ordered(Connection c) throws SQLException {
        Set<String> tables = new LinkedHashSet<>();
        Map<String, Set<String>> parents = new HashMap<>();
        try (Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                    + " ORDER BY tablename")) {
                while (rs.next()) {
                    if (!EXCLUDED.contains(rs.getString(1))) {
                        tables.add(rs.getString(1));
                    }
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
                    + " WHERE contype = 'f' AND connamespace = current_schema()::regnamespace")) {
                while (rs.next()) {
                    parents.computeIfAbsent(rs.getString(1), k -> new LinkedHashSet<>()).add(rs.getString(2));
                }
            }
        }
        List<String> out = new ArrayList<>();
        Set<String> placed = new LinkedHashSet<>();
        Deque<String> todo = new ArrayDeque<>(tables);
        int stuck = 0;
        while (!todo.isEmpty()) {
            String t = todo.poll();
            boolean ready = parents.getOrDefault(t, Set.of()).stream().allMatch(p -> placed.contains(p) || p.equals(t)
                    || !tables.contains(p));
            if (ready) {
                out.add(t);
                placed.add(t);
                stuck = 0;
            } else {
                todo.add(t);
                if (++stuck > todo.size()) {
                    throw new IllegalStateException("foreign keys between " + todo + " form a cycle");
                }
            }
        }
        return out;
    }

    /** The table's columns in their order (a restore names them, so that the order in the target does not matter). */
    static Map<String, List<String>> columns(Connection c) throws SQLException {
        Map<String, List<String>> out = new LinkedHashMap<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT table_name, column_name FROM information_schema.columns"
                     + " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position")) {
            while (rs.next()) {
                out.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getString(2));
            }
        }
        return out;
    }

    static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    static String columnList(List<String> columns) {
        return String.join(", ", columns.stream().map(Tables::quote).toList());
    }
}
