package jp.kiroku.access;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import jp.kiroku.store.Placement;
import jp.kiroku.store.ResourceKey;

/**
 * What one subject may reach for one action (read or write): per information category, how far. Answers for single
 * records ({@link #allows}), for a batch ({@link #allowed}) and as an SQL condition for searches ({@link #condition}),
 * so that hidden records are neither returned nor counted. A system's view is unrestricted (its scopes decide).
 */
public final class View {

    /** An SQL condition over a table with {@code patient_key}, {@code facility_id} and {@code category} columns. */
    public record Condition(String sql, List<Object> args) {
    }

    private final Subject subject;
    private final Map<String, Reach> reach;
    private final CareRelations relations;
    private final Instant careCutoff;

    View(Subject subject, Map<String, Reach> reach, CareRelations relations, Instant careCutoff) {
        this.subject = subject;
        this.reach = Map.copyOf(reach);
        this.relations = relations;
        this.careCutoff = careCutoff;
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

    public boolean allows(Placement p) {
        if (unrestricted()) {
            return true;
        }
        Reach r = reach.get(p.category());
        if (r == null) {
            return false;
        }
        return switch (r) {
            case SELF -> p.patientKey() != null && p.patientKey().equals(subject.selfPatient());
            case FACILITY -> subject.facility().equals(p.facility());
            case CARE -> subject.facility().equals(p.facility()) && (p.patientKey() == null
                    || !relations.relatedAmong(subject.parties(), List.of(p.patientKey()), careCutoff).isEmpty());
        };
    }

    /** The keys whose placement the subject may reach, in one relationship lookup. */
    public Set<ResourceKey> allowed(Map<ResourceKey, Placement> placements) {
        if (unrestricted()) {
            return placements.keySet();
        }
        Set<String> needCare = new HashSet<>();
        placements.values().forEach(p -> {
            if (reach.get(p.category()) == Reach.CARE && p.patientKey() != null && subject.facility().equals(p.facility())) {
                needCare.add(p.patientKey());
            }
        });
        Set<String> related = relations.relatedAmong(subject.parties(), needCare, careCutoff);
        Set<ResourceKey> out = new LinkedHashSet<>();
        placements.forEach((k, p) -> {
            Reach r = reach.get(p.category());
            boolean ok = r != null && switch (r) {
                case SELF -> p.patientKey() != null && p.patientKey().equals(subject.selfPatient());
                case FACILITY -> subject.facility().equals(p.facility());
                case CARE -> subject.facility().equals(p.facility()) && (p.patientKey() == null || related.contains(p.patientKey()));
            };
            if (ok) {
                out.add(k);
            }
        });
        return out;
    }

    /**
     * The condition a search adds so that it matches only reachable records; {@code alias} names the table (e.g.
     * {@code c} for resource_current). Null when nothing needs adding.
     */
    public Condition condition(String alias) {
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
            StringBuilder in = new StringBuilder(alias + ".facility_id = ? AND (");
            args.add(subject.facility());
            List<String> parts = new ArrayList<>();
            if (!facility.isEmpty()) {
                parts.add(alias + ".category = ANY (?)");
                args.add(facility.toArray(String[]::new));
            }
            if (!care.isEmpty()) {
                args.add(care.toArray(String[]::new));
                parts.add("(" + alias + ".category = ANY (?) AND (" + alias + ".patient_key IS NULL OR "
                        + CareRelations.relatedCondition(alias + ".patient_key", subject.parties(), careCutoff, args) + "))");
            }
            in.append(String.join(" OR ", parts)).append(')');
            any.add("(" + in + ")");
        }
        if (!self.isEmpty() && subject.selfPatient() != null) {
            any.add("(" + alias + ".category = ANY (?) AND " + alias + ".patient_key = ?)");
            args.add(self.toArray(String[]::new));
            args.add(subject.selfPatient());
        }
        return new Condition(any.isEmpty() ? "false" : "(" + String.join(" OR ", any) + ")", args);
    }

    @Override
    public String toString() {
        return "View[" + (unrestricted() ? "system " + subject.id() : subject.id() + " " + subject.roles()) + "]";
    }
}
