package jp.kiroku.audit;

import java.sql.Timestamp;
import java.time.Clock;
import java.util.List;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

/**
 * The access log (LOG-01). A write path records inside its own transaction, so that the data and its audit commit
 * together; a read path records before the response is sent. If the insert fails, the caller's request fails
 * (fail closed).
 */
@Service
public class AuditTrail {

    private static final String INSERT = "INSERT INTO audit_event (recorded, action, outcome, agent_kind, agent_id,"
            + " source_address, patient_key, res_type, res_id, version_id, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?)";

    private final JdbcTemplate jdbc;
    private final Clock clock;

    AuditTrail(JdbcTemplate jdbc, Clock clock) {
        this.jdbc = jdbc;
        this.clock = clock;
    }

    public void record(AuditRecord r) {
        recordAll(List.of(r));
    }

    public void recordAll(List<AuditRecord> records) {
        if (records.isEmpty()) {
            return;
        }
        Timestamp now = Timestamp.from(clock.instant());
        jdbc.batchUpdate(INSERT, records, 500, (ps, r) -> {
            ps.setTimestamp(1, now);
            ps.setString(2, r.action());
            ps.setString(3, r.outcome().code());
            ps.setString(4, r.agent().kind().code());
            ps.setString(5, r.agent().id());
            ps.setString(6, r.agent().address());
            ps.setString(7, r.patientKey());
            ps.setString(8, r.resourceType());
            ps.setString(9, r.resourceId());
            ps.setObject(10, r.versionId());
            ps.setString(11, r.detail());
        });
    }
}
