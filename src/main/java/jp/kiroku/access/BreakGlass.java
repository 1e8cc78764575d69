package jp.kiroku.access;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.platform.KirokuProperties;

/**
 * Break-glass (ACL-04): a clinician who has no care relationship with a patient opens the patient's record anyway,
 * because care cannot wait. The caller (the FHIR layer) has re-authenticated the person; this records why, for how
 * long ({@code kiroku.access.break-glass-duration}), and puts the use in the review queue that the security officer
 * works through. While a use is active, the person's roles reach that patient as if in their care, in any facility,
 * and every event they cause is audited with purpose {@code BTG}.
 */
@Component
public class BreakGlass {

    /** Why care could not wait; {@code other} needs a fuller text. */
    public static final Map<String, String> REASONS = Map.of(
            "emergency", "救急対応 / emergency treatment",
            "unconscious", "意識障害等で本人確認・同意が取れない / patient cannot consent",
            "covering", "担当医不在時の代行 / covering for the responsible clinician",
            "disaster", "災害時対応 / disaster response",
            "other", "その他 / other (explain)");

    /** One use: who opened whose record, why, until when, and how it was reviewed. */
    public record Use(UUID id, String username, String patientKey, String reasonCode, String reasonText,
                      Instant startedAt, Instant expiresAt, Instant endedAt, Instant reviewedAt, String reviewedBy,
                      String reviewOutcome, String reviewNote) {

        public boolean activeAt(Instant t) {
            return endedAt == null && expiresAt.isAfter(t);
        }
    }

    private static final Logger log = LoggerFactory.getLogger(BreakGlass.class);

    private final JdbcTemplate jdbc;
    private final AuditTrail audit;
    private final TransactionTemplate tx;
    private final Clock clock;
    private final KirokuProperties props;
    /** Per person, what they have opened; a use opened here is seen at once, one opened by another process within
     * kiroku.tokens.active-check-cache. */
    private final com.github.benmanes.caffeine.cache.LoadingCache<String, Map<String, Instant>> active;

    private final jp.kiroku.crypto.DataKeys keys;
    private final org.springframework.context.ApplicationEventPublisher events;

    /** Published after a use is opened and recorded. */
    public record Opened(Use use) {
    }
    private final RowMapper<Use> USE = this::mapUse;

    BreakGlass(JdbcTemplate jdbc, AuditTrail audit, TransactionTemplate tx, Clock clock, KirokuProperties props,
               jp.kiroku.crypto.DataKeys keys, org.springframework.context.ApplicationEventPublisher events) {
        this.events = events;
        this.keys = keys;
        this.jdbc = jdbc;
        this.audit = audit;
        this.tx = tx;
        this.clock = clock;
        this.props = props;
        this.active = com.github.benmanes.caffeine.cache.Caffeine.newBuilder()
                .expireAfterWrite(props.getTokens().getActiveCheckCache()).maximumSize(10_000).build(this::load);
    }

    /**
     * Opens a patient for a person whose roles reach clinical categories in care; refuses (IllegalArgumentException)
     * an unknown reason or a missing explanation, and (IllegalStateException) a person whose roles reach no patient
     * in care.
     */
    public Use open(Subject person, View readView, String patientKey, String reasonCode, String reasonText, Agent agent) {
        List<String> problems = problems(reasonCode, reasonText);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        String text = reasonText.strip();
        if (!person.person() || !readView.reachesPatientsInCare()) {
            throw new IllegalStateException("break-glass is for clinicians: no role of " + person.id()
                    + " reads patients' records in care");
        }
        Instant now = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        Use use = new Use(UUID.randomUUID(), person.id(), patientKey, reasonCode, text, now,
                now.plus(props.getAccess().getBreakGlassDuration()), null, null, null, null, null);
        // from here on this request acts under break-glass, the opening event included
        org.slf4j.MDC.put(AuditTrail.PURPOSE, "BTG");
        tx.executeWithoutResult(s -> {
            // the words may hold personal data: sealed under the patient's data key, bound to this use
            jdbc.update("INSERT INTO break_glass (id, username, patient_key, reason_code, reason_sealed, source_address,"
                    + " started_at, expires_at) VALUES (?,?,?,?,?,?,?,?)", use.id(), use.username(), patientKey, reasonCode,
                    jp.kiroku.crypto.Envelope.seal(keys.keyFor(jp.kiroku.crypto.DataKeys.patient(patientKey)),
                            text.getBytes(java.nio.charset.StandardCharsets.UTF_8), "break_glass/" + use.id()),
                    agent.address(), Timestamp.from(now), Timestamp.from(use.expiresAt()));
            audit.record(AuditRecord.of(agent, "break-glass.open", AuditRecord.Outcome.SUCCESS)
                    .on("Patient", patientKey, null, patientKey)
                    .withDetail("use=" + use.id() + " reason=" + reasonCode + " until=" + use.expiresAt()));
        });
        active.invalidate(person.id());
        events.publishEvent(new Opened(use)); // the security officer is told (incidents raises an alert and mails it)
        log.warn("BREAK-GLASS: {} opened a patient record outside their care (use {}, reason {}, until {}); review it with"
                + " 'kiroku break-glass list'", person.id(), use.id(), reasonCode, use.expiresAt());
        return use;
    }

