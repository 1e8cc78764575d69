package jp.kiroku.access;

import java.util.ArrayList;
import java.util.List;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;

/**
 * The administrators' side of the matrix (ACL-01): list it, grant and revoke a role's action on a category, and map
 * a resource type to a category. Every change is audited ({@code access.grant}, {@code access.revoke},
 * {@code access.map}) and holds in every process within {@code kiroku.tokens.active-check-cache}.
 */
@Component
public class AccessMatrix {

    /** One allowed (role, category, action) and its reach. */
    public record Rule(String role, String category, String action, String reach) {
    }

    /** A category or role with its names. */
    public record Named(String code, String nameJa, String nameEn) {
    }

    private final JdbcTemplate jdbc;
    private final AuditTrail audit;
    private final TransactionTemplate tx;
    private final AccessPolicy policy;

    AccessMatrix(JdbcTemplate jdbc, AuditTrail audit, TransactionTemplate tx, AccessPolicy policy) {
        this.jdbc = jdbc;
        this.audit = audit;
        this.tx = tx;
        this.policy = policy;
    }

    public List<Rule> rules() {
        return jdbc.query("SELECT role, category, action, reach FROM access_rule ORDER BY role, category,"
                + " array_position(ARRAY['read', 'write', 'confirm'], action)",
                (rs, i) -> new Rule(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
    }

    public List<Named> categories() {
        return jdbc.query("SELECT code, name_ja, name_en FROM access_category ORDER BY code",
                (rs, i) -> new Named(rs.getString(1), rs.getString(2), rs.getString(3)));
    }

    public List<Named> roles() {
        return jdbc.query("SELECT code, name_ja, name_en FROM access_role ORDER BY code",
                (rs, i) -> new Named(rs.getString(1), rs.getString(2), rs.getString(3)));
    }

    /** The category of every mapped resource type. */
    public java.util.Map<String, String> typeCategories() {
        java.util.Map<String, String> out = new java.util.TreeMap<>();
        jdbc.query("SELECT res_type, category FROM access_category_type", rs -> {
            out.put(rs.getString(1), rs.getString(2));
        });
        return out;
    }

    /** Allows (or widens/narrows) a role's action on a category. */
    public void grant(String role, String category, String action, String reach, Agent by) {
        List<String> problems = new ArrayList<>();
        check(problems, "role", role, "access_role");
        check(problems, "category", category, "access_category");
        if (!List.of("read", "write", "confirm").contains(action)) {
            problems.add("action must be read, write or confirm, not '" + action + "'");
        }
        if (!List.of("care", "facility", "self").contains(reach)) {
            problems.add("reach must be care, facility or self, not '" + reach + "'");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        tx.executeWithoutResult(s -> {
            jdbc.update("INSERT INTO access_rule (role, category, action, reach) VALUES (?,?,?,?) ON CONFLICT (role,"
                    + " category, action) DO UPDATE SET reach = excluded.reach", role, category, action, reach);
            audit.record(AuditRecord.of(by, "access.grant", AuditRecord.Outcome.SUCCESS)
                    .withDetail("role=" + role + " category=" + category + " action=" + action + " reach=" + reach));
        });
        policy.invalidate();
    }

    /** Denies a role's action on a category; false when it was not allowed. */
    public boolean revoke(String role, String category, String action, Agent by) {
        Boolean done = tx.execute(s -> {
            int n = jdbc.update("DELETE FROM access_rule WHERE role = ? AND category = ? AND action = ?", role, category, action);
            if (n > 0) {
                audit.record(AuditRecord.of(by, "access.revoke", AuditRecord.Outcome.SUCCESS)
                        .withDetail("role=" + role + " category=" + category + " action=" + action));
            }
            return n > 0;
        });
        policy.invalidate();
        return Boolean.TRUE.equals(done);
    }

    /**
     * Puts a resource type in a category; its stored resources that were in the type's old category move with it
     * (those labelled into another category stay). Returns how many moved.
     */
    public int mapType(String type, String category, java.util.Set<String> knownTypes, Agent by) {
        List<String> problems = new ArrayList<>();
        if (!knownTypes.contains(type)) {
            problems.add("'" + type + "' is not an R4 resource type");
        }
        check(problems, "category", category, "access_category");
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        Integer moved = tx.execute(s -> {
            String old = policy.categoryOfType(type);
            jdbc.update("INSERT INTO access_category_type (res_type, category) VALUES (?, ?) ON CONFLICT (res_type)"
                    + " DO UPDATE SET category = excluded.category", type, category);
            int n = jdbc.update("UPDATE resource_current SET category = ? WHERE res_type = ? AND category = ?", category, type, old);
            audit.record(AuditRecord.of(by, "access.map", AuditRecord.Outcome.SUCCESS)
                    .withDetail("type=" + type + " category=" + category + " was=" + old + " moved=" + n));
            return n;
        });
        policy.invalidate();
        return moved == null ? 0 : moved;
    }

    private void check(List<String> problems, String what, String code, String table) {
        Integer n = jdbc.queryForObject("SELECT count(*) FROM " + table + " WHERE code = ?", Integer.class, code);
        if (n == null || n == 0) {
            problems.add("unknown " + what + " '" + code + "' (see kiroku access rules)");
        }
    }
}
