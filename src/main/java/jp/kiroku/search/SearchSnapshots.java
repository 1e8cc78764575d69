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
import jp.kiroku.store.KeyArrays;
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
    private final java.util.concurrent.atomic.AtomicReference<java.time.Instant> lastPurge =
            new java.util.concurrent.atomic.AtomicReference<>();

    SearchSnapshots(JdbcTemplate jdbc, Clock clock, KirokuProperties props) {
        this.jdbc = jdbc;
        this.clock = clock;
        this.props = props;
    }

    /** Saves the keys for {@code owner}'s paging of {@code scope} (a type, or e.g. "Patient/$everything"); its id. */
    public String save(String owner, String scope, List<ResourceKey> keys, int total) {
        Timestamp now = Timestamp.from(clock.instant());
        purgeExpired(clock.instant());
        UUID id = UUID.randomUUID();
        jdbc.update(con -> {
            var ps = con.prepareStatement("INSERT INTO search_snapshot (id, owner, res_type, created, key_types, key_ids,"
                    + " total) VALUES (?, ?, ?, ?, ?, ?, ?)");
            ps.setObject(1, id);
            ps.setString(2, owner);
            ps.setString(3, scope);
            ps.setTimestamp(4, now);
            KeyArrays.bind(con, ps, 5, keys);
            ps.setInt(7, total);
            return ps;
        });
        return id.toString();
    }

    /**
     * Removes expired snapshots, at most once a minute: slices never read expired rows anyway, so this only keeps the
     * table small, and need not cost every paged search a DELETE.
     */
    private void purgeExpired(java.time.Instant now) {
        java.time.Instant last = lastPurge.get();
        if (last != null && now.isBefore(last.plusSeconds(60)) || !lastPurge.compareAndSet(last, now)) {
            return;
        }
        jdbc.update("DELETE FROM search_snapshot WHERE created < ?",
                Timestamp.from(now.minus(props.getSearch().getSnapshotLifetime())));
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
