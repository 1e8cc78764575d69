package jp.kiroku.incidents;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;

/**
 * Incident records (issue 10, item 3; INC-01..05): opened from alerts or by hand, with a timeline of what was seen,
 * done and reported, and the contact chart. Whose events an incident is about is given by its subjects
 * (account:&lt;name&gt;, client:&lt;id&gt;, address:&lt;ip&gt;, or an alert's "account:&lt;name&gt; from &lt;ip&gt;") and
 * its window; the affected patients are computed from the audit ledger over those, so nobody types them in and
 * nobody can leave one out. Every change is audited and leaves a timeline entry.
 */
@Service
public class Incidents {

    public static final List<String> STATUSES = List.of("open", "contained", "recovered", "closed");
    public static final List<String> ENTRY_KINDS = List.of("action", "contact", "note", "report");
    public static final List<String> PERSONAL_DATA = List.of("unknown", "no", "suspected", "yes");
    public static final List<String> PARTIES = List.of("internal", "vendor", "ministry", "police", "prefecture", "ppc",
            "other");

    /** The fields an operator may set after opening; values in words (lists comma-separated). */
    public static final List<String> FIELDS = List.of("title", "facility", "description", "cause", "systems", "subjects",
            "window-from", "window-to", "personal-data", "data-kinds", "malicious", "secondary-damage",
            "persons-notified", "publication", "prevention");

    public record Incident(long id, String title, String status, String facility, Instant detectedAt,
                           Instant windowFrom, Instant windowTo, List<String> subjects, List<String> systems,
                           String description, String cause, String personalData, List<String> dataKinds,
                           boolean malicious, String secondaryDamage, String personsNotified, String publication,
                           String prevention, String openedBy, Instant openedAt, Instant closedAt) {
    }

    public record Entry(long id, Instant at, String kind, String text, String by) {
    }

    /** A patient whose data the incident's subjects reached: how often, when, and by which actions. */
    public record AffectedPatient(String patient, long events, Instant first, Instant last, List<String> actions) {
    }

    public record Contact(long id, String party, String organisation, String name, String role, String phone,
                          String email, String notes, int priority) {
    }

    private final JdbcTemplate jdbc;
    private final AuditTrail audit;
    private final Clock clock;
    private final Detection detection;

    Incidents(JdbcTemplate jdbc, AuditTrail audit, Clock clock, Detection detection) {
        this.jdbc = jdbc;
        this.audit = audit;
        this.clock = clock;
        this.detection = detection;
    }

    /**
     * Opens an incident. Its subjects are {@code subjects} and those of {@code alerts}; its window starts at
     * {@code windowFrom} or, when not given, at the earliest alert's window (an incident by hand without either
     * starts now). The alerts are taken up: linked, acknowledged, and entered on the timeline.
     */
    @Transactional
    public Incident open(String title, List<Long> alerts, List<String> subjects, Instant windowFrom, Agent by) {
        if (title == null || title.isBlank()) {
            throw new IllegalArgumentException("an incident needs a title");
        }
        Instant now = clock.instant();
        List<Detection.Alert> taken = new ArrayList<>();
        for (long a : alerts) {
            Detection.Alert alert = detection.find(a).orElseThrow(() -> new IllegalArgumentException("no alert " + a));
            if (jdbc.queryForObject("SELECT incident_id FROM alert WHERE id = ?", Long.class, a) != null) {
                throw new IllegalArgumentException("alert " + a + " belongs to an incident already");
            }
            taken.add(alert);
        }
        Set<String> all = new LinkedHashSet<>();
        subjects.forEach(s -> all.add(subject(s)));
        taken.stream().map(Detection.Alert::subject).filter(Incidents::concernsPeople).forEach(all::add);
        Instant from = windowFrom != null ? windowFrom
                : taken.stream().map(Detection.Alert::windowFrom).min(Instant::compareTo).orElse(now);
        long id = jdbc.queryForObject("INSERT INTO incident (title, status, detected_at, window_from, subjects, opened_by,"
                + " opened_at) VALUES (?, 'open', ?, ?, ?::text[], ?, ?) RETURNING id", Long.class, title.strip(),
                Timestamp.from(now), Timestamp.from(from), all.toArray(String[]::new), name(by), Timestamp.from(now));
        entry(id, "opened", "opened: " + title.strip(), by, now);
        for (Detection.Alert a : taken) {
            jdbc.update("UPDATE alert SET incident_id = ?, acknowledged_at = coalesce(acknowledged_at, ?),"
                    + " acknowledged_by = coalesce(acknowledged_by, ?) WHERE id = ?", id, Timestamp.from(now), name(by), a.id());
            entry(id, "alert", "alert #" + a.id() + " " + a.rule() + " " + a.subject() + ": " + a.summary()
                    + " (evidence: " + a.evidence().size() + " audit events)", by, now);
        }
        audit.record(AuditRecord.of(by, "incident.open", AuditRecord.Outcome.SUCCESS)
                .withDetail("incident=" + id + " alerts=" + taken.size() + " subjects=" + all.size()));
        return find(id).orElseThrow();
    }

