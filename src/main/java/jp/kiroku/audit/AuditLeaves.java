package jp.kiroku.audit;

import java.sql.ResultSet;
import java.sql.SQLException;

import org.springframework.stereotype.Component;

import jp.kiroku.ledger.LeafEncoder;
import jp.kiroku.ledger.LeafSource;

/** The access ledger's leaves (LOG-02): one per audit event, every column of the event. */
@Component
final class AuditLeaves implements LeafSource {

    private final jp.kiroku.crypto.DataKeys keys;

    AuditLeaves(jp.kiroku.crypto.DataKeys keys) {
        this.keys = keys;
    }

    private static final int FORMAT = 1;

    @Override
    public int log() {
        return 2;
    }

    @Override
    public String origin() {
        return "kiroku/audit";
    }

    @Override
    public String table() {
        return "audit_log";
    }

    @Override
    public String columns() {
        return "s.recorded, s.action, s.outcome, s.agent_kind, s.agent_id, s.agent_role, s.source_address, s.device_id,"
                + " s.purpose, s.request_id, s.patients, s.entities, s.detail, s.query, s.query_sealed";
    }

    @Override
    public byte[] leaf(ResultSet rs) throws SQLException {
        return LeafEncoder.format(FORMAT)
                .number(rs.getTimestamp("recorded").toInstant().toEpochMilli())
                .text(rs.getString("action"))
                .text(rs.getString("outcome"))
                .text(rs.getString("agent_kind"))
                .text(rs.getString("agent_id"))
                .text(rs.getString("agent_role"))
                .text(rs.getString("source_address"))
                .text(rs.getString("device_id"))
                .text(rs.getString("purpose"))
                .text(rs.getString("request_id"))
                .texts(AuditTrail.texts(rs.getArray("patients")))
                .texts(AuditTrail.texts(rs.getArray("entities")))
                .text(rs.getString("detail"))
                .text(AuditTrail.query(keys, rs))
                .toBytes();
    }
}
