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
    private final org.springframework.jdbc.core.JdbcTemplate jdbc;

    View(Subject subject, Map<String, Reach> reach, CareRelations relations, Instant careCutoff,
         org.springframework.jdbc.core.JdbcTemplate jdbc) {
        this.subject = subject;
        this.reach = Map.copyOf(reach);
        this.relations = relations;
        this.careCutoff = careCutoff;
        this.jdbc = jdbc;
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
            case FACILITY -> subject.facility().equals(p.facility());
            case CARE -> subject.facility().equals(p.facility()) && (p.patientKey() == null
                    || !relations.relatedAmong(subject.parties(), List.of(p.patientKey()), careCutoff).isEmpty());
        };
    }

    /** Break-glass: a patient the person opened, in a category their roles reach beyond their own record. */
    private boolean opened(Placement p, Reach r) {
        return r != Reach.SELF && p.patientKey() != null && subject.emergencyPatients().contains(p.patientKey());
    }

    /**
     * For each of these resources that exists: whether the subject reaches its current version. One query (the
     * condition below, with the care relationship checked per resource), for reads, includes and snapshot pages.
     */
    public Map<ResourceKey, Boolean> check(java.util.Collection<ResourceKey> keys) {
        Map<ResourceKey, Boolean> out = new java.util.HashMap<>();
        if (keys.isEmpty()) {
            return out;
        }
        Condition c = unrestricted() ? new Condition("true", List.of()) : condition("c", false);
        jdbc.execute((java.sql.Connection con) -> {
            try (var ps = con.prepareStatement("SELECT c.res_type, c.res_id, " + c.sql() + " FROM resource_current c"
                    + " WHERE (c.res_type, c.res_id) IN (SELECT * FROM unnest(?::text[], ?::text[]))")) {
                // planned for its values every time: the generic plan PostgreSQL settles on after five runs hashes all
                // of the person's relationships (3.6 ms) instead of probing the one patient's (0.1 ms)
                ps.unwrap(org.postgresql.PGStatement.class).setPrepareThreshold(0);
                int i = 1;
                for (Object arg : c.args()) {
                    ps.setObject(i++, arg instanceof String[] a ? con.createArrayOf("text", a) : arg);
                }
                jp.kiroku.store.KeyArrays.bind(con, ps, i, keys);
                try (var rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.put(new ResourceKey(rs.getString(1), rs.getString(2)), rs.getBoolean(3));
                    }
                }
            }
            return null;
        });
        return out;
    }

    /**
     * The condition a search adds so that it matches only reachable records; {@code alias} names the table (e.g.
     * {@code c} for resource_current). Null when nothing needs adding.
     */
    public Condition condition(String alias) {
        return unrestricted() ? null : condition(alias, true);
    }

    /**
     * With {@code resolved}, the patients in care are looked up first and passed as an array (a search: the planner
     * keeps starting from the search's own conditions); without, each row's patient is checked by a correlated
     * look-up (a few given rows).
     */
    private Condition condition(String alias, boolean resolved) {
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
                String related;
                if (resolved) {
                    args.add(relations.relatedPatients(subject.parties(), careCutoff).toArray(String[]::new));
                    // an expression, not the column: the planner neither estimates each array element against the
                    // column's statistics (planning time grew with the patients in care) nor starts from the
                    // patient_key index to scan every patient's records
                    related = "(" + alias + ".patient_key || '') = ANY (?)";
                } else {
                    args.add(subject.parties().toArray(String[]::new));
                    args.add(java.sql.Timestamp.from(careCutoff));
                    related = "EXISTS (SELECT 1 FROM care_relation r WHERE r.patient_key = " + alias + ".patient_key"
                            + " AND r.party = ANY (?) AND (r.until IS NULL OR r.until > ?))";
                }
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
        return new Condition(any.isEmpty() ? "false" : "(" + String.join(" OR ", any) + ")", args);
    }

    @Override
    public String toString() {
        return "View[" + (unrestricted() ? "system " + subject.id() : subject.id() + " " + subject.roles()) + "]";
    }
}
