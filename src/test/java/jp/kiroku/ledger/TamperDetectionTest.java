package jp.kiroku.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.function.Consumer;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import jp.kiroku.support.ServerTest;

/**
 * Tampering through SQL, as someone with the tables' owner's rights could (triggers switched off), is detected by
 * verification and located exactly. Each case runs in a transaction that is rolled back, so the shared database stays
 * intact for the other tests.
 */
@Tag("LOG-02")
@Tag("INTEG-03")
class TamperDetectionTest extends ServerTest {

    @Autowired
    Ledgers ledgers;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    PlatformTransactionManager transactions;

    String patientId;

    @BeforeEach
    void someRecordsAndACheckpoint() {
        patientId = admin.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"改竄\"}]}")
                .as(org.hl7.fhir.r4.model.Patient.class).getIdElement().getIdPart();
        admin.put("Patient/" + patientId, "{\"resourceType\":\"Patient\",\"id\":\"" + patientId
                + "\",\"name\":[{\"family\":\"改竄二\"}]}");
        admin.get("Patient/" + patientId);
        ledgers.checkpointNow();
        admin.get("Patient/" + patientId); // one event after the checkpoint
        ledgers.sequenceNow();
    }

    @Test
    void anUntouchedDatabaseVerifies() {
        Ledgers.Verification v = tampered(sql -> { });
        assertThat(v.ok()).as("%s", v).isTrue();
        assertThat(v.logs()).allSatisfy(l -> assertThat(l.checkpoints()).isNotEmpty()
                .allSatisfy(c -> assertThat(c.status()).isEqualTo("matches")));
    }

    @Test
    void oneChangedByteOfAStoredVersionIsNamed() {
        long seq = versionSeq(1);
        Ledgers.Verification v = tampered(sql -> sql.update("UPDATE resource_version SET body = overlay(body placing"
                + " '\\x58'::bytea from 12 for 1) WHERE seq = ?", seq));
        assertThat(findings(v, "kiroku/record")).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo("content");
            assertThat(f.seq()).isEqualTo(seq);
            assertThat(f.index()).isEqualTo(indexOf(1, seq));
            assertThat(f.detail()).contains("Patient/" + patientId + "/_history/1");
        });
        assertThat(findings(v, "kiroku/audit")).isEmpty();
    }

    @Test
    void aVersionRewrittenWithAMatchingContentHashIsStillNamed() {
        long seq = versionSeq(1);
        // the intruder controls the whole row: a plain body (no data key), its hash, everything
        Ledgers.Verification v = tampered(sql -> sql.update("UPDATE resource_version SET body = convert_to('{}', 'UTF8'),"
                + " key_ref = NULL, content_hash = sha256(convert_to('{}', 'UTF8')) WHERE seq = ?", seq));
        assertThat(findings(v, "kiroku/record")).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo("altered");
            assertThat(f.index()).isEqualTo(indexOf(1, seq));
        });
    }

    @Test
    void aDeletedAuditEventIsNamed() {
        long seq = lastAuditSeq();
        Ledgers.Verification v = tampered(sql -> sql.update("DELETE FROM audit_log WHERE seq = ?", seq));
        assertThat(findings(v, "kiroku/audit")).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo("deleted");
            assertThat(f.seq()).isEqualTo(seq);
            assertThat(f.index()).isEqualTo(indexOf(2, seq));
        });
    }

    @Test
    void anInsertedAuditEventIsNamed() {
        long[] inserted = new long[1];
        Ledgers.Verification v = tampered(sql -> inserted[0] = sql.queryForObject("INSERT INTO audit_log (recorded, action,"
                + " outcome, agent_kind, agent_id, patients, entities) VALUES (now(), 'read', 'success', 'client', 'nobody',"
                + " '{}', '{}') RETURNING seq", Long.class));
        assertThat(findings(v, "kiroku/audit")).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo("inserted");
            assertThat(f.seq()).isEqualTo(inserted[0]);
        });
    }

    @Test
    void twoSwappedAuditEventsAreBothNamed() {
        List<Long> two = jdbc.queryForList("SELECT seq FROM audit_log WHERE action = 'read' AND entities && ARRAY['Patient/'"
                + " || ? || '/_history/2'] ORDER BY seq DESC LIMIT 2", Long.class, patientId);
        assertThat(two).hasSize(2);
        Ledgers.Verification v = tampered(sql -> {
            sql.update("UPDATE audit_log SET seq = -1 WHERE seq = ?", two.get(0));
            sql.update("UPDATE audit_log SET seq = ? WHERE seq = ?", two.get(0), two.get(1));
            sql.update("UPDATE audit_log SET seq = ? WHERE seq = -1", two.get(1));
        });
        // the two events differ (recorded time or request id), so each position now holds the other's leaf
        assertThat(findings(v, "kiroku/audit")).extracting(Ledgers.Finding::kind, Ledgers.Finding::index)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("altered", indexOf(2, two.get(0))),
                        org.assertj.core.groups.Tuple.tuple("altered", indexOf(2, two.get(1))));
    }

    @Test
    void aTruncatedTailIsFoundAgainstTheCheckpoint() {
        long size = jdbc.queryForObject("SELECT max(size) FROM ledger_checkpoint WHERE log = 2", Long.class);
        Ledgers.Verification v = tampered(sql -> {
            sql.update("DELETE FROM audit_log WHERE seq IN (SELECT source_seq FROM ledger_entry WHERE log = 2 AND idx >= ?)",
                    size - 2);
            sql.update("DELETE FROM ledger_entry WHERE log = 2 AND idx >= ?", size - 2);
            // a careful attacker also rewinds the sequencer's state to the shorter log
            StreamingRoot shorter = new StreamingRoot();
            sql.query("SELECT leaf_hash FROM ledger_entry WHERE log = 2 ORDER BY idx", rs -> {
                shorter.append(rs.getBytes(1));
            });
            new LedgerState(2, shorter, java.time.Instant.now()).save(sql);
        });
        Ledgers.LogReport audit = report(v, "kiroku/audit");
        assertThat(audit.ok()).isFalse();
        assertThat(audit.findings()).anySatisfy(f -> {
            assertThat(f.kind()).isEqualTo("checkpoint");
            assertThat(f.detail()).contains("size " + size).contains("beyond the log's end");
        });
        assertThat(audit.firstDivergence()).isLessThanOrEqualTo(size - 2);
    }

    @Test
    void aLogEntryRewrittenInPlaceBreaksTheCheckpointAndIsNamed() {
        long seq = versionSeq(1);
        long idx = indexOf(1, seq);
        Ledgers.Verification v = tampered(sql -> sql.update("UPDATE ledger_entry SET leaf_hash = sha256(leaf_hash)"
                + " WHERE log = 1 AND idx = ?", idx));
        Ledgers.LogReport record = report(v, "kiroku/record");
        assertThat(record.findings()).anySatisfy(f -> assertThat(f).extracting(Ledgers.Finding::kind, Ledgers.Finding::index)
                .containsExactly("altered", idx));
        assertThat(record.findings()).anySatisfy(f -> assertThat(f.kind()).isIn("checkpoint", "state"));
        assertThat(record.firstDivergence()).isEqualTo(idx);
    }

    @Test
    void anEditedCheckpointIsRejected() {
        Ledgers.Verification v = tampered(sql -> sql.update("UPDATE ledger_checkpoint SET note = regexp_replace(note,"
                + " '\\n(\\d+)\\n', E'\\n' || (size + 1) || E'\\n') WHERE log = 2 AND size = (SELECT max(size)"
                + " FROM ledger_checkpoint WHERE log = 2)"));
        assertThat(findings(v, "kiroku/audit")).anySatisfy(f -> {
            assertThat(f.kind()).isEqualTo("checkpoint");
            assertThat(f.detail()).contains("does not verify");
        });
    }

    /** Tampers with the owner's rights and triggers off, verifies, and rolls everything back. */
    private Ledgers.Verification tampered(Consumer<JdbcTemplate> tamper) {
        Ledgers.Verification[] result = new Ledgers.Verification[1];
        withOwnerRights(() -> result[0] = new TransactionTemplate(transactions).execute(status -> {
            ledgers.sequenceNow(); // holds the sequencer lock until the rollback: the background cannot interfere
            for (String table : List.of("resource_version", "audit_log", "ledger_entry", "ledger_checkpoint")) {
                jdbc.execute("ALTER TABLE " + table + " DISABLE TRIGGER USER"); // as the tables' owner may
            }
            tamper.accept(jdbc);
            Ledgers.Verification v = ledgers.verify(List.of(), n -> { });
            status.setRollbackOnly();
            return v;
        }));
        return result[0];
    }

    private long versionSeq(int version) {
        return jdbc.queryForObject("SELECT seq FROM resource_version WHERE res_type = 'Patient' AND res_id = ?"
                + " AND version_id = ?", Long.class, patientId, version);
    }

    private long lastAuditSeq() {
        return jdbc.queryForObject("SELECT max(source_seq) FROM ledger_entry WHERE log = 2", Long.class);
    }

    private long indexOf(int log, long seq) {
        return jdbc.queryForObject("SELECT idx FROM ledger_entry WHERE log = ? AND source_seq = ?", Long.class, log, seq);
    }

    private static Ledgers.LogReport report(Ledgers.Verification v, String origin) {
        return v.logs().stream().filter(l -> l.origin().equals(origin)).findFirst().orElseThrow();
    }

    private static List<Ledgers.Finding> findings(Ledgers.Verification v, String origin) {
        return report(v, origin).findings();
    }
}
