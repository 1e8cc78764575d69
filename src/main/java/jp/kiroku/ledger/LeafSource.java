package jp.kiroku.ledger;

import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * A table whose rows a ledger logs. Every inserted row is queued as pending by a database trigger (log number and the
 * row's {@code seq}, see V5__ledgers.sql); the sequencer reads pending rows through {@link #columns()} and turns each
 * into its canonical leaf bytes with {@link #leaf}. Verification reads every row the same way and recomputes its leaf.
 * Implemented by the modules that own the tables (store, audit).
 */
public interface LeafSource {

    /** The log number the table's trigger queues under. */
    int log();

    /** The log's name in checkpoints, e.g. {@code kiroku/record}. */
    String origin();

    /** The table, with a {@code seq bigint} column numbering its rows. */
    String table();

    /** The select list (columns of the table aliased {@code s}) that {@link #leaf} reads. */
    String columns();

    /** The canonical leaf of the current row of {@code rs} (built with {@link LeafEncoder}). */
    byte[] leaf(ResultSet rs) throws SQLException;

    /**
     * A table of {@code seq}s of rows removed by a registered disposal (their log entries stay: the ledger keeps only
     * hashes), or null when rows of this source are never removed.
     */
    default String disposalRegister() {
        return null;
    }

    /** Columns (prefixed with a comma) that verification reads besides {@link #columns()} for {@link #problem}. */
    default String checkColumns() {
        return "";
    }

    /** What is wrong inside the row itself (e.g. a body that no longer matches its content hash), or null. */
    default String problem(ResultSet rs) throws SQLException {
        return null;
    }
}
