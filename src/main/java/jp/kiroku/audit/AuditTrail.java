package jp.kiroku.audit;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.List;

import org.slf4j.MDC;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

/**
 * The access log (LOG-01): one event per interaction. A write path records inside its own transaction, so that the
 * data and its audit commit together; a read path records before the response is sent (group-committed with the
 * events of concurrent reads, {@link GroupCommit}). If the insert fails, the
 * caller's request fails (fail closed). Each row is queued for the access ledger by a database trigger in the same
 * transaction (see the ledger module).
 */
@Service
public class AuditTrail {

    /** The MDC key of the current request's id (set per HTTP request and per admin command). */
    /**
     * The MDC key of the current request's purpose of use, when it is not ordinary treatment: {@code BTG} (HL7
     * v3-ActReason "break the glass") while the person acts under break-glass. Cleared with the request id.
     */
    public static final String PURPOSE = "purposeOfUse";
    public static final String REQUEST_ID = "requestId";

    private static final String INSERT = "INSERT INTO audit_log (recorded, action, outcome, agent_kind, agent_id,"
            + " source_address, request_id, patients, entities, detail, query_sealed, purpose) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";

    /** The owner of the data key that seals what was asked (search parameters may name patients): issue 7. */
    static final String QUERY_KEY = "audit";

    private final JdbcTemplate jdbc;
    private final Clock clock;
    private final org.springframework.transaction.support.TransactionTemplate tx;
    private final GroupCommit groupCommit;
    private final jp.kiroku.crypto.DataKeys keys;
    private volatile java.util.function.Consumer<AuditRecord> written;
    private final org.springframework.jdbc.core.RowMapper<StoredEvent> event;

    /**
     * Spring makes the server's one instance; a benchmark makes its own on a database of a running server, with no
     * keys (it records no queries: a query to seal without keys is refused).
     */
    public AuditTrail(JdbcTemplate jdbc, Clock clock, org.springframework.transaction.support.TransactionTemplate tx,
                      jp.kiroku.crypto.DataKeys keys) {
        this.jdbc = jdbc;
        this.keys = keys;
        this.event = (rs, i) -> new StoredEvent(rs.getLong("seq"), rs.getTimestamp("recorded").toInstant(),
                rs.getString("action"), rs.getString("outcome"), rs.getString("agent_kind"), rs.getString("agent_id"),
                rs.getString("agent_role"), rs.getString("source_address"), rs.getString("device_id"), rs.getString("purpose"),
                rs.getString("request_id"), texts(rs.getArray("patients")), texts(rs.getArray("entities")),
                rs.getString("detail"), query(keys, rs));
        this.clock = clock;
        this.tx = tx; // a cursor (fetch size) needs a transaction
        this.groupCommit = new GroupCommit(tx, this::insert);
    }

    public void record(AuditRecord r) {
        recordAll(List.of(r));
    }

    /** One recorded event by its number, if it exists. */
    public java.util.Optional<StoredEvent> event(long seq) {
        return jdbc.query("SELECT * FROM audit_log WHERE seq = ?", event, seq).stream().findFirst();
    }

    /** Recorded events matching {@code q}, newest first, at most {@code q.limit()}. */
    public List<StoredEvent> find(AuditQuery q) {
        List<Object> args = new java.util.ArrayList<>();
        String sql = "SELECT * FROM audit_log" + where(q, args) + " ORDER BY seq DESC LIMIT ?";
        args.add(q.limit());
        return jdbc.query(sql, event, args.toArray());
    }

    /** Every event matching {@code q} (its limit aside), oldest first, streamed: exports of any size. */
    public void forEach(AuditQuery q, java.util.function.Consumer<StoredEvent> each) {
        JdbcTemplate streaming = new JdbcTemplate(jdbc.getDataSource());
        streaming.setFetchSize(5_000);
        List<Object> args = new java.util.ArrayList<>();
        String sql = "SELECT * FROM audit_log" + where(q, args) + " ORDER BY seq";
        tx.executeWithoutResult(status -> streaming.query(sql, rs -> {
            each.accept(event.mapRow(rs, 0));
        }, args.toArray()));
    }

