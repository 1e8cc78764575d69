package jp.kiroku.retention;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.TreeMap;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.annotation.Transactional;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.platform.KirokuProperties;

/**
 * Retention (PRES-01): each information category is kept a number of years after the patient's last entry in it
 * (the catalog's "from the last entry or completion"), never less than the legal minimum; a legal hold keeps a
 * patient's records however old. The report lists the patients whose every category is past retention and who are not
 * on hold: the candidates for disposal (which is a later step of issue 7).
 */
@Component
public class Retention {

    /** One category's rule, for every facility ({@code "*"}) or for one type of facility. */
    public record Rule(String facilityType, String category, int years, int legalMinimum, String basis) {
    }

    /** A facility's kind of institution. */
    public record Facility(String id, String name, String type) {
    }

    /** The kinds of institution a facility can be. */
    public static final List<String> FACILITY_TYPES = List.of("hospital", "clinic", "dental-clinic", "pharmacy",
            "home-nursing", "midwifery");
    private static final String EVERY = "*";

    /** A patient past retention in every category they have records in, with the last entry that decided it. */
    public record Expired(String patientKey, Instant lastEntry, Instant keptUntil) {
    }

    public record Hold(String patientKey, String reason, String placedBy, Instant placedAt) {
    }

    private final JdbcTemplate jdbc;
    private final AuditTrail audit;
    private final Clock clock;
    private final ZoneId zone;

    Retention(JdbcTemplate jdbc, AuditTrail audit, Clock clock, KirokuProperties props) {
        this.jdbc = jdbc;
        this.audit = audit;
        this.clock = clock;
        this.zone = props.getTimeZone();
    }

    /** Every rule: those for every facility first, then those of facility types. */
    public List<Rule> rules() {
        return jdbc.query("SELECT facility_type, category, years, legal_minimum, basis FROM retention_rule"
                + " ORDER BY facility_type <> '*', facility_type, category",
                (rs, i) -> new Rule(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getInt(4), rs.getString(5)));
    }

    /** Keeps a category longer (or back down to, never below, its legal minimum), everywhere. */
    public Rule setYears(String category, int years, Agent by) {
        return setYears(EVERY, category, years, by);
    }

    /** The same for one type of facility ({@code "*"}: every facility without a rule of its own type). */
    @Transactional
    public Rule setYears(String facilityType, String category, int years, Agent by) {
        if (!facilityType.equals(EVERY) && !FACILITY_TYPES.contains(facilityType)) {
            throw new IllegalArgumentException("no facility type '" + facilityType + "' (types: " + FACILITY_TYPES + ")");
        }
        Rule base = rules().stream().filter(r -> r.facilityType().equals(EVERY) && r.category().equals(category)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no retention rule for category '" + category + "' (rules: "
                        + rules().stream().filter(r -> r.facilityType().equals(EVERY)).map(Rule::category).toList() + ")"));
        if (years < base.legalMinimum()) {
            throw new IllegalArgumentException(category + " must be kept at least " + base.legalMinimum() + " years ("
                    + base.basis() + ")");
        }
        jdbc.update("INSERT INTO retention_rule (facility_type, category, years, legal_minimum, basis) VALUES (?,?,?,?,?)"
                + " ON CONFLICT (facility_type, category) DO UPDATE SET years = excluded.years", facilityType, category, years,
                base.legalMinimum(), base.basis());
        audit.record(AuditRecord.of(by, "retention.set", AuditRecord.Outcome.SUCCESS)
                .withDetail("facility-type=" + facilityType + " category=" + category + " years=" + years));
        return new Rule(facilityType, category, years, base.legalMinimum(), base.basis());
    }

    /** Says what kind of institution a facility is (its records then follow that type's rules where it has some). */
    @Transactional
    public Facility setFacility(String id, String name, String type, Agent by) {
        if (!FACILITY_TYPES.contains(type)) {
            throw new IllegalArgumentException("no facility type '" + type + "' (types: " + FACILITY_TYPES + ")");
        }
        jdbc.update("INSERT INTO facility (id, name, type, set_by, set_at) VALUES (?,?,?,?,?) ON CONFLICT (id) DO UPDATE"
                + " SET name = coalesce(excluded.name, facility.name), type = excluded.type, set_by = excluded.set_by,"
                + " set_at = excluded.set_at", id, name, type, by.kind().code() + ":" + by.id(), Timestamp.from(clock.instant()));
        audit.record(AuditRecord.of(by, "facility.set", AuditRecord.Outcome.SUCCESS).withDetail("facility=" + id + " type=" + type));
        return facilities().stream().filter(f -> f.id().equals(id)).findFirst().orElseThrow();
    }

