package jp.kiroku.access;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Identifier;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;

import jp.kiroku.store.ResourceKey;

/**
 * Sharing between facilities with the patient's consent (issue 12, item 4; PHR-01): an active {@code Consent} whose
 * {@code permit} provision names a facility as actor ({@code provision.actor.reference.identifier}, system
 * {@link #FACILITY_SYSTEM}) lets that facility's people reach the patient's records made anywhere in this Kiroku — of
 * the categories the provision names ({@code provision.code}, system {@link ConsentRestrictions#CATEGORY_SYSTEM}; all
 * but {@link #NAMED_ONLY} when none) while now is within {@code provision.period} — exactly as far as their roles reach records of their own
 * facility (a clinician still needs a care relationship with the patient). Derived when a Consent is written, in the
 * same transaction; a revoked (inactive) or deleted Consent shares nothing from its commit on. {@link View} applies it.
 */
@Component
public class SharingConsents {

    /** The identifier system of a facility (the ids of the facility register, {@code kiroku facility}). */
    public static final String FACILITY_SYSTEM = "http://kiroku.jp/fhir/NamingSystem/facility";

    /** Categories shared only when a provision names them: "all" never includes them. */
    static final List<String> NAMED_ONLY = List.of("sensitive", "undisclosed");

    /** One facility's right to one patient's records. */
    public record Share(String recipient, List<String> categories, List<String> purposes, Instant from, Instant to) {
        boolean covers(String category, Instant now) {
            return (categories == null ? !NAMED_ONLY.contains(category) : categories.contains(category))
                    && (from == null || !now.isBefore(from))
                    && (to == null || now.isBefore(to));
        }
    }

    private final JdbcTemplate jdbc;
    private final Generation generation = new Generation();
    /** recipient facility → patient → shares, by generation (a write here starts a new one; other processes: cache time). */
    private final LoadingCache<Long, Map<String, Map<String, List<Share>>>> shares;

    SharingConsents(JdbcTemplate jdbc, jp.kiroku.platform.KirokuProperties props) {
        this.jdbc = jdbc;
        this.shares = Caffeine.newBuilder().expireAfterWrite(props.getTokens().getActiveCheckCache()).maximumSize(4)
                .build(g -> load());
    }

    private Map<String, Map<String, List<Share>>> load() {
        Map<String, Map<String, List<Share>>> out = new HashMap<>();
        jdbc.query("SELECT patient_key, recipient, categories, purposes, valid_from, valid_to FROM consent_share", rs -> {
            java.sql.Array cats = rs.getArray(3);
            Timestamp from = rs.getTimestamp(5);
            Timestamp to = rs.getTimestamp(6);
            Share s = new Share(rs.getString(2), cats == null ? null : List.of((String[]) cats.getArray()),
                    List.of((String[]) rs.getArray(4).getArray()), from == null ? null : from.toInstant(),
                    to == null ? null : to.toInstant());
            out.computeIfAbsent(s.recipient(), r -> new HashMap<>()).computeIfAbsent(rs.getString(1), p -> new ArrayList<>()).add(s);
        });
        return out;
    }

    public static boolean carriesShares(String type) {
        return "Consent".equals(type);
    }

    /** What a Consent shares; nothing unless it is active. */
    public List<Share> shares(IBaseResource resource) {
        List<Share> out = new ArrayList<>();
        if (resource instanceof Consent c && c.getStatus() == Consent.ConsentState.ACTIVE && c.hasProvision()) {
            collect(c.getProvision(), out);
        }
        return out;
    }

    private static void collect(Consent.ProvisionComponent p, List<Share> out) {
        if (p.getType() == Consent.ConsentProvisionType.PERMIT) {
            List<String> categories = ConsentRestrictions.categories(p);
            List<String> purposes = p.getPurpose().stream().filter(Coding::hasCode).map(Coding::getCode).toList();
            Instant from = p.getPeriod().hasStart() ? p.getPeriod().getStart().toInstant() : null;
            Instant to = p.getPeriod().hasEnd() ? ConsentRestrictions.endExclusive(p.getPeriod().getEndElement()) : null;
            for (Consent.provisionActorComponent a : p.getActor()) {
                Identifier id = a.getReference().getIdentifier();
                if (FACILITY_SYSTEM.equals(id.getSystem()) && id.hasValue()) {
                    out.add(new Share(id.getValue(), categories.isEmpty() ? null : List.copyOf(categories), purposes, from, to));
                }
            }
        }
        p.getProvision().forEach(nested -> collect(nested, out));
    }

