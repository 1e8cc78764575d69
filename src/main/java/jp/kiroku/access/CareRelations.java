package jp.kiroku.access;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.EpisodeOfCare;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Reference;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import jp.kiroku.store.ResourceKey;

/**
 * Care relationships: which practitioners, departments and wards treat which patient. Derived from Encounter
 * (participants, the service provider, locations), EpisodeOfCare (care manager, managing organization) and CareTeam
 * (members, managing organizations) each time one is written, in the same transaction, and looked up by
 * {@link View} when a person's reach is "care".
 */
@Component
public class CareRelations {

    /** One party of a relationship and when it ends (null: open). */
    public record Link(String party, Instant until) {
    }

    private static final Set<String> TYPES = Set.of("Encounter", "EpisodeOfCare", "CareTeam");

    private final JdbcTemplate jdbc;
    /**
     * Each set of parties' patients with the end of their latest relationship (null: open), as read at a generation.
     * A write in this process starts a new generation once committed; other processes' writes are seen within
     * kiroku.tokens.active-check-cache.
     */
    private final com.github.benmanes.caffeine.cache.Cache<List<String>, Known> known;
    private final Generation generation = new Generation();

    private record Known(long generation, java.util.Map<String, Instant> until, java.util.concurrent.atomic.AtomicReference<Patients> derived) {
    }

    /**
     * The patients in care as of one cutoff, as a set (single checks) and as the array a search sends; it stays right
     * for later cutoffs until the earliest of its relationships ends ({@code stableBefore}), so one person's requests
     * share it instead of rebuilding it each time (bench/RESULTS.md, run 12).
     */
    record Patients(Set<String> set, String[] array, Instant cutoff, Instant stableBefore) {
        boolean validFor(Instant c) {
            return !c.isBefore(cutoff) && (stableBefore == null || c.isBefore(stableBefore));
        }
    }

    CareRelations(JdbcTemplate jdbc, jp.kiroku.platform.KirokuProperties props) {
        this.jdbc = jdbc;
        this.known = com.github.benmanes.caffeine.cache.Caffeine.newBuilder()
                .expireAfterWrite(props.getTokens().getActiveCheckCache()).maximumSize(10_000).build();
    }

    /** Whether resources of this type carry care relationships. */
    public static boolean carriesRelations(String type) {
        return TYPES.contains(type);
    }

    /**
     * The parties a resource relates to its patient, with the time the relationship ends; empty for a cancelled or
     * erroneous one. {@code writtenAt} closes a finished one that names no end.
     */
    public List<Link> links(IBaseResource resource, Instant writtenAt) {
        List<Link> out = new ArrayList<>();
        List<Reference> parties = new ArrayList<>();
        String status = null;
        Period period = null;
        if (resource instanceof Encounter e) {
            status = e.hasStatus() ? e.getStatus().toCode() : null;
            period = e.getPeriod();
            e.getParticipant().forEach(p -> parties.add(p.getIndividual()));
            parties.add(e.getServiceProvider());
            e.getLocation().forEach(l -> parties.add(l.getLocation()));
        } else if (resource instanceof EpisodeOfCare e) {
            status = e.hasStatus() ? e.getStatus().toCode() : null;
            period = e.getPeriod();
            parties.add(e.getCareManager());
            parties.add(e.getManagingOrganization());
        } else if (resource instanceof CareTeam t) {
            status = t.hasStatus() ? t.getStatus().toCode() : null;
            period = t.getPeriod();
            t.getParticipant().forEach(p -> parties.add(p.getMember()));
            parties.addAll(t.getManagingOrganization());
        }
        Instant end = period != null && period.hasEnd() ? period.getEnd().toInstant() : null;
        Instant until;
        if (status != null && OPEN.contains(status)) {
            until = end;
        } else if (status != null && CLOSED.contains(status)) {
            until = end != null ? end : writtenAt;
        } else {
            return out; // cancelled, entered-in-error, unknown: no relationship
        }
        parties.forEach(ref -> add(out, ref, until));
        return out;
    }

    private static final Patients NOBODY = new Patients(Set.of(), new String[0], Instant.MIN, null);

    /** Statuses (of the three types) during which a relationship holds, and those after which it runs out. */
    private static final Set<String> OPEN = Set.of("planned", "arrived", "triaged", "in-progress", "onleave", "waitlist",
            "active", "onhold", "proposed", "suspended");
    private static final Set<String> CLOSED = Set.of("finished", "inactive");

    private static void add(List<Link> out, Reference ref, Instant until) {
        if (ref == null || !ref.hasReference()) {
            return;
        }
        var id = ref.getReferenceElement();
        if (id.isAbsolute() || !id.hasResourceType() || !id.hasIdPart()) {
            return;
        }
        String party = id.getResourceType() + "/" + id.getIdPart();
        if (out.stream().noneMatch(l -> l.party().equals(party))) {
            out.add(new Link(party, until));
        }
    }

    /** Replaces what a resource says about its patient's care (no links, or no patient: it says nothing any more). */
    public void replace(ResourceKey key, String patientKey, List<Link> links) {
        generation.advanceAfterCommit();
        jdbc.update("DELETE FROM care_relation WHERE res_type = ? AND res_id = ?", key.type(), key.id());
        if (patientKey == null || links.isEmpty()) {
            return;
        }
        jdbc.batchUpdate("INSERT INTO care_relation (res_type, res_id, party, patient_key, until) VALUES (?,?,?,?,?)",
                links, links.size(), (ps, l) -> {
                    ps.setString(1, key.type());
                    ps.setString(2, key.id());
                    ps.setString(3, l.party());
                    ps.setString(4, patientKey);
                    ps.setTimestamp(5, l.until() == null ? null : Timestamp.from(l.until()));
                });
    }

    /**
     * Every patient one of the parties has a relationship with that ended after {@code cutoff}. A search narrows by
     * this set (one indexed look-up per search) rather than by a sub-select, which led the planner to start from the
     * relationships and scan each patient's records (bench/RESULTS.md, access checks).
     */
    Patients patientsInCare(List<String> parties, Instant cutoff) {
        if (parties.isEmpty()) {
            return NOBODY;
        }
        long now = generation.current();
        Known k = known.getIfPresent(parties);
        if (k == null || k.generation() != now) {
            java.util.Map<String, Instant> until = new java.util.HashMap<>();
            jdbc.query("SELECT patient_key, bool_or(until IS NULL), max(until) FROM care_relation WHERE party = ANY (?)"
                    + " GROUP BY patient_key", rs -> {
                        Timestamp t = rs.getTimestamp(3);
                        until.put(rs.getString(1), rs.getBoolean(2) || t == null ? null : t.toInstant());
                    }, (Object) parties.toArray(String[]::new));
            k = new Known(now, until, new java.util.concurrent.atomic.AtomicReference<>());
            known.put(List.copyOf(parties), k);
        }
        Patients derived = k.derived().get();
        if (derived != null && derived.validFor(cutoff)) {
            return derived;
        }
        Set<String> out = new HashSet<>();
        Instant stableBefore = null;
        for (var e : k.until().entrySet()) {
            Instant end = e.getValue();
            if (end == null || end.isAfter(cutoff)) {
                out.add(e.getKey());
                if (end != null && (stableBefore == null || end.isBefore(stableBefore))) {
                    stableBefore = end;
                }
            }
        }
        Patients p = new Patients(Set.copyOf(out), out.toArray(String[]::new), cutoff, stableBefore);
        k.derived().set(p);
        return p;
    }
}
