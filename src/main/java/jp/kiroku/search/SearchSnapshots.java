package jp.kiroku.search;

import java.sql.Array;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.store.ResourceKey;

/**
 * The ordered keys of a paged search's matches, kept for its next/previous links: every page is a slice of the same
 * list, so paging shows each match exactly once however others write meanwhile (a resource deleted since shows no
 * longer; an updated one shows its current version). Only the agent that ran the search can read its snapshot.
 */
@Service
public class SearchSnapshots {

    /** One page of a snapshot, how many keys it holds and how many matches the search had (more when truncated). */
    public record Slice(List<ResourceKey> keys, int size, int total) {
    }

    private final JdbcTemplate jdbc;
    private final Clock clock;
    private final KirokuProperties props;

    SearchSnapshots(JdbcTemplate jdbc, Clock clock, KirokuProperties props) {
        this.jdbc = jdbc;
        this.clock = clock;
        this.props = props;
    }

    /** Saves the keys for {@code owner}'s paging of {@code scope} (a type, or e.g. "Patient/$everything"); its id. */
    public String save(String owner, String scope, List<ResourceKey> keys, int total) {
        Timestamp now = Timestamp.from(clock.instant());
        jdbc.update("DELETE FROM search_snapshot WHERE created < ?",
                Timestamp.from(clock.instant().minus(props.getSearch().getSnapshotLifetime())));
        UUID id = UUID.randomUUID();
        jdbc.update(con -> {
            var ps = con.prepareStatement("INSERT INTO search_snapshot (id, owner, res_type, created, key_types, key_ids,"
                    + " total) VALUES (?, ?, ?, ?, ?, ?, ?)");
            ps.setObject(1, id);
            ps.setString(2, owner);
            ps.setString(3, scope);
            ps.setTimestamp(4, now);
            ps.setArray(5, con.createArrayOf("text", keys.stream().map(ResourceKey::type).toArray()));
            ps.setArray(6, con.createArrayOf("text", keys.stream().map(ResourceKey::id).toArray()));
            ps.setInt(7, total);
            return ps;
        });
        return id.toString();
    }

    /** Keys {@code offset .. offset+count} of a live snapshot of this owner and scope; empty when unknown or expired. */
    public Optional<Slice> slice(String id, String owner, String scope, int offset, int count) {
        UUID uuid;
        try {
            uuid = UUID.fromString(id);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        Timestamp oldest = Timestamp.from(clock.instant().minus(props.getSearch().getSnapshotLifetime()));
        List<Slice> found = jdbc.query("SELECT key_types[? : ?], key_ids[? : ?], cardinality(key_ids), total FROM search_snapshot"
                + " WHERE id = ? AND owner = ? AND res_type = ? AND created >= ?", (rs, n) -> {
                    String[] types = strings(rs.getArray(1));
                    String[] ids = strings(rs.getArray(2));
                    List<ResourceKey> keys = new ArrayList<>(ids.length);
                    for (int i = 0; i < ids.length; i++) {
                        keys.add(new ResourceKey(types[i], ids[i]));
                    }
                    return new Slice(keys, rs.getInt(3), rs.getInt(4));
                }, offset + 1, offset + count, offset + 1, offset + count, uuid, owner, scope, oldest);
        return found.stream().findFirst();
    }

    private static String[] strings(Array a) throws java.sql.SQLException {
        return a == null ? new String[0] : (String[]) a.getArray();
    }
}
