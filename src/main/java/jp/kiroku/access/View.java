package jp.kiroku.access;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jp.kiroku.store.Placement;
import jp.kiroku.store.ResourceKey;

/**
 * What one subject may reach for one action (read or write): per information category, how far. Answers for single
 * records ({@link #allows}), for a batch ({@link #check}) and as an SQL condition for searches ({@link #condition}),
 * so that hidden records are neither returned nor counted. The patient's consent restrictions
 * ({@link ConsentRestrictions}) narrow all three. A system's view is unrestricted (its scopes decide).
 */
public final class View {

    /** An SQL condition over a table with {@code patient_key}, {@code facility_id} and {@code category} columns. */
    public record Condition(String sql, List<Object> args) {
    }

    private final Subject subject;
    private final Map<String, Reach> reach;
    private final CareRelations relations;
    private final Instant careCutoff;
    private final jp.kiroku.store.RecordStore store;
    private final ConsentRestrictions consents;
    private final SharingConsents sharing;
    private final Instant now;
    /** The patients in the subject's care, looked up (from the per-person cache) when first needed. */
    private CareRelations.Patients inCare;

    View(Subject subject, Map<String, Reach> reach, CareRelations relations, Instant now, Instant careCutoff,
         jp.kiroku.store.RecordStore store, ConsentRestrictions consents, SharingConsents sharing) {
        this.consents = consents;
        this.sharing = sharing;
        this.now = now;
        this.subject = subject;
        this.reach = Map.copyOf(reach);
        this.relations = relations;
        this.careCutoff = careCutoff;
        this.store = store;
    }

    private java.util.Set<String> inCare() {
        return patientsInCare().set();
    }

    private CareRelations.Patients patientsInCare() {
        if (inCare == null) {
            inCare = relations.patientsInCare(subject.parties(), careCutoff);
        }
        return inCare;
    }

    public boolean unrestricted() {
        return !subject.person();
    }

    public Subject subject() {
        return subject;
    }

    /** How far the subject reaches into a category, if at all. */
    public Optional<Reach> reachOf(String category) {
        return unrestricted() ? Optional.of(Reach.FACILITY) : Optional.ofNullable(reach.get(category));
    }

    /** Whether any role reaches patients in care (a clinician): who may use break-glass. */
    public boolean reachesPatientsInCare() {
        return reach.containsValue(Reach.CARE);
    }

    public boolean allows(Placement p) {
        if (unrestricted()) {
            return true;
        }
        Reach r = reach.get(p.category());
        if (r == null) {
            return false;
        }
        if (opened(p, r)) {
            return true;
        }
        return switch (r) {
            case SELF -> p.patientKey() != null && p.patientKey().equals(subject.selfPatient());
            case FACILITY -> ownOrShared(p);
            case CARE -> ownOrShared(p) && (p.patientKey() == null || inCare().contains(p.patientKey()));
        };
    }

    /** A record of the subject's facility, or one the patient has shared with it ({@link SharingConsents}). */
    private boolean ownOrShared(Placement p) {
        return subject.facility().equals(p.facility()) || sharing.shared(subject.facility(), p.patientKey(), p.category(), now);
    }

    /**
     * {@link #allows(Placement)}, and not hidden from the subject by the patient's consent restrictions (looked up
     * only for patients who have any).
     */
    public boolean allows(ResourceKey key, Placement p) {
        if (!allows(p)) {
            return false;
        }
        return unrestricted() || p.patientKey() == null || !consents.restrictedPatients().contains(p.patientKey())
                || !consents.hiddenAmong(subject, List.of(key)).contains(key);
    }

    /** Break-glass: a patient the person opened, in a category their roles reach beyond their own record. */
    private boolean opened(Placement p, Reach r) {
        return r != Reach.SELF && p.patientKey() != null && subject.emergencyPatients().contains(p.patientKey());
    }

    /**
     * For each of these resources that exists: whether the subject reaches its current version (reads, includes,
     * snapshot pages). Their placements come in one query by primary key and are decided here, with the cached
     * patients in care: no query is planned per request.
     */
    public Map<ResourceKey, Boolean> check(java.util.Collection<ResourceKey> keys) {
        Map<ResourceKey, Boolean> out = new java.util.HashMap<>();
        List<ResourceKey> restricted = new ArrayList<>();
        java.util.Set<String> withRestrictions = unrestricted() ? java.util.Set.of() : consents.restrictedPatients();
        store.placements(keys).forEach((k, p) -> {
            boolean allowed = allows(p);
            out.put(k, allowed);
            if (allowed && p.patientKey() != null && withRestrictions.contains(p.patientKey())) {
                restricted.add(k);
            }
        });
        if (!restricted.isEmpty()) {
            consents.hiddenAmong(subject, restricted).forEach(k -> out.put(k, false));
        }
        return out;
    }