    /** Sets one of {@link #FIELDS}; the timeline says what was set (a free-text field's value is not repeated there). */
    @Transactional
    public Incident set(long id, String field, String value, Agent by) {
        Incident before = get(id);
        String v = value == null || value.isBlank() ? null : value.strip();
        List<String> list = v == null ? List.of() : Arrays.stream(v.split(",")).map(String::strip)
                .filter(s -> !s.isEmpty()).toList();
        switch (field) {
            case "title" -> update(id, "title", required(field, v));
            case "facility" -> {
                if (v != null && jdbc.queryForObject("SELECT count(*) FROM facility WHERE id = ?", Integer.class, v) == 0) {
                    throw new IllegalArgumentException("no facility " + v + " (kiroku facility list)");
                }
                update(id, "facility", v);
            }
            case "description", "cause", "secondary-damage", "persons-notified", "publication", "prevention" ->
                    update(id, field.replace('-', '_'), v);
            case "systems", "data-kinds" -> update(id, field.replace('-', '_'), list.toArray(String[]::new));
            case "subjects" -> update(id, "subjects", list.stream().map(Incidents::subject).toArray(String[]::new));
            case "window-from" -> update(id, "window_from", Timestamp.from(instant(field, required(field, v))));
            case "window-to" -> update(id, "window_to", v == null ? null : Timestamp.from(instant(field, v)));
            case "personal-data" -> update(id, "personal_data", oneOf(field, v, PERSONAL_DATA));
            case "malicious" -> update(id, "malicious", Boolean.parseBoolean(oneOf(field, v, List.of("true", "false"))));
            default -> throw new IllegalArgumentException("unknown field " + field + "; one of " + String.join(", ", FIELDS));
        }
        boolean words = List.of("description", "cause", "secondary-damage", "persons-notified", "publication",
                "prevention").contains(field);
        entry(id, "note", field + (words ? " updated" : " set to " + (v == null ? "(none)" : v)), by, clock.instant());
        audit.record(AuditRecord.of(by, "incident.update", AuditRecord.Outcome.SUCCESS)
                .withDetail("incident=" + before.id() + " field=" + field));
        return find(id).orElseThrow();
    }

    /** Adds an action taken, a contact made, a note or a report sent to the timeline. */
    @Transactional
    public Entry log(long id, String kind, String text, Agent by) {
        get(id);
        oneOf("kind", kind, ENTRY_KINDS);
        Entry e = entry(id, kind, required(kind, text), by, clock.instant());
        audit.record(AuditRecord.of(by, "incident.log", AuditRecord.Outcome.SUCCESS)
                .withDetail("incident=" + id + " kind=" + kind));
        return e;
    }

