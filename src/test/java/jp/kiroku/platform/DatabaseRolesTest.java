package jp.kiroku.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.util.List;

import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import jp.kiroku.support.ServerTest;
import jp.kiroku.support.TestDatabase;

/**
 * The application's database role cannot change or remove what the ledgers cover, nor switch their protection off
 * (LOG-02, INTEG-03): only the tables' owner could, and then the append-only triggers still refuse until switched off.
 */
@Tag("LOG-02")
@Tag("INTEG-03")
class DatabaseRolesTest extends ServerTest {

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    PlatformTransactionManager transactions;
    @Autowired
    jp.kiroku.ledger.Ledgers ledgers;

    @BeforeEach
    void aPatientWithHistoryAndARead() {
        assumeThat(TestDatabase.external()).as("an external test database runs with one role").isEmpty();
        String id = admin.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"権限\"}]}")
                .as(Patient.class).getIdElement().getIdPart();
        admin.get("Patient/" + id);
        ledgers.checkpointNow(); // a row in every ledger table, so that the row triggers fire
    }

    @ParameterizedTest
    @ValueSource(strings = {"resource_version", "audit_log", "ledger_entry", "ledger_checkpoint"})
    void theApplicationRoleCannotChangeRemoveOrUnprotectLedgerRows(String table) {
        String update = "UPDATE " + table + (List.of("resource_version", "audit_log").contains(table) ? " SET seq = seq"
                : " SET log = log");
        for (String change : List.of(update, "DELETE FROM " + table, "TRUNCATE " + table,
                "ALTER TABLE " + table + " DISABLE TRIGGER USER", "DROP TABLE " + table)) {
            assertThatThrownBy(() -> rolledBack(() -> jdbc.execute(change))).as(change)
                    .rootCause().hasMessageMatching("(?s).*(permission denied|must be owner).*");
        }
        // flipped: with the owner's rights the privilege checks pass, and the append-only trigger is what refuses
        withOwnerRights(() -> {
            assertThatThrownBy(() -> rolledBack(() -> jdbc.execute(update))).as(update)
                    .rootCause().hasMessageContaining("append-only");
            rolledBack(() -> {
                jdbc.execute("ALTER TABLE " + table + " DISABLE TRIGGER USER");
                jdbc.execute(update);
            });
        });
    }

    @Test
    void theApplicationRoleStillWritesWhatItMust() {
        long before = jdbc.queryForObject("SELECT count(*) FROM ledger_entry", Long.class);
        String id = admin.post("Patient", "{\"resourceType\":\"Patient\"}").as(Patient.class).getIdElement().getIdPart();
        assertThat(admin.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"active\":true}").status())
                .isEqualTo(200);
        assertThat(admin.delete("Patient/" + id).status()).isEqualTo(200);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM resource_version WHERE res_id = ?", Long.class, id)).isEqualTo(3);
        ledgers.sequenceNow(); // the sequencer deletes what it appended from the queue and updates the ledger state
        assertThat(jdbc.queryForObject("SELECT count(*) FROM ledger_entry", Long.class)).isGreaterThan(before);
    }

    @Test
    void theMigrationHistoryIsTheOwnersAlone() {
        assertThatThrownBy(() -> jdbc.queryForObject("SELECT count(*) FROM flyway_schema_history", Long.class))
                .rootCause().hasMessageContaining("permission denied");
        withOwnerRights(() -> assertThat(jdbc.queryForObject("SELECT count(*) FROM flyway_schema_history", Long.class))
                .isPositive());
    }

    private void rolledBack(Runnable r) {
        new TransactionTemplate(transactions).executeWithoutResult(status -> {
            status.setRollbackOnly();
            r.run();
        });
    }
}
