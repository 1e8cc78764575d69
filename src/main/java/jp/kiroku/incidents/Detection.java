package jp.kiroku.incidents;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

import jp.kiroku.access.BreakGlass;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.platform.ClockCheck;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.platform.ProcessRole;
import jp.kiroku.search.SearchIndex;

/**
 * Detection over the access log (issue 10, item 1): rules, each a count over a sliding window of audit events with a
 * threshold, evaluated by the server every kiroku.incidents.scan-interval. A rule that fires raises an alert naming
 * its subject (an account, an address, the ledger, the backups) and its evidence (the audit events); the same rule and
 * subject do not fire again within the rule's window. Thresholds and windows are settings
 * (kiroku.incidents.rules.&lt;rule&gt;.threshold / .window / .enabled).
 */
@Service
public class Detection {

    /** A rule's defaults; settings override them per rule. */
    public record Rule(String name, int threshold, Duration window, String description) {
    }

    /** What a rule found: about whom, in words (codes and counts only), and the audit events. */
    public record Finding(String rule, String subject, String summary, List<Long> evidence) {
    }

    /** A raised alert. */
    public record Alert(long id, String rule, String subject, String summary, List<Long> evidence, Instant windowFrom,
                        Instant windowTo, Instant firedAt, Instant acknowledgedAt, String acknowledgedBy) {
    }

    /** The default rules (see docs/operations.md, "Detection"). */
    public static final List<Rule> RULES = List.of(
            new Rule("brute-force", 10, Duration.ofMinutes(10), "failed logins for one account"),
            new Rule("password-spraying", 5, Duration.ofMinutes(10), "accounts with failed logins from one address"),
            new Rule("new-address", 1, Duration.ofMinutes(10),
                    "logins from an address the account did not use in the 30 days before"),
            new Rule("new-device", 1, Duration.ofMinutes(10),
                    "logins from a terminal the account did not use in the 30 days before"),
            new Rule("out-of-hours", 5, Duration.ofHours(1), "patients one person's requests touched out of office hours"),
            new Rule("mass-access", 50, Duration.ofHours(1), "patients one person's requests touched"),
            new Rule("vip-access", 1, Duration.ofHours(24), "accesses by one person to records under a watched label"),
            new Rule("denied-burst", 20, Duration.ofMinutes(10), "refused requests of one caller"),
            new Rule("disabled-token", 1, Duration.ofHours(1), "tokens of a disabled account or client presented"),
            new Rule("break-glass-spike", 3, Duration.ofHours(24), "break-glass openings by one person"),
            new Rule("export-spike", 20, Duration.ofHours(1),
                    "whole-record exports ($everything) and printouts by one caller"),
            new Rule("ledger-failure", 1, Duration.ofHours(24), "ledger verifications with findings"),
            new Rule("backup-failure", 1, Duration.ofHours(24), "failed backups, verifications or drills"),
            new Rule("backup-missed", 1, Duration.ofHours(24),
                    "scheduled backups missed (none within kiroku.backup.max-age)"),
            new Rule("clock-drift", 1, Duration.ofHours(24), "clock checks that found the clock wrong"));

