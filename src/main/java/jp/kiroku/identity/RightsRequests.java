package jp.kiroku.identity;

import java.sql.Array;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Component;
import org.springframework.transaction.annotation.Transactional;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;

/**
 * The access rights workflow (ACL-02, ACL-03): a department asks for the roles one of its people should have, the
 * department's manager — a person, logged in — approves (the roles are then applied to the account) or rejects, and a
 * report compares every account's roles with its latest approved request, so that rights granted outside the
 * workflow, or changed since, stand out. The administrators are listed by name.
 */
@Component
public class RightsRequests {

    /** A request and its decision (null while pending). */
    public record Request(UUID id, String username, String department, List<String> roles, String reason,
                          String requestedBy, Instant requestedAt, String decision, String decidedBy, Instant decidedAt,
                          String note) {
    }

    /** One account in the report: its roles, the approved ones, and whether they agree. */
    public record ReportLine(String username, String name, boolean active, List<String> roles, List<String> approved,
                             Instant approvedAt, Finding finding) {
    }

    public enum Finding {
        OK("matches the approved request"),
        NO_APPROVED_REQUEST("no approved request: rights granted outside the workflow"),
        DIFFERS("differs from the approved request: changed outside the workflow");

        private final String text;

        Finding(String text) {
            this.text = text;
        }

        public String text() {
            return text;
        }
    }

    private final JdbcTemplate jdbc;
    private final Accounts accounts;
    private final AuditTrail audit;
    private final Clock clock;

    RightsRequests(JdbcTemplate jdbc, Accounts accounts, AuditTrail audit, Clock clock) {
        this.jdbc = jdbc;
        this.accounts = accounts;
        this.audit = audit;
        this.clock = clock;
    }

    /** Names a person (an active staff account) the manager of a department: they decide its requests. */
    @Transactional
    public void assignManager(String department, String username, Agent by) {
        String dept = required(department, "department");
        Account a = accounts.activeAccount(username).filter(x -> "staff".equals(x.kind()))
                .orElseThrow(() -> new IllegalArgumentException("'" + username + "' is not an active staff account"));
        jdbc.update("INSERT INTO department_manager (department, username, assigned_by, assigned_at) VALUES (?,?,?,?)"
                + " ON CONFLICT DO NOTHING", dept, a.username(), who(by), Timestamp.from(clock.instant()));
        audit.record(AuditRecord.of(by, "rights.manager", AuditRecord.Outcome.SUCCESS)
                .withDetail("department=" + dept + " manager=" + a.username()));
    }

    /** Department → its managers. */
    public Map<String, List<String>> managers() {
        Map<String, List<String>> out = new java.util.TreeMap<>();
        jdbc.query("SELECT department, username FROM department_manager ORDER BY department, username",
                rs -> {
                    out.computeIfAbsent(rs.getString(1), d -> new ArrayList<>()).add(rs.getString(2));
                });
        return out;
    }

    /** A department asks for the complete set of roles one person should have, saying why. */
    @Transactional
    public Request request(String username, String department, List<String> roles, String reason, Agent by) {
        String dept = required(department, "department");
        Account a = accounts.find(username)
                .orElseThrow(() -> new IllegalArgumentException("no account '" + username + "'"));
        List<String> wanted = roles == null ? List.of() : new TreeSet<>(roles).stream().toList();
        if (wanted.isEmpty()) {
            throw new IllegalArgumentException("name the roles the person should have, of " + new TreeSet<>(Accounts.ROLES));
        }
        wanted.stream().filter(r -> !Accounts.ROLES.contains(r)).findFirst().ifPresent(r -> {
            throw new IllegalArgumentException("unknown role '" + r + "'");
        });
        if ("patient".equals(a.kind()) || wanted.contains("patient")) {
            throw new IllegalArgumentException("a patient's account has the role patient and nothing else: no request");
        }
        if (by.kind() == Agent.Kind.USER && !accounts.activeAccount(by.id()).map(x -> dept.equals(x.department())).orElse(false)) {
            throw new SecurityException("a person asks for rights only for their own department (" + dept + ")");
        }
        String why = required(reason, "reason");
        UUID id = UUID.randomUUID();
        Instant now = clock.instant();
        jdbc.update("INSERT INTO rights_request (id, username, department, roles, reason, requested_by, requested_at)"
                + " VALUES (?,?,?,?,?,?,?)", ps -> {
                    ps.setObject(1, id);
                    ps.setString(2, a.username());
                    ps.setString(3, dept);
                    ps.setArray(4, ps.getConnection().createArrayOf("text", wanted.toArray()));
                    ps.setString(5, why);
                    ps.setString(6, who(by));
                    ps.setTimestamp(7, Timestamp.from(now));
                });
        audit.record(AuditRecord.of(by, "rights.request", AuditRecord.Outcome.SUCCESS)
                .withDetail("request=" + id + " account=" + a.username() + " roles=" + String.join(",", wanted)));
        return new Request(id, a.username(), dept, wanted, why, who(by), now, null, null, null, null);
    }

