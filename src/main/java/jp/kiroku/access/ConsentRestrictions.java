package jp.kiroku.access;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Reference;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;

import jp.kiroku.store.ResourceKey;

/**
 * Patients' restrictions (FHIR {@code Consent}): an active Consent's {@code deny} provisions hide the patient's records
 * — of the categories ({@code provision.code}, system {@link #CATEGORY_SYSTEM}) and types ({@code provision.class},
 * system {@code http://hl7.org/fhir/resource-types}) they name (all when none), created within
 * {@code provision.dataPeriod} (any time when none) — from the people they name ({@code provision.actor}, everyone
 * when none), except the person who wrote the record, the patient themselves and a clinician who opened the patient
 * by break-glass. Consents themselves are never hidden (they explain what is missing). Derived when a Consent is
 * written, in the same transaction; {@link View} applies them to reads and, as SQL, to searches.
 */
@Component
public class ConsentRestrictions {

    public static final String CATEGORY_SYSTEM = "http://kiroku.jp/fhir/CodeSystem/information-category";
    private static final String TYPE_SYSTEM = "http://hl7.org/fhir/resource-types";

    /** One deny provision for one category and type (null: all). */
    public record Restriction(String category, String type, Instant from, Instant to, List<String> actors) {
    }

    private final JdbcTemplate jdbc;
    private final Generation generation = new Generation();
    /** The patients who have restrictions, by generation (a write here starts a new one; other processes: cache time). */
    private final LoadingCache<Long, Set<String>> restricted;

    ConsentRestrictions(JdbcTemplate jdbc, jp.kiroku.platform.KirokuProperties props) {
        this.jdbc = jdbc;
        this.restricted = Caffeine.newBuilder().expireAfterWrite(props.getTokens().getActiveCheckCache()).maximumSize(4)
                .build(g -> Set.copyOf(jdbc.queryForList("SELECT DISTINCT patient_key FROM consent_restriction", String.class)));
    }

    public static boolean carriesRestrictions(String type) {
        return "Consent".equals(type);
    }

    /** What a Consent denies; nothing unless it is active. */
    public List<Restriction> restrictions(IBaseResource resource) {
        List<Restriction> out = new ArrayList<>();
        if (resource instanceof Consent c && c.getStatus() == Consent.ConsentState.ACTIVE && c.hasProvision()) {
            collect(c.getProvision(), out);
        }
        return out;
    }

    private static void collect(Consent.ProvisionComponent p, List<Restriction> out) {
        if (p.getType() == Consent.ConsentProvisionType.DENY) {
            List<String> categories = categories(p);
            List<String> types = new ArrayList<>();
            for (Coding coding : p.getClass_()) {
                if (TYPE_SYSTEM.equals(coding.getSystem()) && coding.hasCode()) {
                    types.add(coding.getCode());
                }
            }
            List<String> actors = new ArrayList<>();
            for (Consent.provisionActorComponent a : p.getActor()) {
                Reference r = a.getReference();
                if (r.hasReference() && r.getReferenceElement().hasResourceType() && r.getReferenceElement().hasIdPart()) {
                    actors.add(r.getReferenceElement().getResourceType() + "/" + r.getReferenceElement().getIdPart());
                }
            }
            Instant from = null;
            Instant to = null;
            if (p.hasDataPeriod()) {
                var period = p.getDataPeriod();
                from = period.hasStart() ? period.getStartElement().getValue().toInstant() : null;
                to = period.hasEnd() ? endExclusive(period.getEndElement()) : null;
            }
            for (String category : categories.isEmpty() ? java.util.Collections.<String>singletonList(null) : categories) {
                for (String type : types.isEmpty() ? java.util.Collections.<String>singletonList(null) : types) {
                    out.add(new Restriction(category, type, from, to, actors.isEmpty() ? null : List.copyOf(actors)));
                }
            }
        }
        p.getProvision().forEach(nested -> collect(nested, out));
    }

    /** The information categories a provision names ({@code provision.code}, system {@link #CATEGORY_SYSTEM}). */
    static List<String> categories(Consent.ProvisionComponent p) {
        List<String> categories = new ArrayList<>();
        for (CodeableConcept code : p.getCode()) {
            for (Coding coding : code.getCoding()) {
                if (CATEGORY_SYSTEM.equals(coding.getSystem()) && coding.hasCode()) {
                    categories.add(coding.getCode());
                }
            }
        }
        return categories;
    }