    /**
     * Per rule: the subject, the count and the evidence of every group over the threshold in [from, to). Parameters:
     * from, to, then what {@link #arguments} adds for the rule, then the threshold. (backup-missed is no count.)
     */
    private static final Map<String, String> QUERIES = Map.ofEntries(Map.entry(
            "brute-force", "SELECT 'account:' || agent_id, count(*), (array_agg(seq ORDER BY seq))[1:200] FROM audit_log"
                    + " WHERE action = 'login' AND outcome IN ('failed', 'denied') AND recorded >= ? AND recorded < ?"
                    + " GROUP BY agent_id HAVING count(*) >= ?"),
            Map.entry("password-spraying", "SELECT 'address:' || source_address, count(DISTINCT agent_id),"
                    + " (array_agg(seq ORDER BY seq))[1:200] FROM audit_log WHERE action = 'login' AND outcome = 'failed'"
                    + " AND source_address IS NOT NULL AND recorded >= ? AND recorded < ? GROUP BY source_address"
                    + " HAVING count(DISTINCT agent_id) >= ?"),
            Map.entry("new-address", "SELECT 'account:' || a.agent_id || ' from ' || a.source_address, count(*),"
                    + " (array_agg(a.seq ORDER BY a.seq))[1:200] FROM audit_log a WHERE a.action = 'login'"
                    + " AND a.outcome = 'success' AND a.recorded >= ? AND a.recorded < ?"
                    + " AND EXISTS (SELECT 1 FROM audit_log b WHERE b.action = 'login' AND b.outcome = 'success'"
                    + " AND b.agent_id = a.agent_id AND b.seq < a.seq AND b.recorded > a.recorded - interval '30 days')"
                    + " AND NOT EXISTS (SELECT 1 FROM audit_log b WHERE b.action = 'login' AND b.outcome = 'success'"
                    + " AND b.agent_id = a.agent_id AND b.source_address = a.source_address AND b.seq < a.seq"
                    + " AND b.recorded > a.recorded - interval '30 days') GROUP BY a.agent_id, a.source_address"
                    + " HAVING count(*) >= ?"),
            Map.entry("mass-access", "SELECT 'account:' || agent_id, count(DISTINCT p), (array_agg(DISTINCT seq))[1:200]"
                    + " FROM audit_log, unnest(patients) p WHERE agent_kind = 'user' AND outcome = 'success'"
                    + " AND recorded >= ? AND recorded < ? GROUP BY agent_id HAVING count(DISTINCT p) >= ?"),
            Map.entry("denied-burst", "SELECT agent_kind || ':' || agent_id, count(*), (array_agg(seq ORDER BY seq))[1:200]"
                    + " FROM audit_log WHERE outcome = 'denied' AND action <> 'login' AND recorded >= ? AND recorded < ?"
                    + " GROUP BY agent_kind, agent_id HAVING count(*) >= ?"),
            Map.entry("break-glass-spike", "SELECT 'account:' || agent_id, count(*), (array_agg(seq ORDER BY seq))[1:200]"
                    + " FROM audit_log WHERE action = 'break-glass.open' AND outcome = 'success' AND recorded >= ?"
                    + " AND recorded < ? GROUP BY agent_id HAVING count(*) >= ?"),
            Map.entry("export-spike", "SELECT agent_kind || ':' || agent_id, count(*), (array_agg(seq ORDER BY seq))[1:200]"
                    + " FROM audit_log WHERE action IN ('everything', 'print') AND outcome = 'success' AND recorded >= ?"
                    + " AND recorded < ? GROUP BY agent_kind, agent_id HAVING count(*) >= ?"),
            Map.entry("ledger-failure", "SELECT 'ledger', count(*), (array_agg(seq ORDER BY seq))[1:200] FROM audit_log"
                    + " WHERE action = 'ledger.verify' AND detail IS DISTINCT FROM 'ok' AND recorded >= ? AND recorded < ?"
                    + " HAVING count(*) >= ?"),
            Map.entry("backup-failure", "SELECT 'backup', count(*), (array_agg(seq ORDER BY seq))[1:200] FROM audit_log"
                    + " WHERE action IN ('backup.create', 'backup.verify', 'backup.drill', 'backup.restore')"
                    + " AND outcome = 'failed' AND recorded >= ? AND recorded < ? HAVING count(*) >= ?"),
            Map.entry("new-device", "SELECT 'account:' || a.agent_id || ' on ' || a.device, count(*),"
                    + " (array_agg(a.seq ORDER BY a.seq))[1:200] FROM (SELECT seq, agent_id, recorded,"
                    + " substring(detail from 'device=([^ ]+)') AS device FROM audit_log WHERE action = 'login'"
                    + " AND outcome = 'success' AND recorded >= ? AND recorded < ?) a WHERE a.device IS NOT NULL"
                    + " AND EXISTS (SELECT 1 FROM audit_log b WHERE b.action = 'login' AND b.outcome = 'success'"
                    + " AND b.agent_id = a.agent_id AND b.seq < a.seq AND b.recorded > a.recorded - interval '30 days')"
                    + " AND NOT EXISTS (SELECT 1 FROM audit_log b WHERE b.action = 'login' AND b.outcome = 'success'"
                    + " AND b.agent_id = a.agent_id AND substring(b.detail from 'device=([^ ]+)') = a.device"
                    + " AND b.seq < a.seq AND b.recorded > a.recorded - interval '30 days')"
                    + " GROUP BY a.agent_id, a.device HAVING count(*) >= ?"),
            Map.entry("out-of-hours", "SELECT 'account:' || agent_id, count(DISTINCT p), (array_agg(DISTINCT seq))[1:200]"
                    + " FROM audit_log, unnest(patients) p WHERE agent_kind = 'user' AND outcome = 'success'"
                    + " AND recorded >= ? AND recorded < ? AND ((recorded AT TIME ZONE ?)::time < ?"
                    + " OR (recorded AT TIME ZONE ?)::time >= ? OR extract(isodow FROM recorded AT TIME ZONE ?) = ANY (?))"
                    + " AND NOT EXISTS (SELECT 1 FROM account WHERE username = agent_id AND roles && ?::text[])"
                    + " GROUP BY agent_id HAVING count(DISTINCT p) >= ?"),
            Map.entry("vip-access", "SELECT 'account:' || agent_id, count(*), (array_agg(seq ORDER BY seq))[1:200]"
                    + " FROM audit_log WHERE agent_kind = 'user' AND outcome = 'success' AND recorded >= ? AND recorded < ?"
                    + " AND patients && ?::text[] GROUP BY agent_id HAVING count(*) >= ?"),
            Map.entry("disabled-token", "SELECT agent_kind || ':' || agent_id, count(*),"
                    + " (array_agg(seq ORDER BY seq))[1:200] FROM audit_log WHERE action = 'token.refused'"
                    + " AND recorded >= ? AND recorded < ? GROUP BY agent_kind, agent_id HAVING count(*) >= ?"),
            Map.entry("clock-drift", "SELECT 'clock', count(*), (array_agg(seq ORDER BY seq))[1:200] FROM audit_log"
                    + " WHERE action = 'clock.check' AND outcome = 'failed' AND recorded >= ? AND recorded < ?"
                    + " HAVING count(*) >= ?"));