    /** Moves the incident on (open → contained → recovered → closed; any order, as responses go); closing stamps it. */
    @Transactional
    public Incident status(long id, String status, Agent by) {
        Incident before = get(id);
        oneOf("status", status, STATUSES);
        Instant now = clock.instant();
        jdbc.update("UPDATE incident SET status = ?, closed_at = ?, window_to = CASE WHEN ? AND window_to IS NULL"
                + " THEN ? ELSE window_to END WHERE id = ?", status, status.equals("closed") ? Timestamp.from(now) : null,
                status.equals("closed"), Timestamp.from(now), id);
        entry(id, "status", before.status() + " → " + status, by, now);
        audit.record(AuditRecord.of(by, "incident.status", AuditRecord.Outcome.SUCCESS)
                .withDetail("incident=" + id + " status=" + status));
        return find(id).orElseThrow();
    }

    public Optional<Incident> find(long id) {
        return jdbc.query("SELECT * FROM incident WHERE id = ?", INCIDENT, id).stream().findFirst();
    }

    /** Incidents, newest first: those not closed unless {@code all}. */
    public List<Incident> list(boolean all) {
        return jdbc.query("SELECT * FROM incident" + (all ? "" : " WHERE status <> 'closed'") + " ORDER BY id DESC",
                INCIDENT);
    }

    public List<Entry> timeline(long id) {
        get(id);
        return jdbc.query("SELECT * FROM incident_entry WHERE incident_id = ? ORDER BY at, id", (rs, i) -> new Entry(
                rs.getLong("id"), rs.getTimestamp("at").toInstant(), rs.getString("kind"), rs.getString("text"),
                rs.getString("by_agent")), id);
    }

    /**
     * The patients whose data the incident's subjects reached in its window (INC-04): every successful audited
     * access by those accounts, clients or addresses, from the audit ledger. Refused requests reached nothing and do
     * not count. {@code by} is recorded as having listed them (the count, not the patients, is in the detail).
     */
    public List<AffectedPatient> affectedPatients(long id, Agent by) {
        Incident incident = get(id);
        List<AffectedPatient> patients = affected(incident);
        audit.record(AuditRecord.of(by, "incident.patients", AuditRecord.Outcome.SUCCESS)
                .withDetail("incident=" + id + " patients=" + patients.size()));
        return patients;
    }

    List<AffectedPatient> affected(Incident incident) {
        List<String> conditions = new ArrayList<>();
        List<Object> args = new ArrayList<>();
        for (String s : incident.subjects()) {
            String[] parts = s.split(":", 2);
            String[] from = parts[1].split(" from ", 2);
            switch (parts[0]) {
                case "account" -> conditions.add("(agent_kind = 'user' AND agent_id = ?"
                        + (from.length == 2 ? " AND source_address = ?)" : ")"));
                case "client" -> conditions.add("(agent_kind = 'client' AND agent_id = ?)");
                case "address" -> conditions.add("(source_address = ?)");
                default -> throw new IllegalStateException("subject " + s);
            }
            args.addAll(List.of(from));
        }
        if (conditions.isEmpty()) {
            return List.of();
        }
        args.add(0, Timestamp.from(incident.windowFrom()));
        args.add(1, Timestamp.from(incident.windowTo() != null ? incident.windowTo() : clock.instant()));
        return jdbc.query("SELECT p, count(*), min(recorded), max(recorded), array_agg(DISTINCT action ORDER BY action)"
                + " FROM audit_log, unnest(patients) p WHERE outcome = 'success' AND recorded >= ? AND recorded <= ?"
                + " AND (" + String.join(" OR ", conditions) + ") GROUP BY p ORDER BY p", (rs, i) -> new AffectedPatient(
                rs.getString(1), rs.getLong(2), rs.getTimestamp(3).toInstant(), rs.getTimestamp(4).toInstant(),
                Arrays.asList((String[]) rs.getArray(5).getArray())), args.toArray());
    }

    // --- the contact chart (INC-02) ---