    /**
     * The department's manager decides (once). Approval applies the requested roles to the account. The manager must
     * be a logged-in person, neither the person the request is for nor the one who asked, and confirms the decision
     * with a current code of their authenticator ({@code otp}: re-authentication for an administrative change).
     */
    @Transactional
    public Request decide(UUID id, boolean approve, String note, String otp, Agent by) {
        Request r = find(id).orElseThrow(() -> new IllegalArgumentException("no rights request " + id));
        String manager = by.id().toLowerCase(Locale.ROOT);
        boolean isManager = by.kind() == Agent.Kind.USER && accounts.activeAccount(manager).isPresent()
                && Boolean.TRUE.equals(jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM department_manager WHERE"
                + " department = ? AND username = ?)", Boolean.class, r.department(), manager));
        String refusal = !isManager ? "only a manager of " + r.department() + " decides its requests"
                : manager.equals(r.username()) ? "nobody decides a request for their own rights"
                : ("user:" + manager).equals(r.requestedBy()) ? "the person who asked does not also approve" : null;
        if (refusal != null) { // the caller audits the refusal
            throw new SecurityException(refusal);
        }
        if (r.decision() != null) { // before the code is checked, so that it is not spent for nothing
            throw new IllegalStateException("request " + id + " was decided already (" + r.decision() + " by "
                    + r.decidedBy() + ")");
        }
        if (!accounts.confirmSecondFactor(manager, otp, by.address())) {
            throw new SecurityException(Accounts.REAUTHENTICATION_REFUSED);
        }
        Instant now = clock.instant();
        int n = jdbc.update("UPDATE rights_request SET decision = ?, decided_by = ?, decided_at = ?, note = ?"
                + " WHERE id = ? AND decision IS NULL", approve ? "approved" : "rejected", manager, Timestamp.from(now),
                note, id);
        if (n == 0) {
            throw new IllegalStateException("request " + id + " was decided already (" + r.decision() + " by "
                    + r.decidedBy() + ")");
        }
        if (approve) {
            accounts.setRoles(r.username(), r.roles(), by);
        }
        audit.record(AuditRecord.of(by, approve ? "rights.approve" : "rights.reject", AuditRecord.Outcome.SUCCESS)
                .withDetail("request=" + id + " account=" + r.username()));
        return find(id).orElseThrow();
    }

    public java.util.Optional<Request> find(UUID id) {
        return jdbc.query("SELECT * FROM rights_request WHERE id = ?", REQUEST, id).stream().findFirst();
    }

    /** Pending requests (oldest first), or all of them (newest first); for some departments only when named. */
    public List<Request> list(boolean all, List<String> departments) {
        String where = (all ? "true" : "decision IS NULL") + (departments == null ? "" : " AND department = ANY (?)");
        String order = all ? " ORDER BY requested_at DESC" : " ORDER BY requested_at";
        return departments == null ? jdbc.query("SELECT * FROM rights_request WHERE " + where + order, REQUEST)
                : jdbc.query("SELECT * FROM rights_request WHERE " + where + order, REQUEST,
                        (Object) departments.toArray(String[]::new));
    }

    /** The departments a person manages. */
    public List<String> managedBy(String username) {
        return jdbc.queryForList("SELECT department FROM department_manager WHERE username = ? ORDER BY department",
                String.class, username.toLowerCase(Locale.ROOT));
    }

    /** Every staff account's roles against its latest approved request (ACL-02). */
    public List<ReportLine> report() {
        Map<String, Request> approved = new HashMap<>();
        for (Request r : jdbc.query("SELECT DISTINCT ON (username) * FROM rights_request WHERE decision = 'approved'"
                + " ORDER BY username, decided_at DESC", REQUEST)) {
            approved.put(r.username(), r);
        }
        List<ReportLine> out = new ArrayList<>();
        for (Account a : accounts.list(null)) {
            if (!"staff".equals(a.kind())) {
                continue;
            }
            List<String> roles = new TreeSet<>(a.roles()).stream().toList();
            Request r = approved.get(a.username());
            Finding f = r == null ? Finding.NO_APPROVED_REQUEST : r.roles().equals(roles) ? Finding.OK : Finding.DIFFERS;
            out.add(new ReportLine(a.username(), a.name(), a.active(), roles, r == null ? null : r.roles(),
                    r == null ? null : r.decidedAt(), f));
        }
        return out;
    }

    /** The people with the administrator role (ACL-03), active or not. */
    public List<Account> administrators() {
        return accounts.list(null).stream().filter(a -> a.roles().contains("admin")).toList();
    }

    private static String required(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("the " + what + " is required");
        }
        return value.strip();
    }

    private static String who(Agent by) {
        return by.kind().code() + ":" + by.id();
    }

    private static List<String> strings(Array a) throws SQLException {
        return a == null ? List.of() : Arrays.asList((String[]) a.getArray());
    }

    private static final RowMapper<Request> REQUEST = (rs, n) -> new Request(rs.getObject("id", UUID.class),
            rs.getString("username"), rs.getString("department"), strings(rs.getArray("roles")), rs.getString("reason"),
            rs.getString("requested_by"), rs.getTimestamp("requested_at").toInstant(), rs.getString("decision"),
            rs.getString("decided_by"), rs.getTimestamp("decided_at") == null ? null : rs.getTimestamp("decided_at").toInstant(),
            rs.getString("note"));
}
