package jp.kiroku.devices;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;

/**
 * The explanation of security risks shown to a patient before a device is lent (IOT-02), in Japanese and English.
 * Versions are never changed: the operator adds a new one, and each lending names the version the patient saw.
 */
@Service
public class Documents {

    private final JdbcTemplate jdbc;
    private final AuditTrail audit;
    private final Clock clock;

    Documents(JdbcTemplate jdbc, AuditTrail audit, Clock clock) {
        this.jdbc = jdbc;
        this.audit = audit;
        this.clock = clock;
    }

    /** One version of the explanation in one language. */
    public record Document(int version, String lang, String title, String body, String contact, Instant createdAt,
                           String createdBy) {
    }

    /**
     * Adds a version: the texts in Japanese (required) and English (optional; when missing, the previous version's
     * English text is not carried over — a form in English is then refused for this version).
     */
    public int add(Document ja, Document en, Agent by) {
        Devices.require(ja != null && "ja".equals(ja.lang()), "a version needs its Japanese text");
        int version = newestVersion(jdbc) + 1;
        for (Document d : en == null ? List.of(ja) : List.of(ja, en)) {
            Devices.require(d.title() != null && !d.title().isBlank() && d.body() != null && !d.body().isBlank(),
                    "an explanation needs a title and a text (" + d.lang() + ")");
            Devices.require(d.contact() != null && !d.contact().isBlank(), "an explanation says whom to contact (" + d.lang() + ")");
            jdbc.update("INSERT INTO device_document (version, lang, title, body, contact, created_at, created_by)"
                    + " VALUES (?,?,?,?,?,?,?)", version, d.lang(), d.title(), d.body(), d.contact(),
                    Timestamp.from(clock.instant()), by.id());
        }
        audit.record(AuditRecord.of(by, "device.document", AuditRecord.Outcome.SUCCESS).withDetail("version " + version));
        return version;
    }

    public List<Document> list() {
        return jdbc.query("SELECT * FROM device_document ORDER BY version, lang", DOCUMENT);
    }

    static int newestVersion(JdbcTemplate jdbc) {
        Integer v = jdbc.queryForObject("SELECT max(version) FROM device_document", Integer.class);
        return v == null ? 0 : v;
    }

    static boolean exists(JdbcTemplate jdbc, int version) {
        return Boolean.TRUE.equals(jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM device_document WHERE version = ?)",
                Boolean.class, version));
    }

    static Optional<Document> find(JdbcTemplate jdbc, int version, String lang) {
        return jdbc.query("SELECT * FROM device_document WHERE version = ? AND lang = ?", DOCUMENT, version, lang).stream()
                .findFirst();
    }

    private static final org.springframework.jdbc.core.RowMapper<Document> DOCUMENT = (rs, i) -> new Document(
            rs.getInt("version"), rs.getString("lang"), rs.getString("title"), rs.getString("body"), rs.getString("contact"),
            Devices.instant(rs, "created_at"), rs.getString("created_by"));
}