    private final JdbcTemplate jdbc;
    private final AuditTrail audit;
    private final Clock clock;
    private final KirokuProperties props;
    private final ProcessRole role;
    private final Notifications notifications;
    private final SearchIndex search;
    private final ClockCheck clockCheck;
    private volatile String lastClockProblem;
    private java.util.concurrent.ScheduledExecutorService background;
    /** Told the rule of every alert raised (metrics). */
    private volatile java.util.function.Consumer<String> raised = rule -> { };

    Detection(JdbcTemplate jdbc, AuditTrail audit, Clock clock, KirokuProperties props,
              @Value("${kiroku.runtime.role:serve}") ProcessRole role, Notifications notifications, SearchIndex search,
              ClockCheck clockCheck) {
        this.search = search;
        this.clockCheck = clockCheck;
        this.notifications = notifications;
        this.jdbc = jdbc;
        this.audit = audit;
        this.clock = clock;
        this.props = props;
        this.role = role;
    }

    void onRaised(java.util.function.Consumer<String> listener) {
        this.raised = listener;
    }

    /** The rule with its settings applied, or empty when there is no such rule. */
    public Optional<Rule> rule(String name) {
        return RULES.stream().filter(r -> r.name().equals(name)).findFirst().map(r -> {
            KirokuProperties.RuleSettings s = props.getIncidents().getRules().get(name);
            return s == null ? r : new Rule(r.name(), s.getThreshold() != null ? s.getThreshold() : r.threshold(),
                    s.getWindow() != null ? s.getWindow() : r.window(), r.description());
        });
    }

    private boolean enabled(String name) {
        KirokuProperties.RuleSettings s = props.getIncidents().getRules().get(name);
        return s == null || s.getEnabled() == null || s.getEnabled();
    }

