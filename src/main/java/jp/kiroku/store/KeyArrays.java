package jp.kiroku.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Collection;

/**
 * Binds resource keys as two parallel text arrays (types, ids), the form every key-set query and the paging snapshots
 * use: {@code (res_type, res_id) IN (SELECT * FROM unnest(?::text[], ?::text[]))}.
 */
public final class KeyArrays {

    private KeyArrays() {
    }

    /** Sets parameter {@code first} to the keys' types and {@code first + 1} to their ids. */
    public static void bind(Connection c, PreparedStatement ps, int first, Collection<ResourceKey> keys) throws SQLException {
        ps.setArray(first, c.createArrayOf("text", keys.stream().map(ResourceKey::type).toArray(String[]::new)));
        ps.setArray(first + 1, c.createArrayOf("text", keys.stream().map(ResourceKey::id).toArray(String[]::new)));
    }
}