    public List<Facility> facilities() {
        return jdbc.query("SELECT id, name, type FROM facility ORDER BY id", (rs, i) -> new Facility(rs.getString(1),
                rs.getString(2), rs.getString(3)));
    }

    @Transactional
    public void hold(String patientKey, String reason, Agent by) {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("say why the records are held (e.g. the case number)");
        }
        jdbc.update("INSERT INTO legal_hold (patient_key, reason, placed_by, placed_at) VALUES (?,?,?,?)"
                + " ON CONFLICT (patient_key) DO UPDATE SET reason = excluded.reason", patientKey, reason.strip(),
                by.kind().code() + ":" + by.id(), Timestamp.from(clock.instant()));
        audit.record(AuditRecord.of(by, "retention.hold", AuditRecord.Outcome.SUCCESS).on("Patient", patientKey, null, patientKey));
    }

    @Transactional
    public boolean release(String patientKey, Agent by) {
        boolean released = jdbc.update("DELETE FROM legal_hold WHERE patient_key = ?", patientKey) == 1;
        audit.record(AuditRecord.of(by, "retention.release", released ? AuditRecord.Outcome.SUCCESS : AuditRecord.Outcome.FAILED)
                .on("Patient", patientKey, null, patientKey));
        return released;
    }

    /** Whether a patient's records are on legal hold. */
    public boolean isHeld(String patientKey) {
        return Boolean.TRUE.equals(jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM legal_hold WHERE patient_key = ?)",
                Boolean.class, patientKey));
    }

    public List<Hold> holds() {
        return jdbc.query("SELECT patient_key, reason, placed_by, placed_at FROM legal_hold ORDER BY placed_at",
                (rs, i) -> new Hold(rs.getString(1), rs.getString(2), rs.getString(3), rs.getTimestamp(4).toInstant()));
    }

    /**
     * The patients all of whose records are past retention at {@code asOf}: for each category they have records in,
     * the last entry plus that category's years (a category without a rule keeps the records: deny disposal by
     * default), and not on legal hold. Oldest first.
     */
    public List<Expired> expired(Instant asOf) {
        return expiredAmong(asOf, null, null);
    }

    /** One patient, if past retention in every category and not on hold. */
    public Optional<Expired> expired(Instant asOf, String patientKey) {
        return expiredAmong(asOf, patientKey, null).stream().findFirst();
    }

    /** One patient's records made at one facility, if past retention there in every category, and not on hold. */
    public Optional<Expired> expiredAt(Instant asOf, String patientKey, String facility) {
        return expiredAmong(asOf, patientKey, facility).stream().findFirst();
    }

    private List<Expired> expiredAmong(Instant asOf, String onlyPatient, String onlyFacility) {
        Map<String, Integer> years = new TreeMap<>(); // "type|category" -> years
        rules().forEach(r -> years.put(r.facilityType() + "|" + r.category(), r.years()));
        Map<String, Instant> keptUntil = new TreeMap<>();
        Map<String, Instant> lastEntry = new TreeMap<>();
        java.util.Set<String> keptForever = new java.util.HashSet<>();
        jdbc.query("SELECT c.patient_key, c.category, f.type, max(c.last_updated) FROM resource_current c"
                + " LEFT JOIN facility f ON f.id = c.facility_id"
                + " WHERE c.patient_key IS NOT NULL AND NOT EXISTS (SELECT 1 FROM legal_hold h WHERE h.patient_key = c.patient_key)"
                + (onlyPatient == null ? "" : " AND c.patient_key = ?")
                + (onlyFacility == null ? "" : " AND c.facility_id = ?")
                + " GROUP BY c.patient_key, c.category, f.type", (org.springframework.jdbc.core.RowCallbackHandler) rs -> {
                    String patient = rs.getString(1);
                    Integer y = rs.getString(3) == null ? null : years.get(rs.getString(3) + "|" + rs.getString(2));
                    if (y == null) {
                        y = years.get(EVERY + "|" + rs.getString(2));
                    }
                    Instant last = rs.getTimestamp(4).toInstant();
                    lastEntry.merge(patient, last, (a, b) -> a.isAfter(b) ? a : b);
                    if (y == null) {
                        keptForever.add(patient);
                        return;
                    }
                    Instant until = last.atZone(zone).plusYears(y).toInstant();
                    keptUntil.merge(patient, until, (a, b) -> a.isAfter(b) ? a : b);
                }, java.util.stream.Stream.of(onlyPatient, onlyFacility).filter(java.util.Objects::nonNull).toArray());
        List<Expired> out = new ArrayList<>();
        keptUntil.forEach((patient, until) -> {
            if (!keptForever.contains(patient) && !until.isAfter(asOf)) {
                out.add(new Expired(patient, lastEntry.get(patient), until));
            }
        });
        out.sort(java.util.Comparator.comparing(Expired::keptUntil));
        return out;
    }
}