    public Contact addContact(Contact c, Agent by) {
        oneOf("party", c.party(), PARTIES);
        required("organisation", c.organisation());
        long id = jdbc.queryForObject("INSERT INTO incident_contact (party, organisation, name, role, phone, email, notes,"
                + " priority) VALUES (?,?,?,?,?,?,?,?) RETURNING id", Long.class, c.party(), c.organisation().strip(),
                c.name(), c.role(), c.phone(), c.email(), c.notes(), c.priority());
        audit.record(AuditRecord.of(by, "incident.contact.add", AuditRecord.Outcome.SUCCESS)
                .withDetail("contact=" + id + " party=" + c.party()));
        return contacts().stream().filter(x -> x.id() == id).findFirst().orElseThrow();
    }

    public void removeContact(long id, Agent by) {
        if (jdbc.update("DELETE FROM incident_contact WHERE id = ?", id) == 0) {
            throw new IllegalArgumentException("no contact " + id);
        }
        audit.record(AuditRecord.of(by, "incident.contact.remove", AuditRecord.Outcome.SUCCESS).withDetail("contact=" + id));
    }

    /** The chart in calling order. */
    public List<Contact> contacts() {
        return jdbc.query("SELECT * FROM incident_contact ORDER BY priority, party, id", (rs, i) -> new Contact(
                rs.getLong("id"), rs.getString("party"), rs.getString("organisation"), rs.getString("name"),
                rs.getString("role"), rs.getString("phone"), rs.getString("email"), rs.getString("notes"),
                rs.getInt("priority")));
    }

    // --- internals ---

    /** The incident, or IllegalArgumentException when there is none. */
    public Incident get(long id) {
        return find(id).orElseThrow(() -> new IllegalArgumentException("no incident " + id));
    }

    private void update(long id, String column, Object value) {
        jdbc.update("UPDATE incident SET " + column + " = ?" + (value instanceof String[] ? "::text[]" : "") + " WHERE id = ?",
                value, id);
    }

    private Entry entry(long incident, String kind, String text, Agent by, Instant at) {
        long id = jdbc.queryForObject("INSERT INTO incident_entry (incident_id, at, kind, text, by_agent) VALUES"
                + " (?,?,?,?,?) RETURNING id", Long.class, incident, Timestamp.from(at), kind, text, name(by));
        return new Entry(id, at, kind, text, name(by));
    }

    /** A subject as stored: account:, client: or address:, checked. */
    static String subject(String s) {
        String v = s == null ? "" : s.strip();
        if (!concernsPeople(v)) {
            throw new IllegalArgumentException("a subject is account:<username>, client:<client id> or address:<ip>,"
                    + " not '" + v + "'");
        }
        return v;
    }

    private static boolean concernsPeople(String subject) {
        return subject.matches("(account|client|address):\\S+( from \\S+)?");
    }

    private static String name(Agent by) {
        return by.kind().code() + ":" + by.id();
    }

    private static String required(String field, String v) {
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(field + " must not be empty");
        }
        return v.strip();
    }

    private static String oneOf(String field, String v, List<String> allowed) {
        if (v == null || !allowed.contains(v)) {
            throw new IllegalArgumentException(field + " must be one of " + String.join(", ", allowed));
        }
        return v;
    }

    private static Instant instant(String field, String v) {
        try {
            return Instant.parse(v);
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException(field + " must be an instant such as 2026-12-07T01:30:00Z");
        }
    }

    private static List<String> strings(ResultSet rs, String column) throws SQLException {
        return Arrays.asList((String[]) rs.getArray(column).getArray());
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        Timestamp t = rs.getTimestamp(column);
        return t == null ? null : t.toInstant();
    }

    private static final RowMapper<Incident> INCIDENT = (rs, i) -> new Incident(rs.getLong("id"), rs.getString("title"),
            rs.getString("status"), rs.getString("facility"), instant(rs, "detected_at"), instant(rs, "window_from"),
            instant(rs, "window_to"), strings(rs, "subjects"), strings(rs, "systems"), rs.getString("description"),
            rs.getString("cause"), rs.getString("personal_data"), strings(rs, "data_kinds"), rs.getBoolean("malicious"),
            rs.getString("secondary_damage"), rs.getString("persons_notified"), rs.getString("publication"),
            rs.getString("prevention"), rs.getString("opened_by"), instant(rs, "opened_at"), instant(rs, "closed_at"));
}