    /** What {@code rule} finds over the audit events recorded in [from, to) (nothing is raised). */
    public List<Finding> evaluate(Rule rule, Instant from, Instant to) {
        if (rule.name().equals("backup-missed")) {
            return missedBackups(rule, to);
        }
        List<Object> args = new ArrayList<>(List.of(Timestamp.from(from), Timestamp.from(to)));
        switch (rule.name()) {
            case "out-of-hours" -> {
                KirokuProperties.OfficeHours hours = props.getIncidents().getOfficeHours();
                String zone = hours.getZone().getId();
                args.addAll(List.of(zone, hours.getStart(), zone, hours.getEnd(), zone,
                        hours.getDaysOff().stream().map(DayOfWeek::getValue).toArray(Integer[]::new),
                        hours.getExemptRoles().toArray(String[]::new)));
            }
            case "vip-access" -> {
                String[] watched = watchedPatients();
                if (watched.length == 0) {
                    return List.of();
                }
                args.add(watched);
            }
            default -> { }
        }
        args.add(rule.threshold());
        return jdbc.query(QUERIES.get(rule.name()), (rs, i) -> new Finding(rule.name(), rs.getString(1), rule.description()
                + ": " + rs.getLong(2) + " (threshold " + rule.threshold() + " in " + rule.window() + ")",
                Arrays.asList((Long[]) rs.getArray(3).getArray())), args.toArray());
    }

    /** The patients whose Patient resource carries a watched security label (kiroku.incidents.watched-labels). */
    private String[] watchedPatients() {
        List<String> labels = props.getIncidents().getWatchedLabels();
        if (labels.isEmpty()) {
            return new String[0];
        }
        var query = search.query("Patient", Map.of("_security", List.of(String.join(",", labels))), true, null);
        return search.keys(query, 0, 100_000).stream().map(k -> k.id()).toArray(String[]::new);
    }

    /**
     * With a backup schedule (kiroku.backup.at), a finding when the newest successful backup — or, before the first,
     * the first audit event — is older than kiroku.backup.max-age; its evidence is that backup's audit event.
     */
    private List<Finding> missedBackups(Rule rule, Instant now) {
        if (props.getBackup().getAt() == null) {
            return List.of();
        }
        List<Map<String, Object>> last = jdbc.queryForList("SELECT seq, recorded FROM audit_log WHERE action ="
                + " 'backup.create' AND outcome = 'success' AND recorded < ? ORDER BY seq DESC LIMIT 1", Timestamp.from(now));
        Timestamp since = last.isEmpty()
                ? jdbc.queryForObject("SELECT min(recorded) FROM audit_log", Timestamp.class)
                : (Timestamp) last.get(0).get("recorded");
        Duration allowed = props.getBackup().getMaxAge();
        if (since == null || !since.toInstant().isBefore(now.minus(allowed))) {
            return List.of();
        }
        long hours = Duration.between(since.toInstant(), now).toHours();
        return List.of(new Finding(rule.name(), "backup", rule.description() + ": " + (last.isEmpty()
                ? "no backup yet, " + hours + " h since Kiroku started recording" : "the last one " + hours + " h ago")
                + " (kiroku.backup.max-age " + allowed + ")",
                last.isEmpty() ? List.of() : List.of(((Number) last.get(0).get("seq")).longValue())));
    }

    /**
     * Records a failed clock check (the evidence of rule clock-drift) when {@code check} refuses the clock — once per
     * distinct problem, not at every scan.
     */
    void observeClock(ClockCheck check) {
        String problem = check.refusal();
        if (problem != null && !problem.equals(lastClockProblem)) {
            audit.record(AuditRecord.of(Agent.localOperator(), "clock.check", AuditRecord.Outcome.FAILED)
                    .withDetail(problem));
        }
        lastClockProblem = problem;
    }