    /**
     * The condition a search adds so that it matches only reachable records; {@code alias} names the table (e.g.
     * {@code c} for resource_current). Null when nothing needs adding.
     */
    public Condition condition(String alias) {
        return condition(alias, null);
    }

    /**
     * The same for a search that names one patient ({@code patient=X}, {@code subject=Patient/X}, X's compartment, or X's
     * {@code $everything}):
     * when X is in care, the care check compares with X alone instead of every patient in care — the planner then has a
     * one-element array instead of hundreds (bench/RESULTS.md, run 17). A record that refers to X but belongs to another
     * patient in care is then not found by this search: stricter, never wider.
     */
    public Condition condition(String alias, String onePatient) {
        if (unrestricted()) {
            return null;
        }
        List<String> facility = new ArrayList<>();
        List<String> care = new ArrayList<>();
        List<String> self = new ArrayList<>();
        reach.forEach((category, r) -> (r == Reach.FACILITY ? facility : r == Reach.CARE ? care : self).add(category));
        List<Object> args = new ArrayList<>();
        List<String> any = new ArrayList<>();
        if (!facility.isEmpty() || !care.isEmpty()) {
            StringBuilder in = new StringBuilder();
            Condition shared = sharing.condition(subject.facility(), alias, now);
            if (shared == null) {
                in.append(alias).append(".facility_id = ? AND (");
                args.add(subject.facility());
            } else {
                in.append("(").append(alias).append(".facility_id = ? OR ").append(shared.sql()).append(") AND (");
                args.add(subject.facility());
                args.addAll(shared.args());
            }
            List<String> parts = new ArrayList<>();
            if (!facility.isEmpty()) {
                parts.add(alias + ".category = ANY (?)");
                args.add(facility.toArray(String[]::new));
            }
            if (!care.isEmpty()) {
                args.add(care.toArray(String[]::new));
                // the patients in care, looked up first (cached per person) and compared as an expression, not the
                // column: the planner neither estimates each array element against the column's statistics (planning
                // time grew with the patients in care) nor starts from the patient_key index to scan every
                // patient's records (bench/RESULTS.md, access checks)
                args.add(onePatient != null && inCare().contains(onePatient) ? new String[] {onePatient}
                        : patientsInCare().array()); // shared and never written to (JDBC only reads it)
                String related = "(" + alias + ".patient_key || '') = ANY (?)";
                parts.add("(" + alias + ".category = ANY (?) AND (" + alias + ".patient_key IS NULL OR " + related + "))");
            }
            in.append(String.join(" OR ", parts)).append(')');
            any.add("(" + in + ")");
        }
        if (!subject.emergencyPatients().isEmpty() && !(facility.isEmpty() && care.isEmpty())) {
            List<String> beyondSelf = new ArrayList<>(facility);
            beyondSelf.addAll(care);
            any.add("(" + alias + ".patient_key = ANY (?) AND " + alias + ".category = ANY (?))");
            args.add(subject.emergencyPatients().toArray(String[]::new));
            args.add(beyondSelf.toArray(String[]::new));
        }
        if (!self.isEmpty() && subject.selfPatient() != null) {
            any.add("(" + alias + ".category = ANY (?) AND " + alias + ".patient_key = ?)");
            args.add(self.toArray(String[]::new));
            args.add(subject.selfPatient());
        }
        if (any.isEmpty()) {
            return new Condition("false", args);
        }
        String reachable = "(" + String.join(" OR ", any) + ")";
        Condition hidden = consents.hidden(subject, alias);
        if (hidden == null) {
            return new Condition(reachable, args);
        }
        args.addAll(hidden.args());
        return new Condition("(" + reachable + " AND NOT " + hidden.sql() + ")", args);
    }

    @Override
    public String toString() {
        return "View[" + (unrestricted() ? "system " + subject.id() : subject.id() + " " + subject.roles()) + "]";
    }
}
