package jp.kiroku.compliance;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;

/**
 * The security officer's answers to what the system cannot know: the organisational requirements (NET-01, …) and the
 * checklist items (CL-1-1, …). Every answer is kept ({@code compliance_answer}); the report shows the newest per item
 * with who gave it and when. Answering is audited.
 */
@Component
public class OfficerAnswers {

    /** An answer as given: the text, by whom (kind:id), when. */
    public record Answer(String item, String text, String by, Instant at) {
    }

    /** Longest answer kept (a paragraph, not a document: attach documents by reference). */
    public static final int MAX_LENGTH = 4000;

    private final JdbcTemplate jdbc;
    private final AuditTrail audit;
    private final Clock clock;
    private final Catalog catalog = Catalog.shipped();

    OfficerAnswers(JdbcTemplate jdbc, AuditTrail audit, Clock clock) {
        this.jdbc = jdbc;
        this.audit = audit;
        this.clock = clock;
    }

    /**
     * Records the answer to {@code item}: an organisational requirement's id or a checklist item (key CL-2-5 or as
     * numbered, 2-⑤). Refuses other items: those are computed.
     */
    public Answer answer(String item, String text, Agent by) {
        String id = canonical(item);
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("an answer needs text (what is in place, where it is documented, since when)");
        }
        if (text.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("an answer is at most " + MAX_LENGTH + " characters");
        }
        Instant now = clock.instant();
        String who = by.kind().code() + ":" + by.id();
        jdbc.update("INSERT INTO compliance_answer (item, answer, answered_by, answered_at) VALUES (?,?,?,?)", id,
                text.strip(), who, Timestamp.from(now));
        audit.record(AuditRecord.of(by, "compliance.answer", AuditRecord.Outcome.SUCCESS).withDetail("item=" + id));
        return new Answer(id, text.strip(), who, now);
    }

    /** The item as the answers store it: a requirement id in capitals, or a checklist key; refused when not a question. */
    String canonical(String item) {
        if (item != null) {
            var r = catalog.requirement(item.strip());
            if (r.isPresent()) {
                if (!r.get().organisational()) {
                    throw new IllegalArgumentException(r.get().id() + " is computed from the installation, not answered;"
                            + " the questions are the organisational requirements and the checklist items");
                }
                return r.get().id();
            }
            var c = catalog.checklistItem(item.strip());
            if (c.isPresent()) {
                return c.get().key();
            }
        }
        throw new IllegalArgumentException("no question '" + item + "': give an organisational requirement (e.g. NET-01)"
                + " or a checklist item (e.g. CL-1-1)");
    }

    /** The newest answer of every item answered. */
    public Map<String, Answer> latest() {
        Map<String, Answer> out = new LinkedHashMap<>();
        jdbc.query("SELECT DISTINCT ON (item) item, answer, answered_by, answered_at FROM compliance_answer"
                + " ORDER BY item, answered_at DESC, id DESC", rs -> {
                    out.put(rs.getString(1), new Answer(rs.getString(1), rs.getString(2), rs.getString(3),
                            rs.getTimestamp(4).toInstant()));
                });
        return out;
    }

    /** Every answer given to {@code item}, newest first. */
    public List<Answer> history(String item) {
        return jdbc.query("SELECT item, answer, answered_by, answered_at FROM compliance_answer WHERE item = ?"
                + " ORDER BY answered_at DESC, id DESC", (rs, i) -> new Answer(rs.getString(1), rs.getString(2),
                rs.getString(3), rs.getTimestamp(4).toInstant()), canonical(item));
    }
}
