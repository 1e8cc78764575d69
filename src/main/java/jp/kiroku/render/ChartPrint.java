package jp.kiroku.render;

import java.time.Instant;
import java.time.ZoneId;
import java.util.List;

import org.hl7.fhir.r4.model.Resource;

/**
 * Everything a chart printout shows, already gathered (and already filtered by what the reader may see): what
 * {@link ChartPdf} lays out. The renderer reads no database, so the web pages and the operators' commands print the
 * same way from what each of them was allowed to gather.
 *
 * @param purpose     a chart printout, or a disclosure to the patient (診療情報開示)
 * @param patient     whose records these are, printed on every page; null for records of no patient
 * @param scope       what was printed, in words (the whole chart, a period, one resource)
 * @param entries     the versions printed, in print order
 * @param withheld    for a disclosure: how many records were withheld (not named); 0 otherwise
 * @param checkpoint  the newest signed record-ledger checkpoint that covers the entries; null when none could be had
 * @param printedBy   who printed (a username, client id or the local operator)
 * @param printedAt   when
 * @param zone        the time zone of every printed time (kiroku.time-zone)
 */
public record ChartPrint(Purpose purpose, Person patient, String scope, List<Entry> entries, int withheld,
                         LedgerCheckpoint checkpoint, String printedBy, Instant printedAt, ZoneId zone) {

    public ChartPrint {
        entries = List.copyOf(entries);
    }

    public enum Purpose {
        CHART("診療記録", "Medical record"),
        DISCLOSURE("診療情報開示", "Disclosure of medical records");

        final String ja;
        final String en;

        Purpose(String ja, String en) {
            this.ja = ja;
            this.en = en;
        }
    }

    /** The patient as identified on every page: id, names (kanji, kana), birth date, sex, identifiers. */
    public record Person(String id, String kanji, String kana, String birthDate, String sex, List<String> identifiers) {
        public Person {
            identifiers = List.copyOf(identifiers);
        }
    }

    /** A version's record status (INTEG-02, -04): a draft, confirmed (確定), or a proxy entry not yet approved. */
    public enum Status {
        DRAFT("未確定"),
        CONFIRMED("確定"),
        UNAPPROVED("代行入力・未承認");

        final String ja;

        Status(String ja) {
            this.ja = ja;
        }
    }

    /**
     * One printed version of a resource.
     *
     * @param resource     the parsed version; null for a deletion (tombstone)
     * @param author       who entered it (username or client id), with {@code authorKind} (user, client, operator)
     * @param onBehalfOf   the responsible clinician of a proxy entry, or null
     * @param confirmedBy  who confirmed it (this version is the confirmation), or null, with {@code confirmedAt}
     * @param ledgerIndex  its leaf index in the record ledger, or null when not known (not sequenced yet)
     * @param uninformed   not yet told to the patient (JP-CLINS UNINFORMED, the undisclosed category): marked so that a
     *                     printout handed around in care warns that it is not for the patient's eyes
     */
    public record Entry(String type, String id, int version, Instant lastUpdated, Resource resource, Status status,
                        String authorKind, String author, String onBehalfOf, String confirmedBy, Instant confirmedAt,
                        Long ledgerIndex, boolean uninformed) {

        public boolean deleted() {
            return resource == null;
        }
    }

    /** A signed checkpoint (tree head) of the record ledger: its origin, size, root hash and signing time. */
    public record LedgerCheckpoint(String origin, long size, byte[] rootHash, Instant signedAt) {
    }
}
