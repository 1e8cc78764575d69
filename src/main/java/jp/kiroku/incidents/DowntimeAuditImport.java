package jp.kiroku.incidents;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;

/**
 * Brings a downtime viewer's audit file into the access log once the primary is back (brief, decision 7): the chain is
 * verified first (a broken one is refused whole), then every line not imported before becomes an audit event
 * {@code downtime.<action>} of the OS user who viewed (a local operator on the viewing host), touching the patient
 * viewed, with the time of the view in its detail; the import itself is audited too. The chain's head is remembered,
 * so the same file is refused a second time and a file that grew brings in only its new lines.
 */
@Service
public class DowntimeAuditImport {

    /** What an import did. */
    public record Imported(int lines, int recorded, String head) {
    }

    private final JdbcTemplate jdbc;
    private final AuditTrail audit;
    private final Clock clock;
    private final TransactionTemplate tx;

    DowntimeAuditImport(JdbcTemplate jdbc, AuditTrail audit, Clock clock, TransactionTemplate tx) {
        this.jdbc = jdbc;
        this.audit = audit;
        this.clock = clock;
        this.tx = tx;
    }

    /**
     * Imports the file; an {@link IllegalArgumentException} when the chain is broken or the file was imported (the
     * refusal is audited, and nothing of the file is recorded).
     */
    public Imported importFile(Path file, Agent by) throws IOException {
        try {
            List<DowntimeAudit.Line> lines = DowntimeAudit.verify(file);
            if (lines.isEmpty()) {
                throw new IllegalArgumentException("the downtime audit file " + file.getFileName() + " is empty");
            }
            return tx.execute(status -> record(file, lines, by));
        } catch (IllegalArgumentException e) {
            audit.record(AuditRecord.of(by, "downtime.import-audit", AuditRecord.Outcome.FAILED).withDetail("refused"));
            throw e;
        }
    }

    private Imported record(Path file, List<DowntimeAudit.Line> lines, Agent by) {
        // lock out a concurrent import of the same chain; then find how far earlier imports went
        jdbc.queryForList("SELECT pg_advisory_xact_lock(hashtext(?))", lines.get(0).prev());
        String head = lines.get(lines.size() - 1).hash();
        Set<String> known = Set.copyOf(jdbc.queryForList("SELECT head_hash FROM downtime_audit_import WHERE first_prev = ?",
                String.class, lines.get(0).prev()));
        if (known.contains(head)) {
            throw new IllegalArgumentException("the downtime audit file " + file.getFileName()
                    + " was imported already (its last line, " + lines.size() + ", is on record)");
        }
        int from = 0;
        for (int i = 0; i < lines.size(); i++) {
            if (known.contains(lines.get(i).hash())) {
                from = i + 1;
            }
        }
        List<AuditRecord> records = new ArrayList<>();
        for (DowntimeAudit.Line l : lines.subList(from, lines.size())) {
            AuditRecord.Outcome outcome = l.action().endsWith("-refused") ? AuditRecord.Outcome.DENIED
                    : AuditRecord.Outcome.SUCCESS;
            AuditRecord r = AuditRecord.of(new Agent(Agent.Kind.OPERATOR, l.user(), l.host()), "downtime." + l.action(),
                    outcome).withDetail("viewed-at=" + l.time() + " line=" + l.n() + " hash=" + l.hash());
            records.add(l.patient() == null ? r.on("Patient", null, null, null) : r.on("Patient", l.patient(), null, l.patient()));
        }
        records.add(AuditRecord.of(by, "downtime.import-audit", AuditRecord.Outcome.SUCCESS)
                .withDetail("lines=" + lines.size() + " recorded=" + (lines.size() - from) + " head=" + head));
        audit.recordAll(records);
        jdbc.update("INSERT INTO downtime_audit_import (head_hash, first_prev, lines, imported, imported_at, imported_by)"
                + " VALUES (?,?,?,?,?,?)", head, lines.get(0).prev(), lines.size(), lines.size() - from,
                Timestamp.from(clock.instant()), by.id());
        return new Imported(lines.size(), lines.size() - from, head);
    }
}
