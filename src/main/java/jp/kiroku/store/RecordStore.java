package jp.kiroku.store;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.PreparedStatementCreator;
import org.springframework.jdbc.core.RowCallbackHandler;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import jp.kiroku.crypto.DataKeys;
import jp.kiroku.crypto.Envelope;

/**
 * The versioned, append-only record store (INTEG-03). Every create, update and delete adds a version row; nothing is
 * updated in place or physically deleted; a delete is a tombstone. {@link #write} is atomic: it joins the caller's
 * transaction (so a FHIR transaction Bundle and its audit commit together) or opens its own.
 */
@Service
public class RecordStore {

    private static final byte[] EMPTY_SHA256 = sha256(new byte[0]);

    private final JdbcTemplate jdbc;
    private final Clock clock;
    private final DataKeys keys;
    private final RowMapper<StoredVersion> VERSION = this::mapVersion;

    RecordStore(JdbcTemplate jdbc, Clock clock, DataKeys keys) {
        this.jdbc = jdbc;
        this.clock = clock;
        this.keys = keys;
    }

    public Optional<StoredVersion> current(ResourceKey key) {
        return currentPlaced(key).map(Placed::version);
    }

    /** A current version together with where it belongs (access control), read in one query. */
    public record Placed(StoredVersion version, Placement placement) {
    }

    /** {@link #current} with the resource's placement, so that a read is checked without a second query. */
    public Optional<Placed> currentPlaced(ResourceKey key) {
        return jdbc.query("SELECT v.res_type, v.res_id, v.version_id, v.last_updated, v.deleted, v.patient_key, v.body, v.key_ref,"
                        + " c.facility_id, c.category, c.status FROM resource_current c JOIN resource_version v"
                        + " USING (res_type, res_id, version_id) WHERE c.res_type = ? AND c.res_id = ?",
                (rs, i) -> new Placed(VERSION.mapRow(rs, i), new Placement(rs.getString(6), rs.getString(9), rs.getString(10),
                        rs.getBoolean(5), rs.getString(11))), key.type(), key.id())
                .stream().findFirst();
    }

    /** The current versions of these resources, in the given order (missing ones left out). */
    public List<StoredVersion> currentAll(List<ResourceKey> keys) {
        if (keys.isEmpty()) {
            return List.of();
        }
        Map<ResourceKey, StoredVersion> found = new HashMap<>();
        eachRow("SELECT v.res_type, v.res_id, v.version_id, v.last_updated, v.deleted, v.patient_key, v.body, v.key_ref"
                + " FROM resource_current c JOIN resource_version v USING (res_type, res_id, version_id)"
                + " WHERE (c.res_type, c.res_id) IN (SELECT * FROM unnest(?::text[], ?::text[]))", keys, rs -> {
                    StoredVersion v = VERSION.mapRow(rs, 0);
                    found.put(new ResourceKey(v.type(), v.id()), v);
                });
        List<StoredVersion> out = new ArrayList<>(keys.size());
        for (ResourceKey k : keys) {
            StoredVersion v = found.get(k);
            if (v != null) {
                out.add(v);
            }
        }
        return out;
    }

    /** The keys a query selected, in its order, and the current versions of the rows from one page of them. */
    public record KeysAndPage(List<ResourceKey> keys, List<StoredVersion> page) {
    }

    /**
     * Runs a key query and loads one page of what it selects in the same statement: one round trip instead of two,
     * and the versions loaded are exactly the ones matched (a write between two statements could replace a matched
     * version by one that no longer matches). {@code keySql} selects {@code res_type, res_id, version_id} of current
     * rows in the order wanted; its rows after the first {@code pageFrom} up to row {@code pageTo} come with their
     * versions. {@code statement} makes the statement of the whole SQL and binds the key query's arguments (the caller
     * decides whether its plan is kept).
     */
    public KeysAndPage keysAndPage(String keySql, int pageFrom, int pageTo,
                                   java.util.function.Function<String, PreparedStatementCreator> statement) {
        // row_number() over the ordered sub-query numbers its rows in that order (a window with no ORDER BY of its own
        // reads its input as it comes); the outer ORDER BY keeps the order through the join
        String sql = "SELECT k.res_type, k.res_id, v.version_id, v.last_updated, v.deleted, v.patient_key, v.body, v.key_ref"
                + " FROM (SELECT m.res_type, m.res_id, m.version_id, row_number() OVER () AS n FROM (" + keySql + ") m) k"
                + " LEFT JOIN resource_version v ON k.n > " + pageFrom + " AND k.n <= " + pageTo
                + " AND v.res_type = k.res_type AND v.res_id = k.res_id AND v.version_id = k.version_id ORDER BY k.n";
        List<ResourceKey> keys = new ArrayList<>();
        List<StoredVersion> page = new ArrayList<>();
        jdbc.query(statement.apply(sql), (RowCallbackHandler) rs -> {
            keys.add(new ResourceKey(rs.getString(1), rs.getString(2)));
            if (rs.getObject(3) != null) {
                page.add(mapVersion(rs, 0));
            }
        });
        return new KeysAndPage(keys, page);
    }

