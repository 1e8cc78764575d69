package jp.kiroku.identity;

import java.sql.Timestamp;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.annotation.Transactional;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;

/**
 * Emergency accounts for disasters (ACL-04, 非常時用ユーザアカウント): accounts that exist in advance but are disabled in
 * normal times, so they cannot be used or misused. One is enabled only by a two-person action — one administrator
 * requests it with a reason, a different one approves and receives a one-time password — and "return to normal"
 * disables every enabled emergency account and replaces its password and second factor, so that the credentials used
 * during the emergency no longer work.
 */
@Component
public class EmergencyAccounts {

    /** A request to enable an emergency account, and what became of it. */
    public record Activation(UUID id, String username, String reason, String requestedBy, String approvedBy, boolean ended) {
    }

    private final JdbcTemplate jdbc;
    private final Accounts accounts;
    private final AuditTrail audit;
    private final Clock clock;

    EmergencyAccounts(JdbcTemplate jdbc, Accounts accounts, AuditTrail audit, Clock clock) {
        this.jdbc = jdbc;
        this.accounts = accounts;
        this.audit = audit;
        this.clock = clock;
    }

    /** Creates an emergency account, disabled: no one knows a password for it until an approved activation. */
    @Transactional
    public String create(NewAccount a, Agent by) {
        String username = accounts.create(a, by).username(); // the issued password is thrown away unseen
        jdbc.update("UPDATE account SET emergency = true, status = 'disabled', disabled_at = ?, disabled_by = ?,"
                + " disabled_reason = 'emergency account: disabled in normal times' WHERE lower(username) = ?",
                Timestamp.from(clock.instant()), who(by), username);
        accounts.forget(username);
        audit.record(AuditRecord.of(by, "emergency.create", AuditRecord.Outcome.SUCCESS).withDetail("account=" + username));
        return username;
    }

    /** The first administrator asks to enable one emergency account, saying why. */
    @Transactional
    public Activation request(String username, String reason, Agent by) {
        String user = username.strip().toLowerCase(Locale.ROOT);
        List<Map<String, Object>> found = jdbc.queryForList("SELECT status, emergency FROM account WHERE lower(username) = ?", user);
        if (found.isEmpty() || !Boolean.TRUE.equals(found.get(0).get("emergency"))) {
            throw new IllegalArgumentException("'" + user + "' is not an emergency account");
        }
        if (reason == null || reason.strip().length() < 10) {
            throw new IllegalArgumentException("say why (at least 10 characters), e.g. \"earthquake: EMR login server down\"");
        }
        Integer open = jdbc.queryForObject("SELECT count(*) FROM emergency_activation WHERE username = ? AND ended_at IS NULL",
                Integer.class, user);
        if (open != null && open > 0) {
            throw new IllegalStateException("'" + user + "' already has an open activation");
        }
        UUID id = UUID.randomUUID();
        jdbc.update("INSERT INTO emergency_activation (id, username, reason, requested_by, requested_at) VALUES (?,?,?,?,?)",
                id, user, reason.strip(), who(by), Timestamp.from(clock.instant()));
        audit.record(AuditRecord.of(by, "emergency.request", AuditRecord.Outcome.SUCCESS)
                .withDetail("account=" + user + " activation=" + id));
        return new Activation(id, user, reason.strip(), who(by), null, false);
    }

    /**
     * A second, different administrator approves: the account is enabled with a one-time password (shown to the
     * approver, handed to the person who will use it; they set their own and enrol a second factor at first login).
     */
    @Transactional
    public Accounts.Issued approve(UUID activation, Agent by) {
        List<Map<String, Object>> rows = jdbc.queryForList("SELECT username, requested_by, approved_at, ended_at FROM"
                + " emergency_activation WHERE id = ?", activation);
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("no activation " + activation);
        }
        Map<String, Object> row = rows.get(0);
        if (row.get("approved_at") != null || row.get("ended_at") != null) {
            throw new IllegalStateException("activation " + activation + " was approved or ended already");
        }
        if (who(by).equals(row.get("requested_by"))) {
            audit.record(AuditRecord.of(by, "emergency.approve", AuditRecord.Outcome.DENIED)
                    .withDetail("activation=" + activation + " same-person"));
            throw new IllegalStateException("two people are needed: the approver must not be the one who requested ("
                    + row.get("requested_by") + ")");
        }
        String user = (String) row.get("username");
        jdbc.update("UPDATE emergency_activation SET approved_by = ?, approved_at = ? WHERE id = ?", who(by),
                Timestamp.from(clock.instant()), activation);
        jdbc.update("UPDATE account SET status = 'active', disabled_at = NULL, disabled_by = NULL, disabled_reason = NULL"
                + " WHERE lower(username) = ? AND emergency", user);
        accounts.forget(user);
        audit.record(AuditRecord.of(by, "emergency.approve", AuditRecord.Outcome.SUCCESS)
                .withDetail("account=" + user + " activation=" + activation + " requested-by=" + row.get("requested_by")));
        return accounts.resetPassword(user, "two-person emergency activation " + activation, by);
    }

    /**
     * Return to normal: every enabled emergency account is disabled, its password replaced by an unknown one and its
     * second factor and recovery codes removed; its sessions and app grants end; open activations are closed.
     * Returns the accounts that were in use.
     */
    @Transactional
    public List<String> returnToNormal(Agent by) {
        List<String> enabled = jdbc.queryForList("SELECT lower(username) FROM account WHERE emergency AND status = 'active'"
                + " ORDER BY 1", String.class);
        for (String user : enabled) {
            accounts.disable(user, "return to normal after an emergency", by);
            accounts.rotateAway(user);
        }
        jdbc.update("UPDATE emergency_activation SET ended_by = ?, ended_at = ? WHERE ended_at IS NULL", who(by),
                Timestamp.from(clock.instant()));
        audit.record(AuditRecord.of(by, "emergency.end", AuditRecord.Outcome.SUCCESS)
                .withDetail("accounts-disabled=" + enabled.size()));
        return enabled;
    }

    /** Activations, newest first. */
    public List<Activation> activations() {
        return jdbc.query("SELECT * FROM emergency_activation ORDER BY requested_at DESC", (rs, i) -> new Activation(
                rs.getObject("id", UUID.class), rs.getString("username"), rs.getString("reason"), rs.getString("requested_by"),
                rs.getString("approved_by"), rs.getTimestamp("ended_at") != null));
    }

    private static String who(Agent a) {
        return a.kind().code() + ":" + a.id();
    }
}