    /**
     * Evaluates every enabled rule over its window ending now and raises an alert for each finding, unless the same
     * rule raised one for the same subject within that window. Returns the alerts raised.
     */
    public List<Alert> scan() {
        observeClock(clockCheck);
        Instant now = clock.instant();
        List<Alert> raised = new ArrayList<>();
        for (Rule r : RULES) {
            if (!enabled(r.name())) {
                continue;
            }
            Rule rule = rule(r.name()).orElseThrow();
            Instant from = now.minus(rule.window());
            for (Finding f : evaluate(rule, from, now)) {
                Boolean recent = jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM alert WHERE rule = ? AND subject = ?"
                        + " AND fired_at > ?)", Boolean.class, rule.name(), f.subject(), Timestamp.from(from));
                if (Boolean.TRUE.equals(recent)) {
                    continue;
                }
                raised.add(raise(f, from, now));
            }
        }
        return raised;
    }

    /**
     * Every break-glass opening is an alert of its own (rule break-glass, not deduplicated): the security officer is
     * told at once (ACL-04), by mail and webhook like any alert, and sees it in the console beside the review queue.
     */
    @EventListener
    void breakGlassOpened(BreakGlass.Opened opened) {
        BreakGlass.Use use = opened.use();
        List<Long> evidence = jdbc.queryForList("SELECT seq FROM audit_log WHERE action = 'break-glass.open' AND agent_id = ?"
                + " AND detail LIKE ? ORDER BY seq", Long.class, use.username(), "use=" + use.id() + " %");
        raise(new Finding("break-glass", "account:" + use.username(), "break-glass opened (reason " + use.reasonCode()
                + ", until " + use.expiresAt() + "); review it: kiroku break-glass review " + use.id(), evidence),
                use.startedAt(), clock.instant());
    }

    private Alert raise(Finding f, Instant from, Instant now) {
        Long id = jdbc.queryForObject("INSERT INTO alert (rule, subject, summary, evidence, window_from, window_to,"
                + " fired_at) VALUES (?,?,?,?::bigint[],?,?,?) RETURNING id", Long.class, f.rule(), f.subject(),
                f.summary(), f.evidence().toArray(Long[]::new), Timestamp.from(from), Timestamp.from(now),
                Timestamp.from(now));
        audit.record(AuditRecord.of(Agent.localOperator(), "alert.raise", AuditRecord.Outcome.SUCCESS)
                .withDetail("alert=" + id + " rule=" + f.rule() + " evidence=" + f.evidence().size()));
        Alert alert = find(id).orElseThrow();
        raised.accept(f.rule());
        notifications.alert(alert);
        return alert;
    }

    public Optional<Alert> find(long id) {
        return jdbc.query("SELECT * FROM alert WHERE id = ?", ALERT, id).stream().findFirst();
    }

    /** Alerts, newest first: only those not yet acknowledged unless {@code all}. */
    public List<Alert> alerts(boolean all) {
        return jdbc.query("SELECT * FROM alert" + (all ? "" : " WHERE acknowledged_at IS NULL") + " ORDER BY id DESC"
                + " LIMIT 500", ALERT);
    }

    public Alert acknowledge(long id, Agent by) {
        int n = jdbc.update("UPDATE alert SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at"
                + " IS NULL", Timestamp.from(clock.instant()), by.kind().code() + ":" + by.id(), id);
        if (n == 0) {
            throw new IllegalArgumentException("no open alert " + id);
        }
        audit.record(AuditRecord.of(by, "alert.acknowledge", AuditRecord.Outcome.SUCCESS).withDetail("alert=" + id));
        return find(id).orElseThrow();
    }

    @EventListener(ApplicationReadyEvent.class)
    void schedule() {
        if (role != ProcessRole.SERVE) {
            return;
        }
        background = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kiroku-detection");
            t.setDaemon(true);
            return t;
        });
        long every = props.getIncidents().getScanInterval().toMillis();
        background.scheduleWithFixedDelay(() -> {
            try {
                scan();
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(Detection.class).error("Detection scan failed: {}", e.getMessage());
            }
        }, every, every, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    @jakarta.annotation.PreDestroy
    void stop() {
        if (background != null) {
            background.shutdownNow();
        }
    }

    private static final org.springframework.jdbc.core.RowMapper<Alert> ALERT = (rs, i) -> new Alert(rs.getLong("id"),
            rs.getString("rule"), rs.getString("subject"), rs.getString("summary"),
            Arrays.asList((Long[]) rs.getArray("evidence").getArray()), rs.getTimestamp("window_from").toInstant(),
            rs.getTimestamp("window_to").toInstant(), rs.getTimestamp("fired_at").toInstant(),
            rs.getTimestamp("acknowledged_at") == null ? null : rs.getTimestamp("acknowledged_at").toInstant(),
            rs.getString("acknowledged_by"));
}