    /** Replaces what a Consent shares (a deleted or inactive Consent shares nothing); takes effect at commit. */
    public void replace(ResourceKey key, String patientKey, List<Share> given) {
        generation.advanceAfterCommit();
        jdbc.update("DELETE FROM consent_share WHERE consent_id = ?", key.id());
        if (patientKey == null || given.isEmpty()) {
            return;
        }
        // one row per recipient: several provisions for the same facility are merged (widest categories, all purposes)
        Map<String, Share> byRecipient = new java.util.LinkedHashMap<>();
        for (Share s : given) {
            byRecipient.merge(s.recipient(), s, SharingConsents::merged);
        }
        List<Share> rows = List.copyOf(byRecipient.values());
        jdbc.batchUpdate("INSERT INTO consent_share (consent_id, patient_key, recipient, categories, purposes, valid_from,"
                + " valid_to) VALUES (?,?,?,?,?,?,?)", rows, rows.size(), (ps, s) -> {
                    ps.setString(1, key.id());
                    ps.setString(2, patientKey);
                    ps.setString(3, s.recipient());
                    ps.setArray(4, s.categories() == null ? null : ps.getConnection().createArrayOf("text", s.categories().toArray()));
                    ps.setArray(5, ps.getConnection().createArrayOf("text", s.purposes().toArray()));
                    ps.setTimestamp(6, s.from() == null ? null : Timestamp.from(s.from()));
                    ps.setTimestamp(7, s.to() == null ? null : Timestamp.from(s.to()));
                });
    }

    private static Share merged(Share a, Share b) {
        List<String> categories = a.categories() == null || b.categories() == null ? null
                : java.util.stream.Stream.concat(a.categories().stream(), b.categories().stream()).distinct().toList();
        List<String> purposes = java.util.stream.Stream.concat(a.purposes().stream(), b.purposes().stream()).distinct().toList();
        Instant from = a.from() == null || b.from() == null ? null : a.from().isBefore(b.from()) ? a.from() : b.from();
        Instant to = a.to() == null || b.to() == null ? null : a.to().isAfter(b.to()) ? a.to() : b.to();
        return new Share(a.recipient(), categories, purposes, from, to);
    }

    private Map<String, List<Share>> sharedWithByPatient(String facility) {
        return shares.get(generation.current()).getOrDefault(facility, Map.of());
    }

    /** The patients shared with a facility (any category, any time; cached); empty almost always. */
    Set<String> sharedWith(String facility) {
        return sharedWithByPatient(facility).keySet();
    }

    /** Whether a record of this patient and category is shared with the facility now. */
    boolean shared(String facility, String patientKey, String category, Instant now) {
        if (patientKey == null) {
            return false;
        }
        List<Share> list = sharedWithByPatient(facility).get(patientKey);
        return list != null && list.stream().anyMatch(s -> s.covers(category, now));
    }

    /**
     * The SQL that is true for a record (alias {@code c}) shared with the facility now; null when nothing is shared
     * with it (searches then cost nothing extra).
     */
    View.Condition condition(String facility, String c, Instant now) {
        Set<String> patients = sharedWith(facility);
        if (patients.isEmpty()) {
            return null;
        }
        Timestamp at = Timestamp.from(now);
        return new View.Condition("((" + c + ".patient_key || '') = ANY (?) AND EXISTS (SELECT 1 FROM consent_share s"
                + " WHERE s.recipient = ? AND s.patient_key = " + c + ".patient_key"
                + " AND (s.categories IS NULL AND " + c + ".category <> ALL (?) OR " + c + ".category = ANY (s.categories))"
                + " AND (s.valid_from IS NULL OR s.valid_from <= ?) AND (s.valid_to IS NULL OR s.valid_to > ?)))",
                List.of(patients.toArray(String[]::new), facility, NAMED_ONLY.toArray(String[]::new), at, at));
    }
}