    /** What is wrong with a reason and its explanation; empty when they will do. */
    public static List<String> problems(String reasonCode, String reasonText) {
        List<String> problems = new ArrayList<>();
        if (reasonCode == null || !REASONS.containsKey(reasonCode)) {
            problems.add("reason must be one of " + new java.util.TreeSet<>(REASONS.keySet()));
        }
        String text = reasonText == null ? "" : reasonText.strip();
        int least = "other".equals(reasonCode) ? 20 : 5;
        if (text.length() < least) {
            problems.add("explain the reason in words (at least " + least + " characters)");
        }
        return problems;
    }

    /** The patients a person has opened by break-glass and may still reach now. */
    public Set<String> activePatients(String username) {
        Instant now = clock.instant();
        Set<String> out = new java.util.HashSet<>();
        active.get(username).forEach((patient, until) -> {
            if (until.isAfter(now)) {
                out.add(patient);
            }
        });
        return out;
    }

    /** A person's uses that have not ended, by patient, with their expiry (checked against the clock on every use). */
    private Map<String, Instant> load(String username) {
        Map<String, Instant> out = new java.util.HashMap<>();
        jdbc.query("SELECT patient_key, max(expires_at) FROM break_glass WHERE username = ? AND expires_at > ?"
                + " AND ended_at IS NULL GROUP BY patient_key", rs -> {
                    out.put(rs.getString(1), rs.getTimestamp(2).toInstant());
                }, username, Timestamp.from(clock.instant()));
        return out;
    }

    /** Uses waiting for review (oldest first), or all uses since {@code since} when {@code all}. */
    public List<Use> uses(boolean all, Instant since) {
        return all ? jdbc.query("SELECT * FROM break_glass WHERE started_at >= ? ORDER BY started_at", USE, Timestamp.from(since))
                : jdbc.query("SELECT * FROM break_glass WHERE reviewed_at IS NULL ORDER BY started_at", USE);
    }

    public Optional<Use> use(UUID id) {
        return jdbc.query("SELECT * FROM break_glass WHERE id = ?", USE, id).stream().findFirst();
    }

    /**
     * The security officer closes a use: justified or not, with a note. A use is reviewed once, and not by the
     * person who used it.
     */
    public Use review(UUID id, boolean justified, String note, Agent reviewer) {
        Use use = use(id).orElseThrow(() -> new IllegalArgumentException("no break-glass use " + id));
        if (use.reviewedAt() != null) {
            throw new IllegalStateException("use " + id + " was reviewed already, by " + use.reviewedBy());
        }
        if (reviewer.id().equals(use.username())) {
            throw new IllegalStateException("a break-glass use is reviewed by someone else than the person who used it");
        }
        if (note == null || note.isBlank()) {
            throw new IllegalArgumentException("a review needs a note (what was checked)");
        }
        tx.executeWithoutResult(s -> {
            jdbc.update("UPDATE break_glass SET reviewed_at = ?, reviewed_by = ?, review_outcome = ?, review_note = ?"
                    + " WHERE id = ? AND reviewed_at IS NULL", Timestamp.from(clock.instant()),
                    reviewer.kind().code() + ":" + reviewer.id(), justified ? "justified" : "unjustified", note.strip(), id);
            audit.record(AuditRecord.of(reviewer, "break-glass.review", AuditRecord.Outcome.SUCCESS)
                    .on("Patient", use.patientKey(), null, use.patientKey())
                    .withDetail("use=" + id + " outcome=" + (justified ? "justified" : "unjustified")));
        });
        return use(id).orElseThrow();
    }

    private static Instant instant(java.sql.ResultSet rs, String column) throws java.sql.SQLException {
        Timestamp t = rs.getTimestamp(column);
        return t == null ? null : t.toInstant();
    }

    private Use mapUse(java.sql.ResultSet rs, int i) throws java.sql.SQLException {
        UUID id = rs.getObject("id", UUID.class);
        byte[] sealed = rs.getBytes("reason_sealed");
        String text = sealed == null ? rs.getString("reason_text") : new String(jp.kiroku.crypto.Envelope.open(
                keys.keyFor(jp.kiroku.crypto.DataKeys.patient(rs.getString("patient_key"))), sealed, "break_glass/" + id),
                java.nio.charset.StandardCharsets.UTF_8);
        return new Use(id, rs.getString("username"), rs.getString("patient_key"), rs.getString("reason_code"), text,
                instant(rs, "started_at"), instant(rs, "expires_at"), instant(rs, "ended_at"), instant(rs, "reviewed_at"),
                rs.getString("reviewed_by"), rs.getString("review_outcome"), rs.getString("review_note"));
    }
}
