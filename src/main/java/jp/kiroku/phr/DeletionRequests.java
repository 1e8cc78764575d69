package jp.kiroku.phr;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.retention.Disposals;

/**
 * Patients' requests to delete their data (PHR-04). The patient files a request in the portal; an administrator
 * answers it: either takes it up as a disposal of the patient's records (which a second person approves, and which
 * {@link Disposals} refuses while a legal retention period or a hold runs — the refusal is then given to the patient
 * as the answer), or refuses it with a reason the patient reads. Deletion itself is the disposal: tombstones, the
 * versions removed, the patient's data key destroyed (every backup copy becomes unreadable), a certificate.
 */
@Service
public class DeletionRequests {

    /** One request and what became of it ({@code state}: open, disposal (with the disposal's state), refused). */
    public record Request(UUID id, String patientKey, String requestedBy, Instant requestedAt, String reason,
                          String answeredBy, Instant answeredAt, String outcome, String answer, UUID disposalId,
                          String disposalState) {
        public String state() {
            return outcome == null ? "open" : outcome.equals("refused") ? "refused" : "disposal " + disposalState;
        }
    }

    private final JdbcTemplate jdbc;
    private final Disposals disposals;
    private final AuditTrail audit;
    private final Clock clock;

    DeletionRequests(JdbcTemplate jdbc, Disposals disposals, AuditTrail audit, Clock clock) {
        this.jdbc = jdbc;
        this.disposals = disposals;
        this.audit = audit;
        this.clock = clock;
    }

    /** The patient asks; one open request at a time. */
    public Request file(Agent patient, String patientKey, String reason) {
        if (reason != null && reason.length() > 1000) {
            throw new IllegalArgumentException("the reason is longer than 1000 characters");
        }
        if (!jdbc.queryForList("SELECT id FROM deletion_request WHERE patient_key = ? AND outcome IS NULL", UUID.class,
                patientKey).isEmpty()) {
            throw new IllegalArgumentException("a request to delete your data is already waiting for an answer");
        }
        UUID id = UUID.randomUUID();
        jdbc.update("INSERT INTO deletion_request (id, patient_key, requested_by, requested_at, reason) VALUES (?,?,?,?,?)",
                id, patientKey, patient.id(), Timestamp.from(clock.instant()), blankToNull(reason));
        audit.record(AuditRecord.of(patient, "phr.deletion-request", AuditRecord.Outcome.SUCCESS)
                .on("Patient", patientKey, null, patientKey).withDetail("request=" + id));
        return get(id).orElseThrow();
    }

    /** A patient's requests, newest first. */
    public List<Request> of(String patientKey) {
        return jdbc.query("SELECT * FROM deletion_request WHERE patient_key = ? ORDER BY requested_at DESC", this::row, patientKey);
    }

    /** The requests waiting for an answer, oldest first. */
    public List<Request> open() {
        return jdbc.query("SELECT * FROM deletion_request WHERE outcome IS NULL ORDER BY requested_at", this::row);
    }

    public Optional<Request> get(UUID id) {
        return jdbc.query("SELECT * FROM deletion_request WHERE id = ?", this::row, id).stream().findFirst();
    }

    /**
     * Takes a request up as a disposal of the patient's records (approved by a second person through {@code kiroku
     * disposal}). When the disposal cannot be requested (retention, hold, nothing to dispose of), the request is
     * answered with that reason instead, so the patient learns why.
     */
    public Request takeUp(UUID id, Agent admin) {
        Request r = waiting(id);
        try {
            Disposals.Disposal d = disposals.request(r.patientKey(), "PHR-04: the patient's deletion request " + id, admin);
            answer(id, admin, "disposal", "disposal requested; a second person approves it", d.id());
        } catch (Disposals.DisposalException e) {
            answer(id, admin, "refused", "cannot be deleted yet: " + e.getMessage(), null);
        }
        return get(id).orElseThrow();
    }

    /** Refuses a request with the reason the patient reads. */
    public Request refuse(UUID id, String answer, Agent admin) {
        if (answer == null || answer.isBlank()) {
            throw new IllegalArgumentException("give the reason the patient will read");
        }
        waiting(id);
        answer(id, admin, "refused", answer.strip(), null);
        return get(id).orElseThrow();
    }

    private Request waiting(UUID id) {
        Request r = get(id).orElseThrow(() -> new IllegalArgumentException("no deletion request " + id));
        if (r.outcome() != null) {
            throw new IllegalArgumentException("deletion request " + id + " was answered already (" + r.state() + ")");
        }
        return r;
    }

    private void answer(UUID id, Agent admin, String outcome, String text, UUID disposal) {
        if (jdbc.update("UPDATE deletion_request SET answered_by = ?, answered_at = ?, outcome = ?, answer = ?, disposal_id = ?"
                + " WHERE id = ? AND outcome IS NULL", admin.id(), Timestamp.from(clock.instant()), outcome, text, disposal, id) != 1) {
            throw new IllegalArgumentException("deletion request " + id + " was answered meanwhile");
        }
        Request r = get(id).orElseThrow();
        audit.record(AuditRecord.of(admin, "phr.deletion-answer", AuditRecord.Outcome.SUCCESS)
                .on("Patient", r.patientKey(), null, r.patientKey()).withDetail("request=" + id + " outcome=" + outcome
                        + (disposal == null ? "" : " disposal=" + disposal)));
    }

    private Request row(ResultSet rs, int i) throws SQLException {
        UUID disposal = rs.getObject("disposal_id", UUID.class);
        return new Request(rs.getObject("id", UUID.class), rs.getString("patient_key"), rs.getString("requested_by"),
                instant(rs, "requested_at"), rs.getString("reason"), rs.getString("answered_by"), instant(rs, "answered_at"),
                rs.getString("outcome"), rs.getString("answer"), disposal,
                disposal == null ? null : disposals.get(disposal).map(Disposals.Disposal::state).orElse(null));
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        Timestamp t = rs.getTimestamp(column);
        return t == null ? null : t.toInstant();
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
