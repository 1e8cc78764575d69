package jp.kiroku.audit;

import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * One access event: one interaction (a read, a search with every resource it returned, a transaction with every
 * version it wrote, a login, an admin action). {@code patients} are the patient keys touched; {@code entities} the
 * resources, as {@code Type/id/_history/version} (or {@code Type/id}, or {@code Type} when none was touched).
 * {@code detail} must never hold PHI or secrets (codes and counts); {@code query} is what was asked (search
 * parameters), which may hold PHI and is kept apart so that it can be encrypted.
 */
public record AuditRecord(Agent agent, String action, Outcome outcome, SortedSet<String> patients, List<String> entities,
                          String detail, String query) {

    public enum Outcome {
        SUCCESS, DENIED, FAILED;

        public String code() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public AuditRecord {
        patients = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(patients));
        entities = List.copyOf(entities);
    }

    public static AuditRecord of(Agent agent, String action, Outcome outcome) {
        return new AuditRecord(agent, action, outcome, new TreeSet<>(), List.of(), null, null);
    }

    /** This event, touching one more resource: version and patient may be null. */
    public AuditRecord on(String type, String id, Integer version, String patient) {
        return onAll(List.of(new Touched(type, id, version, patient)));
    }

    /** This event, touching these resources too. */
    public AuditRecord onAll(List<Touched> touched) {
        SortedSet<String> p = new TreeSet<>(patients);
        List<String> e = new ArrayList<>(entities);
        for (Touched t : touched) {
            if (t.type() == null) { // a system-level interaction (e.g. _history) touches no type
                continue;
            }
            e.add(t.reference());
            if (t.patient() != null) {
                p.add(t.patient());
            }
        }
        return new AuditRecord(agent, action, outcome, p, e, detail, query);
    }

    public AuditRecord withDetail(String text) {
        return new AuditRecord(agent, action, outcome, patients, entities, text, query);
    }

    public AuditRecord withQuery(String text) {
        return new AuditRecord(agent, action, outcome, patients, entities, detail, text);
    }

    /** A resource an event touched; id, version and patient may be null. */
    public record Touched(String type, String id, Integer version, String patient) {

        String reference() {
            return id == null ? type : version == null ? type + "/" + id : type + "/" + id + "/_history/" + version;
        }
    }
}
