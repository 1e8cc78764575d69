package jp.kiroku.store;

import java.sql.ResultSet;
import java.sql.SQLException;

import org.springframework.stereotype.Component;

import jp.kiroku.ledger.LeafEncoder;
import jp.kiroku.ledger.LeafSource;

/**
 * The record ledger's leaves (INTEG-03): one per stored version — type, id, version, patient key, time, author (and
 * on whose behalf, confirmation), tombstone flag and the SHA-256 of the exact stored body bytes.
 */
@Component
final class RecordLeaves implements LeafSource {

    private static final int FORMAT = 1;

    private final jp.kiroku.crypto.DataKeys keys;

    RecordLeaves(jp.kiroku.crypto.DataKeys keys) {
        this.keys = keys;
    }

    @Override
    public int log() {
        return 1;
    }

    @Override
    public String origin() {
        return "kiroku/record";
    }

    @Override
    public String table() {
        return "resource_version";
    }

    @Override
    public String disposalRegister() {
        return "disposed_version";
    }

    @Override
    public String columns() {
        return "s.res_type, s.res_id, s.version_id, s.patient_key, s.facility_id, s.last_updated, s.deleted, s.author_kind,"
                + " s.author_id, s.on_behalf_of, s.confirmed_by, s.confirmed_at, s.content_hash";
    }

    @Override
    public byte[] leaf(ResultSet rs) throws SQLException {
        java.sql.Timestamp confirmed = rs.getTimestamp("confirmed_at");
        return LeafEncoder.format(FORMAT)
                .text(rs.getString("res_type"))
                .text(rs.getString("res_id"))
                .number(rs.getLong("version_id"))
                .text(rs.getString("patient_key"))
                .text(rs.getString("facility_id"))
                .number(rs.getTimestamp("last_updated").toInstant().toEpochMilli())
                .flag(rs.getBoolean("deleted"))
                .text(rs.getString("author_kind"))
                .text(rs.getString("author_id"))
                .text(rs.getString("on_behalf_of"))
                .text(rs.getString("confirmed_by"))
                .number(confirmed == null ? null : confirmed.toInstant().toEpochMilli())
                .bytes(rs.getBytes("content_hash"))
                .toBytes();
    }

    @Override
    public String checkColumns() {
        return ", s.body, s.key_ref";
    }

    /**
     * The stored body must open with its owner's data key, bound to its own row, and then hash to the content hash
     * its leaf holds (of the empty string for a tombstone).
     */
    @Override
    public String problem(ResultSet rs) throws SQLException {
        String type = rs.getString("res_type");
        String id = rs.getString("res_id");
        int version = (int) rs.getLong("version_id");
        String where = RecordStore.associatedData(type, id, version);
        byte[] body;
        try {
            body = RecordStore.opened(keys, rs.getString("key_ref"), type, id, version, rs.getBytes("body"));
        } catch (IllegalStateException e) {
            return "the stored body of " + where + " does not decrypt (" + e.getMessage() + ")";
        }
        byte[] actual = RecordStore.sha256(body == null ? new byte[0] : body);
        return java.security.MessageDigest.isEqual(actual, rs.getBytes("content_hash")) ? null
                : "the stored body of " + where + " does not match its content hash";
    }
}