    private static String where(AuditQuery q, List<Object> args) {
        StringBuilder sql = new StringBuilder(" WHERE true");
        if (q.patient() != null) {
            sql.append(" AND patients @> ARRAY[?]::text[]"); // the GIN index
            args.add(q.patient());
        }
        if (q.agentId() != null) {
            sql.append(" AND agent_id = ?");
            args.add(q.agentId());
        }
        if (q.from() != null) {
            sql.append(" AND recorded >= ?");
            args.add(Timestamp.from(q.from()));
        }
        if (q.to() != null) {
            sql.append(" AND recorded < ?");
            args.add(Timestamp.from(q.to()));
        }
        if (!q.actions().isEmpty()) {
            sql.append(" AND action IN (").append(String.join(",", java.util.Collections.nCopies(q.actions().size(), "?")))
                    .append(")");
            args.addAll(q.actions());
        }
        if (q.outcome() != null) {
            sql.append(" AND outcome = ?");
            args.add(q.outcome());
        }
        if (q.beforeSeq() != null) {
            sql.append(" AND seq < ?");
            args.add(q.beforeSeq());
        }
        return sql.toString();
    }

    /**
     * What was asked, as recorded: sealed under the audit data key, bound to the event's time, agent and request
     * (events before sealing keep their plain text in {@code query}).
     */
    static String query(jp.kiroku.crypto.DataKeys keys, java.sql.ResultSet rs) throws java.sql.SQLException {
        byte[] sealed = rs.getBytes("query_sealed");
        if (sealed == null) {
            return rs.getString("query");
        }
        return new String(jp.kiroku.crypto.Envelope.open(keys.keyFor(QUERY_KEY), sealed, queryBinding(rs.getTimestamp("recorded"),
                rs.getString("agent_id"), rs.getString("request_id"))), java.nio.charset.StandardCharsets.UTF_8);
    }

    private static String queryBinding(Timestamp recorded, String agentId, String requestId) {
        return "audit_log/" + recorded.toInstant().toEpochMilli() + "/" + agentId + "/" + requestId;
    }

    private byte[] sealQuery(String query, Timestamp recorded, String agentId, String requestId) {
        if (query == null) {
            return null;
        }
        if (keys == null) {
            throw new IllegalStateException("this audit trail has no keys to seal a query with");
        }
        return jp.kiroku.crypto.Envelope.seal(keys.keyFor(QUERY_KEY), query.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                queryBinding(recorded, agentId, requestId));
    }

    /** A text[] column as a list (empty for null; null elements kept, so that verification sees a tampered row as it is). */
    static List<String> texts(java.sql.Array a) throws java.sql.SQLException {
        return a == null ? List.of() : java.util.Arrays.asList((String[]) a.getArray());
    }

    /**
     * Records events: inside the caller's transaction when there is one (a write: data and audit commit together),
     * else committed together with the events of concurrent requests before this returns (a read).
     */
    public void recordAll(List<AuditRecord> records) {
        if (records.isEmpty()) {
            return;
        }
        // millisecond precision, as stored versions: the ledger leaf is encoded from the stored columns
        Timestamp now = Timestamp.from(clock.instant().truncatedTo(ChronoUnit.MILLIS));
        String requestId = MDC.get(REQUEST_ID);
        String purpose = MDC.get(PURPOSE);
        List<Object[]> rows = new java.util.ArrayList<>(records.size());
        for (AuditRecord r : records) {
            rows.add(new Object[] {now, r.action(), r.outcome().code(), r.agent().kind().code(), r.agent().id(),
                    r.agent().address(), requestId, r.patients().toArray(new String[0]), r.entities().toArray(new String[0]),
                    r.detail(), sealQuery(r.query(), now, r.agent().id(), requestId), purpose});
        }
        if (org.springframework.transaction.support.TransactionSynchronizationManager.isActualTransactionActive()) {
            insert(rows);
            java.util.function.Consumer<AuditRecord> listener = written;
            if (listener != null && org.springframework.transaction.support.TransactionSynchronizationManager
                    .isSynchronizationActive()) { // counted once the caller's transaction commits
                org.springframework.transaction.support.TransactionSynchronizationManager.registerSynchronization(
                        new org.springframework.transaction.support.TransactionSynchronization() {
                            @Override
                            public void afterCommit() {
                                records.forEach(listener);
                            }
                        });
            } else if (listener != null) {
                records.forEach(listener);
            }
        } else {
            groupCommit.commit(rows);
            java.util.function.Consumer<AuditRecord> listener = written;
            if (listener != null) {
                records.forEach(listener);
            }
        }
    }

    /** Tells {@code listener} every event once it is durable (metrics). */
    void onWritten(java.util.function.Consumer<AuditRecord> listener) {
        this.written = listener;
    }

    private void insert(List<Object[]> rows) {
        jdbc.batchUpdate(INSERT, rows, 500, (ps, row) -> {
            for (int i = 0; i < row.length; i++) {
                if (row[i] instanceof String[] texts) {
                    ps.setArray(i + 1, ps.getConnection().createArrayOf("text", texts));
                } else {
                    ps.setObject(i + 1, row[i]);
                }
            }
        });
    }

    @jakarta.annotation.PreDestroy
    void close() {
        groupCommit.close();
    }
}
