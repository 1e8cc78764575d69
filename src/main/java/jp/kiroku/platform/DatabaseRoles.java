package jp.kiroku.platform;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;

/**
 * After every migration (run as the tables' owner), gives the application's role what it needs and no more (LOG-02,
 * brief decision 5): read and write on ordinary tables, but only SELECT and INSERT on append-only ones, and nothing on
 * the migration history. A table is append-only when a migration gave it a trigger that refuses changes
 * ({@code kiroku_refuse_change}, or {@code kiroku_refuse_change_unless_disposed} for record versions, which a
 * disposal removes through an owner's function); that trigger stops accidents, the missing privilege stops the application's role from
 * switching it off or changing rows at all. Idempotent, so it also repairs privileges someone changed by hand.
 */
final class DatabaseRoles implements Callback {

    private final String appRole;

    DatabaseRoles(String appRole) {
        this.appRole = appRole;
    }

    @Override
    public boolean supports(Event event, Context context) {
        return event == Event.AFTER_MIGRATE;
    }

    @Override
    public boolean canHandleInTransaction(Event event, Context context) {
        return true;
    }

    @Override
    public void handle(Event event, Context context) {
        Connection c = context.getConnection();
        String role = identifier(appRole);
        try (Statement s = c.createStatement()) {
            List<String> appendOnly = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT DISTINCT format('%I.%I', n.nspname, r.relname) FROM pg_trigger t"
                    + " JOIN pg_class r ON r.oid = t.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace"
                    + " JOIN pg_proc f ON f.oid = t.tgfoid"
                    + " WHERE f.proname LIKE 'kiroku\\_refuse\\_change%' AND n.nspname = current_schema() AND NOT t.tgisinternal")) {
                while (rs.next()) {
                    appendOnly.add(rs.getString(1));
                }
            }
            String schema;
            try (ResultSet rs = s.executeQuery("SELECT quote_ident(current_schema())")) {
                rs.next();
                schema = rs.getString(1);
            }
            s.execute("GRANT USAGE ON SCHEMA " + schema + " TO " + role);
            s.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + schema + " TO " + role);
            s.execute("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA " + schema + " TO " + role);
            s.execute("REVOKE ALL ON " + schema + "." + identifier(context.getConfiguration().getTable()) + " FROM " + role);
            for (String table : appendOnly) {
                s.execute("REVOKE UPDATE, DELETE, TRUNCATE ON " + table + " FROM " + role);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot set the privileges of database role " + appRole + ": " + e.getMessage(), e);
        }
    }

    private static String identifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    @Override
    public String getCallbackName() {
        return "kiroku database roles";
    }
}