    /** Where these resources' current versions belong (access control); unknown keys are left out. */
    public Map<ResourceKey, Placement> placements(Collection<ResourceKey> keys) {
        Map<ResourceKey, Placement> out = new HashMap<>();
        if (keys.isEmpty()) {
            return out;
        }
        eachRow("SELECT res_type, res_id, patient_key, facility_id, category, deleted, status FROM resource_current"
                + " WHERE (res_type, res_id) IN (SELECT * FROM unnest(?::text[], ?::text[]))", keys,
                rs -> out.put(new ResourceKey(rs.getString(1), rs.getString(2)),
                        new Placement(rs.getString(3), rs.getString(4), rs.getString(5), rs.getBoolean(6), rs.getString(7))));
        return out;
    }

    /**
     * Who entered a version, on whose behalf, and who confirmed it when (INTEG-01, -02, -04).
     *
     * @param authorKind client, user or operator; {@code authorId} the client id or username
     */
    public record Authored(String authorKind, String authorId, String onBehalfOf, String confirmedBy, Instant confirmedAt) {
    }

    /** One version of one resource. */
    public record VersionKey(String type, String id, int versionId) {
    }

    /** {@link #authored(ResourceKey, int)} for many versions in one query (a chart, a printout). */
    public Map<VersionKey, Authored> authored(java.util.Collection<VersionKey> versions) {
        Map<VersionKey, Authored> out = new java.util.HashMap<>();
        if (versions.isEmpty()) {
            return out;
        }
        jdbc.query("SELECT v.res_type, v.res_id, v.version_id, author_kind, author_id, on_behalf_of, confirmed_by,"
                        + " confirmed_at FROM resource_version v JOIN unnest(?::text[], ?::text[], ?::int[]) k(t, i, n)"
                        + " ON v.res_type = k.t AND v.res_id = k.i AND v.version_id = k.n",
                rs -> {
                    out.put(new VersionKey(rs.getString(1), rs.getString(2), rs.getInt(3)), new Authored(rs.getString(4),
                            rs.getString(5), rs.getString(6), rs.getString(7),
                            rs.getTimestamp(8) == null ? null : rs.getTimestamp(8).toInstant()));
                },
                versions.stream().map(VersionKey::type).toArray(String[]::new),
                versions.stream().map(VersionKey::id).toArray(String[]::new),
                versions.stream().map(VersionKey::versionId).toArray(Integer[]::new));
        return out;
    }

    public Optional<Authored> authored(ResourceKey key, int versionId) {
        return jdbc.query("SELECT author_kind, author_id, on_behalf_of, confirmed_by, confirmed_at FROM resource_version"
                        + " WHERE res_type = ? AND res_id = ? AND version_id = ?",
                (rs, i) -> new Authored(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getTimestamp(5) == null ? null : rs.getTimestamp(5).toInstant()), key.type(), key.id(), versionId)
                .stream().findFirst();
    }

    /** A stored version with who entered and confirmed it, and its write-order number (its row in the record ledger). */
    public record AuthoredVersion(StoredVersion version, Authored authored, long seq) {
    }

    private static final String AUTHORED_COLUMNS = "v.res_type, v.res_id, v.version_id, v.last_updated, v.deleted,"
            + " v.patient_key, v.body, v.key_ref, v.author_kind, v.author_id, v.on_behalf_of, v.confirmed_by, v.confirmed_at, v.seq";

