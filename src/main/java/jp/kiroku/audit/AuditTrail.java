package jp.kiroku.audit;

import java.sql.Array;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.List;

import org.slf4j.MDC;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

/**
 * The access log (LOG-01): one event per interaction. A write path records inside its own transaction, so that the
 * data and its audit commit together; a read path records before the response is sent. If the insert fails, the
 * caller's request fails (fail closed). Each row is queued for the access ledger by a database trigger in the same
 * transaction (see the ledger module).
 */
@Service
public class AuditTrail {

    /** The MDC key of the current request's id (set per HTTP request and per admin command). */
    public static final String REQUEST_ID = "requestId";

    private static final String INSERT = "INSERT INTO audit_log (recorded, action, outcome, agent_kind, agent_id,"
            + " source_address, request_id, patients, entities, detail, query) VALUES (?,?,?,?,?,?,?,?,?,?,?)";

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
        // millisecond precision, as stored versions: the ledger leaf is encoded from the stored columns
        Timestamp now = Timestamp.from(clock.instant().truncatedTo(ChronoUnit.MILLIS));
        String requestId = MDC.get(REQUEST_ID);
        jdbc.batchUpdate(INSERT, records, 500, (ps, r) -> {
            ps.setTimestamp(1, now);
            ps.setString(2, r.action());
            ps.setString(3, r.outcome().code());
            ps.setString(4, r.agent().kind().code());
            ps.setString(5, r.agent().id());
            ps.setString(6, r.agent().address());
            ps.setString(7, requestId);
            Array patients = ps.getConnection().createArrayOf("text", r.patients().toArray());
            Array entities = ps.getConnection().createArrayOf("text", r.entities().toArray());
            ps.setArray(8, patients);
            ps.setArray(9, entities);
            ps.setString(10, r.detail());
            ps.setString(11, r.query());
        });
    }
}
