package jp.kiroku.backup;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongConsumer;

import org.postgresql.PGConnection;

/**
 * Loads a chain of generations (a full one, then the incremental ones after it in order) into an empty database, in
 * one transaction: a damaged segment anywhere rolls everything back and the error names it. Triggers are off while
 * rows are loaded as they were (the ledger queue must not see them again); secondary indexes of a full load are
 * built once at the end, as pg_restore does.
 */
final class Restorer {

    private Restorer() {
    }

    /** A generation and its manifest, with the backup key it was sealed with. */
    record Link(Path generation, Manifest manifest, byte[] key) {
    }

    /** The chain that ends at {@code generation}: its full generation first. */
    static List<Path> chain(Path target, Path generation) throws IOException {
        List<Path> out = new ArrayList<>();
        Path at = generation;
        Set<String> seen = new HashSet<>();
        Map<String, Path> byId = null; // read once, when the first incremental generation asks for its parent
        while (true) {
            Manifest m = Manifest.read(at);
            if (!seen.add(m.id())) {
                throw new IllegalArgumentException("the generations in " + target + " name each other as parents");
            }
            out.add(at);
            if (m.kind() == Manifest.Kind.FULL) {
                break;
            }
            if (byId == null) {
                byId = new java.util.HashMap<>();
                for (Path p : Targets.generations(target)) {
                    byId.put(Manifest.read(p).id(), p);
                }
            }
            Path parent = byId.get(m.parent());
            if (parent == null) {
                throw new IllegalArgumentException("generation " + at.getFileName() + " is incremental, and its parent "
                        + m.parent() + " is not in " + target);
            }
            at = parent;
        }
        Collections.reverse(out);
        return out;
    }

    /** Loads the chain; {@code progress} receives plain bytes loaded. Returns rows loaded per table. */
    static Map<String, Long> load(Connection c, List<Link> chain, LongConsumer progress) throws SQLException {
        c.setAutoCommit(false);
        Map<String, Long> rows = new java.util.LinkedHashMap<>();
        try (Statement st = c.createStatement()) {
            requireEmpty(st);
            String expected = chain.get(chain.size() - 1).manifest().schemaVersion();
            try (ResultSet rs = st.executeQuery("SELECT max(version::int)::text FROM flyway_schema_history WHERE success"
                    + " AND version IS NOT NULL")) {
                rs.next();
                if (!expected.equals(rs.getString(1))) {
                    throw new IllegalStateException("the database is at schema version " + rs.getString(1) + ", the backup"
                            + " at " + expected + ": restore into an empty data directory or database");
                }
            }
            List<String> order = Tables.ordered(c);
            Map<String, List<String>> targetColumns = Tables.columns(c);
            for (String t : order) {
                st.execute("ALTER TABLE " + Tables.quote(t) + " DISABLE TRIGGER USER");
            }
            for (Link link : chain) {
                Manifest m = link.manifest();
                Map<String, Manifest.Table> tables = new java.util.HashMap<>();
                for (Manifest.Table t : m.tables()) {
                    if (!t.name().equals(Tables.CHANGED) && !targetColumns.containsKey(t.name())) {
                        throw new IllegalStateException("the backup holds table " + t.name() + ", which the database"
                                + " at schema version " + m.schemaVersion() + " does not have");
                    }
                    tables.put(t.name(), t);
                }
                boolean full = m.kind() == Manifest.Kind.FULL;
                if (!full) {
                    st.execute("CREATE TEMPORARY TABLE IF NOT EXISTS _changed_resources (res_type text, res_id text)"
                            + " ON COMMIT DROP");
                    st.execute("TRUNCATE _changed_resources");
                    copyIn(c, link, tables.get(Tables.CHANGED), "_changed_resources", progress);
                }
                List<String> reversed = new ArrayList<>(order);
                Collections.reverse(reversed);
                for (String t : reversed) {
                    Manifest.Table table = tables.get(t);
                    if (table == null) {
                        continue;
                    }
                    Tables.Mode mode = full ? Tables.Mode.WHOLE : Tables.Mode.valueOf(table.mode().toUpperCase(java.util.Locale.ROOT));
                    if (mode == Tables.Mode.WHOLE) {
                        st.execute("DELETE FROM " + Tables.quote(t));
                    } else if (mode == Tables.Mode.RESOURCES) {
                        String[] rc = Tables.resourceColumns(t);
                        st.execute("DELETE FROM " + Tables.quote(t) + " x USING _changed_resources c WHERE x." + rc[0]
                                + " = c.res_type AND x." + rc[1] + " = c.res_id");
                    }
                }
                List<String> indexes = full ? dropIndexes(st, tables.keySet()) : List.of();
                for (String t : order) {
                    Manifest.Table table = tables.get(t);
                    if (table != null) {
                        rows.merge(t, copyIn(c, link, table, t, progress), Long::sum);
                    }
                }
                for (String ddl : indexes) {
                    st.execute(ddl);
                }
            }
            Manifest last = chain.get(chain.size() - 1).manifest();
            for (var e : last.sequences().entrySet()) {
                try (var ps = c.prepareStatement("SELECT setval(quote_ident(?), ?, true)")) {
                    ps.setString(1, e.getKey());
                    ps.setLong(2, e.getValue());
                    ps.execute();
                }
            }
            for (String t : order) {
                st.execute("ALTER TABLE " + Tables.quote(t) + " ENABLE TRIGGER USER");
            }
            c.commit();
            return rows;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        }
    }

    private static void requireEmpty(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT EXISTS (SELECT 1 FROM resource_version) OR EXISTS (SELECT 1 FROM"
                + " audit_log) OR EXISTS (SELECT 1 FROM ledger_entry)")) {
            rs.next();
            if (rs.getBoolean(1)) {
                throw new IllegalStateException("the database already holds records or audit events: a restore goes"
                        + " into an empty data directory or database");
            }
        }
    }

    /** Drops the secondary indexes (not those of constraints) of these tables; the statements that rebuild them. */
    private static List<String> dropIndexes(Statement st, Set<String> tables) throws SQLException {
        List<String[]> found = new ArrayList<>();
        try (ResultSet rs = st.executeQuery("SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i"
                + " WHERE i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
                + " WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)")) {
            while (rs.next()) {
                if (tables.contains(rs.getString(1))) {
                    found.add(new String[] {rs.getString(2), rs.getString(3)});
                }
            }
        }
        List<String> rebuild = new ArrayList<>();
        for (String[] f : found) {
            st.execute("DROP INDEX " + Tables.quote(f[0]));
            rebuild.add(f[1]);
        }
        return rebuild;
    }

    private static long copyIn(Connection c, Link link, Manifest.Table table, String into, LongConsumer progress)
            throws SQLException {
        try (InputStream in = Segments.stream(link.generation(), link.manifest(), table, link.key(), progress)) {
            return c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + Tables.quote(into) + " ("
                    + Tables.columnList(table.columns()) + ") FROM STDIN (FORMAT binary)", in, 1 << 20);
        } catch (IOException e) {
            throw new IllegalStateException("reading " + link.generation().getFileName() + "/" + table.name() + ": "
                    + e.getMessage(), e);
        }
    }
}