    /**
     * Every version of a patient's records (their compartment, the Patient included) in one query, ordered by type, id
     * and version: what a chart printout shows. {@code from}/{@code to} (either may be null) bound the versions'
     * lastUpdated, {@code to} exclusive; {@code currentOnly} keeps each resource's current version alone.
     */
    public List<AuthoredVersion> patientVersions(String patientKey, Instant from, Instant to, boolean currentOnly) {
        List<Object> args = new ArrayList<>(List.of(patientKey));
        StringBuilder sql = new StringBuilder("SELECT " + AUTHORED_COLUMNS + " FROM resource_version v");
        if (currentOnly) {
            sql.append(" JOIN resource_current c USING (res_type, res_id, version_id)");
        }
        sql.append(" WHERE v.patient_key = ?");
        if (from != null) {
            sql.append(" AND v.last_updated >= ?");
            args.add(Timestamp.from(from));
        }
        if (to != null) {
            sql.append(" AND v.last_updated < ?");
            args.add(Timestamp.from(to));
        }
        return jdbc.query(sql.append(" ORDER BY v.res_type, v.res_id, v.version_id").toString(), this::mapAuthored,
                args.toArray());
    }

    /** Every version of one resource, oldest first, with who entered and confirmed each. */
    public List<AuthoredVersion> versions(ResourceKey key) {
        return jdbc.query("SELECT " + AUTHORED_COLUMNS + " FROM resource_version v WHERE v.res_type = ? AND v.res_id = ?"
                + " ORDER BY v.version_id", this::mapAuthored, key.type(), key.id());
    }

    private AuthoredVersion mapAuthored(ResultSet rs, int n) throws SQLException {
        Timestamp confirmed = rs.getTimestamp(13);
        return new AuthoredVersion(mapVersion(rs, n), new Authored(rs.getString(9), rs.getString(10), rs.getString(11),
                rs.getString(12), confirmed == null ? null : confirmed.toInstant()), rs.getLong(14));
    }

    /** The unapproved proxy entries awaiting this person's confirmation (their worklist), oldest first. */
    public List<StoredVersion> unapproved(String onBehalfOf, int limit) {
        return jdbc.query("SELECT v.res_type, v.res_id, v.version_id, v.last_updated, v.deleted, v.patient_key, v.body, v.key_ref"
                + " FROM resource_current c JOIN resource_version v USING (res_type, res_id, version_id)"
                + " WHERE c.status = 'unapproved' AND v.on_behalf_of = ? ORDER BY v.last_updated, v.seq LIMIT ?",
                VERSION, onBehalfOf, limit);
    }

    public Optional<StoredVersion> version(ResourceKey key, int versionId) {
        return jdbc.query("SELECT res_type, res_id, version_id, last_updated, deleted, patient_key, body, key_ref"
                        + " FROM resource_version WHERE res_type = ? AND res_id = ? AND version_id = ?",
                VERSION, key.type(), key.id(), versionId).stream().findFirst();
    }

    /** The write-order number of a stored version (its row in the record ledger), if the version exists. */
    public java.util.OptionalLong sequenceOf(ResourceKey key, int versionId) {
        List<Long> seq = jdbc.queryForList("SELECT seq FROM resource_version WHERE res_type = ? AND res_id = ?"
                + " AND version_id = ?", Long.class, key.type(), key.id(), versionId);
        return seq.isEmpty() ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(seq.get(0));
    }

    public long historyCount(HistoryQuery q) {
        List<Object> args = new ArrayList<>();
        String where = historyWhere(q, args);
        Long n = jdbc.queryForObject("SELECT count(*) FROM resource_version WHERE " + where, Long.class, args.toArray());
        return n == null ? 0 : n;
    }

    /** Versions newest first, as FHIR history lists them. */
    public List<StoredVersion> history(HistoryQuery q, int offset, int count) {
        List<Object> args = new ArrayList<>();
        String where = historyWhere(q, args);
        args.add(offset);
        args.add(count);
        return jdbc.query("SELECT res_type, res_id, version_id, last_updated, deleted, patient_key, body, key_ref"
                + " FROM resource_version WHERE " + where
                + " ORDER BY last_updated DESC, seq DESC OFFSET ? LIMIT ?", VERSION, args.toArray());
    }

    private static String historyWhere(HistoryQuery q, List<Object> args) {
        StringBuilder where = new StringBuilder("true");
        if (q.type() != null) {
            where.append(" AND res_type = ?");
            args.add(q.type());
        }
        if (q.id() != null) {
            where.append(" AND res_id = ?");
            args.add(q.id());
        }
        if (q.since() != null) {
            where.append(" AND last_updated >= ?");
            args.add(Timestamp.from(q.since()));
        }
        return where.toString();
    }