    /** The first instant after a (possibly partial) end: "2019" ends at the start of 2020. */
    static Instant endExclusive(org.hl7.fhir.r4.model.DateTimeType end) {
        java.util.Calendar cal = end.getValueAsCalendar();
        switch (end.getPrecision()) {
            case YEAR -> cal.add(java.util.Calendar.YEAR, 1);
            case MONTH -> cal.add(java.util.Calendar.MONTH, 1);
            case DAY -> cal.add(java.util.Calendar.DAY_OF_MONTH, 1);
            case MINUTE -> cal.add(java.util.Calendar.MINUTE, 1);
            case SECOND -> cal.add(java.util.Calendar.SECOND, 1);
            default -> cal.add(java.util.Calendar.MILLISECOND, 1);
        }
        return cal.toInstant();
    }

    /** Replaces what a Consent restricts (a deleted or inactive Consent restricts nothing). */
    public void replace(ResourceKey key, String patientKey, List<Restriction> restrictions) {
        generation.advanceAfterCommit();
        jdbc.update("DELETE FROM consent_restriction WHERE consent_id = ?", key.id());
        if (patientKey == null || restrictions.isEmpty()) {
            return;
        }
        jdbc.batchUpdate("INSERT INTO consent_restriction (consent_id, patient_key, category, res_type, data_from, data_to,"
                + " actors) VALUES (?,?,?,?,?,?,?)", restrictions, restrictions.size(), (ps, r) -> {
                    ps.setString(1, key.id());
                    ps.setString(2, patientKey);
                    ps.setString(3, r.category());
                    ps.setString(4, r.type());
                    ps.setTimestamp(5, r.from() == null ? null : Timestamp.from(r.from()));
                    ps.setTimestamp(6, r.to() == null ? null : Timestamp.from(r.to()));
                    ps.setArray(7, r.actors() == null ? null : ps.getConnection().createArrayOf("text", r.actors().toArray()));
                });
    }

    /** The patients who have any restriction (cached; empty almost always, which costs searches nothing). */
    Set<String> restrictedPatients() {
        return restricted.get(generation.current());
    }

    /**
     * The SQL that is true for a record (alias {@code c}, resource_current) a restriction hides from the subject; null
     * when none can apply to them.
     */
    View.Condition hidden(Subject subject, String c) {
        Set<String> patients = new HashSet<>(restrictedPatients());
        if (subject.selfPatient() != null) {
            patients.remove(subject.selfPatient());
        }
        patients.removeAll(subject.emergencyPatients());
        if (patients.isEmpty()) {
            return null;
        }
        List<String> actors = new ArrayList<>(subject.parties());
        String sql = "(" + c + ".res_type <> 'Consent' AND " + c + ".created_by IS DISTINCT FROM ?"
                + " AND (" + c + ".patient_key || '') = ANY (?) AND EXISTS (SELECT 1 FROM consent_restriction r"
                + " WHERE r.patient_key = " + c + ".patient_key"
                + " AND (r.category IS NULL OR r.category = " + c + ".category)"
                + " AND (r.res_type IS NULL OR r.res_type = " + c + ".res_type)"
                + " AND (r.data_from IS NULL OR " + c + ".created_at >= r.data_from)"
                + " AND (r.data_to IS NULL OR " + c + ".created_at < r.data_to)"
                + " AND (r.actors IS NULL OR r.actors && ?::text[])))";
        return new View.Condition(sql, List.of(subject.id(), patients.toArray(String[]::new), actors.toArray(String[]::new)));
    }

    /** Which of these records (all of patients with restrictions, within the subject's reach) a restriction hides. */
    Set<ResourceKey> hiddenAmong(Subject subject, Collection<ResourceKey> keys) {
        View.Condition hidden = hidden(subject, "c");
        Set<ResourceKey> out = new HashSet<>();
        if (hidden == null || keys.isEmpty()) {
            return out;
        }
        List<Object> args = new ArrayList<>();
        args.add(keys.stream().map(ResourceKey::type).toArray(String[]::new));
        args.add(keys.stream().map(ResourceKey::id).toArray(String[]::new));
        args.addAll(hidden.args());
        jdbc.query("SELECT c.res_type, c.res_id FROM resource_current c WHERE (c.res_type, c.res_id) IN"
                + " (SELECT * FROM unnest(?::text[], ?::text[])) AND " + hidden.sql(),
                rs -> {
                    out.add(new ResourceKey(rs.getString(1), rs.getString(2)));
                }, args.toArray());
        return out;
    }
}