    /**
     * Applies all writes atomically with one timestamp. Refuses the whole call (nothing stored) on a version
     * conflict, an unresolvable local reference, a delete of a still-referenced resource, two writes to the same
     * resource, or a change to a confirmed record without a reason.
     */
    @Transactional
    public List<Written> write(List<Write> writes, Authorship who) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        Set<ResourceKey> touched = new HashSet<>();
        List<ResourceKey> existingTargets = new ArrayList<>();
        for (Write w : writes) {
            if (!touched.add(w.key())) {
                throw new StoreException(StoreException.Reason.DUPLICATE,
                        w.key() + " appears more than once in one write", List.of(w.key()));
            }
            if (w.kind() != Write.Kind.CREATE) {
                existingTargets.add(w.key());
            }
        }
        Map<ResourceKey, Current> current = lockCurrent(existingTargets);
        checkReferences(writes, touched);
        checkNotReferenced(writes);

        List<Written> results = new ArrayList<>(writes.size());
        for (Write w : writes) {
            Current cur = current.get(w.key());
            // a delete keeps the resource's category
            String category = w.kind() == Write.Kind.DELETE && cur != null ? cur.category() : w.category();
            boolean exists = cur != null && !cur.deleted();
            if (w.expectedVersion() != null && (cur == null || cur.version() != w.expectedVersion())) {
                throw new StoreException(StoreException.Reason.VERSION_CONFLICT, w.key() + " is at version "
                        + (cur == null ? "none" : cur.version()) + ", not " + w.expectedVersion(), List.of(w.key()));
            }
            if (cur != null && Placement.CONFIRMED.equals(cur.status()) && (who.reason() == null || who.reason().isBlank())) {
                throw new StoreException(StoreException.Reason.CONFIRMED_NEEDS_REASON, w.key() + " is confirmed (version "
                        + cur.version() + "): a change to a confirmed record is a new version with a reason (send it as"
                        + " Provenance.reason in the X-Provenance header)", List.of(w.key()));
            }
            int version = cur == null ? 1 : cur.version() + 1;
            switch (w.kind()) {
                case DELETE -> {
                    // a tombstone stays in its patient's compartment (audit, later sharding by patient)
                    String patient = cur == null ? null : cur.patientKey();
                    String facility = cur == null ? who.facility() : cur.facility();
                    if (!exists) {
                        results.add(new Written(w.key(), cur == null ? 0 : cur.version(), now, false, true, true, patient,
                                facility, category, null));
                    } else {
                        results.add(new Written(w.key(), version, now, false, true, false, patient, facility, category, null));
                    }
                }
                case CREATE, UPDATE -> {
                    if (w.kind() == Write.Kind.CREATE && cur != null) {
                        throw new StoreException(StoreException.Reason.DUPLICATE, w.key() + " already exists", List.of(w.key()));
                    }
                    byte[] body = w.body().render(version, now);
                    // a resource stays in the facility it was created in
                    String facility = cur == null ? who.facility() : cur.facility();
                    results.add(new Written(w.key(), version, now, !exists, false, false, w.patientKey(), facility,
                            category, body));
                }
            }
        }
        insertVersions(results, writes, who);
        return results;
    }

    /** The current pointer of a resource, as locked for a write. */
    private record Current(int version, boolean deleted, String patientKey, String facility, String category,
                           String status) {
    }

    private Map<ResourceKey, Current> lockCurrent(List<ResourceKey> keys) {
        Map<ResourceKey, Current> out = new HashMap<>();
        if (keys.isEmpty()) {
            return out;
        }
        eachRow("SELECT res_type, res_id, version_id, deleted, patient_key, facility_id, category, status"
                + " FROM resource_current WHERE (res_type, res_id) IN (SELECT * FROM unnest(?::text[], ?::text[])) FOR UPDATE",
                keys, rs -> out.put(new ResourceKey(rs.getString(1), rs.getString(2)),
                        new Current(rs.getInt(3), rs.getBoolean(4), rs.getString(5), rs.getString(6), rs.getString(7),
                                rs.getString(8))));
        return out;
    }

    private void checkReferences(List<Write> writes, Set<ResourceKey> inThisCall) {
        Set<ResourceKey> outside = new LinkedHashSet<>();
        Set<ResourceKey> deleting = new HashSet<>();
        for (Write w : writes) {
            if (w.kind() == Write.Kind.DELETE) {
                deleting.add(w.key());
            }
        }
        for (Write w : writes) {
            for (ResourceKey ref : w.references()) {
                if (deleting.contains(ref)) {
                    throw new StoreException(StoreException.Reason.UNRESOLVED_REFERENCE,
                            w.key().type() + " refers to " + ref + ", which the same request deletes", List.of(ref));
                }
                if (!inThisCall.contains(ref)) {
                    outside.add(ref);
                }
            }
        }
        if (outside.isEmpty()) {
            return;
        }
        Set<ResourceKey> found = new HashSet<>(queryKeys("SELECT res_type, res_id FROM resource_current WHERE NOT deleted"
                + " AND (res_type, res_id) IN (SELECT * FROM unnest(?::text[], ?::text[]))", outside));
        List<ResourceKey> missing = outside.stream().filter(k -> !found.contains(k)).toList();
        if (!missing.isEmpty()) {
            throw new StoreException(StoreException.Reason.UNRESOLVED_REFERENCE,
                    "Reference to a resource that does not exist: " + missing, missing);
        }
    }

    private void checkNotReferenced(List<Write> writes) {
        List<ResourceKey> deletes = writes.stream().filter(w -> w.kind() == Write.Kind.DELETE).map(Write::key).toList();
        if (deletes.isEmpty()) {
            return;
        }
        Set<ResourceKey> alsoChanging = new HashSet<>();
        writes.forEach(w -> alsoChanging.add(w.key()));
        List<ResourceKey> referrers = new ArrayList<>();
        for (ResourceKey k : queryKeys("SELECT DISTINCT r.src_type, r.src_id FROM resource_reference r"
                + " WHERE (r.target_type, r.target_id) IN (SELECT * FROM unnest(?::text[], ?::text[]))", deletes)) {
            // a referrer deleted or rewritten in the same call no longer counts (its new references were checked)
            if (!alsoChanging.contains(k)) {
                referrers.add(k);
            }
        }
        if (!referrers.isEmpty()) {
            throw new StoreException(StoreException.Reason.STILL_REFERENCED,
                    "Cannot delete " + deletes + ": still referenced by " + referrers, referrers);
        }
    }

    private List<ResourceKey> queryKeys(String sql, Collection<ResourceKey> keys) {
        List<ResourceKey> out = new ArrayList<>();
        eachRow(sql, keys, rs -> out.add(new ResourceKey(rs.getString(1), rs.getString(2))));
        return out;
    }

    /** Runs SQL whose two parameters are the key arrays ({@link KeyArrays}) and hands each row to {@code row}. */
    private void eachRow(String sql, Collection<ResourceKey> keys, org.springframework.jdbc.core.RowCallbackHandler row) {
        jdbc.execute((Connection c) -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                KeyArrays.bind(c, ps, 1, keys);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        row.processRow(rs);
                    }
                }
            }
            return null;
        });
    }

    private void insertVersions(List<Written> results, List<Write> writes, Authorship who) {
        List<Written> stored = results.stream().filter(r -> !r.noop()).toList();
        if (stored.isEmpty()) {
            return;
        }
        jdbc.batchUpdate("INSERT INTO resource_version (res_type, res_id, version_id, patient_key, last_updated, deleted,"
                + " author_kind, author_id, on_behalf_of, body, content_hash, facility_id, confirmed_by, confirmed_at, key_ref)"
                + " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                stored, 500,
                (ps, r) -> {
                    ps.setString(1, r.key().type());
                    ps.setString(2, r.key().id());
                    ps.setInt(3, r.versionId());
                    ps.setString(4, r.patientKey());
                    ps.setTimestamp(5, Timestamp.from(r.lastUpdated()));
                    ps.setBoolean(6, r.deleted());
                    ps.setString(7, who.authorKind());
                    ps.setString(8, who.authorId());
                    ps.setString(9, who.onBehalfOf());
                    // the body is stored sealed under its owner's data key; the content hash is over the plain bytes
                    String owner = r.body() == null ? null : keyOwner(r.patientKey(), r.facility());
                    ps.setBytes(10, owner == null ? null : Envelope.seal(keys.keyFor(owner), r.body(),
                            associatedData(r.key().type(), r.key().id(), r.versionId())));
                    ps.setBytes(11, r.body() == null ? EMPTY_SHA256 : sha256(r.body()));
                    ps.setString(12, r.facility());
                    // a confirmation is the version's own fact, with the store's time (INTEG-02); a tombstone confirms nothing
                    boolean confirms = who.confirmedBy() != null && !r.deleted();
                    ps.setString(13, confirms ? who.confirmedBy() : null);
                    ps.setTimestamp(14, confirms ? Timestamp.from(r.lastUpdated()) : null);
                    ps.setString(15, owner);
                });
        // a resource keeps its facility
        jdbc.batchUpdate("INSERT INTO resource_current (res_type, res_id, version_id, deleted, patient_key, last_updated,"
                + " facility_id, category, status, created_at, created_by) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                + " ON CONFLICT (res_type, res_id) DO UPDATE SET"
                + " version_id = excluded.version_id, deleted = excluded.deleted, patient_key = excluded.patient_key,"
                + " last_updated = excluded.last_updated, category = excluded.category, status = excluded.status",
                stored, 500, (ps, r) -> {
                    ps.setString(1, r.key().type());
                    ps.setString(2, r.key().id());
                    ps.setInt(3, r.versionId());
                    ps.setBoolean(4, r.deleted());
                    ps.setString(5, r.patientKey());
                    ps.setTimestamp(6, Timestamp.from(r.lastUpdated()));
                    ps.setString(7, r.facility());
                    ps.setString(8, r.category());
                    ps.setString(9, r.deleted() ? null : who.status());
                    // kept from the first insert (the conflict update leaves them): when and by which person it was made
                    ps.setTimestamp(10, Timestamp.from(r.lastUpdated()));
                    ps.setString(11, "user".equals(who.authorKind()) ? who.authorId() : null);
                });
        List<ResourceKey> replaced = new ArrayList<>();
        List<ResourceKey[]> links = new ArrayList<>();
        Map<ResourceKey, Write> byKey = new HashMap<>();
        writes.forEach(w -> byKey.put(w.key(), w));
        for (Written r : stored) {
            if (!r.created() || r.deleted()) {
                replaced.add(r.key());
            }
            if (!r.deleted()) {
                for (ResourceKey target : new LinkedHashSet<>(byKey.get(r.key()).references())) {
                    links.add(new ResourceKey[] {target, r.key()});
                }
            }
        }
        if (!replaced.isEmpty()) {
            jdbc.execute((Connection c) -> {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM resource_reference WHERE (src_type, src_id)"
                        + " IN (SELECT * FROM unnest(?::text[], ?::text[]))")) {
                    KeyArrays.bind(c, ps, 1, replaced);
                    ps.executeUpdate();
                }
                return null;
            });
        }
        jdbc.batchUpdate("INSERT INTO resource_reference (target_type, target_id, src_type, src_id) VALUES (?,?,?,?)"
                + " ON CONFLICT DO NOTHING", links, 1000, (ps, l) -> {
                    ps.setString(1, l[0].type());
                    ps.setString(2, l[0].id());
                    ps.setString(3, l[1].type());
                    ps.setString(4, l[1].id());
                });
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A version row (columns 1-7 and key_ref), its body opened with its owner's data key. */
    private StoredVersion mapVersion(java.sql.ResultSet rs, int n) throws SQLException {
        String type = rs.getString(1);
        String id = rs.getString(2);
        int version = rs.getInt(3);
        byte[] body = opened(keys, rs.getString("key_ref"), type, id, version, rs.getBytes(7));
        return new StoredVersion(type, id, version, rs.getTimestamp(4).toInstant(), rs.getBoolean(5), rs.getString(6), body);
    }

    /**
     * The plain bytes of a stored body: opened with the data key {@code keyRef} names, bound to its row; a body of no
     * key (written before sealing, or a tombstone's null) as it is.
     */
    static byte[] opened(DataKeys keys, String keyRef, String type, String id, int version, byte[] stored) {
        return stored == null || keyRef == null ? stored
                : Envelope.open(keys.keyFor(keyRef), stored, associatedData(type, id, version));
    }

    /** What a sealed body is bound to: its own row, so that it does not open anywhere else. */
    static String associatedData(String type, String id, int version) {
        return type + "/" + id + "/_history/" + version;
    }

    /** Whose data key seals a version: its patient's, or its facility's for records of no patient. */
    static String keyOwner(String patientKey, String facility) {
        return patientKey != null ? DataKeys.patient(patientKey) : DataKeys.facility(facility);
    }
}
