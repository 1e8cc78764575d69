package jp.kiroku.backup;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import jp.kiroku.platform.KirokuProperties;

/**
 * The "backup" component of /actuator/health (BACKUP-03): UP while the newest backup that verified is younger than
 * kiroku.backup.max-age, STALE when it is older (or the newest verification failed), UNKNOWN before the first
 * verified backup. STALE does not turn the server DOWN: care goes on; the operator is told to look. Details (where
 * the endpoint shows them) say "last verified backup: 3 h ago".
 */
@Component("backupHealthIndicator") // shown as "backup"
final class BackupHealth implements HealthIndicator {

    static final org.springframework.boot.health.contributor.Status STALE =
            new org.springframework.boot.health.contributor.Status("STALE");

    private final JdbcTemplate jdbc;
    private final Clock clock;
    private final KirokuProperties props;

    BackupHealth(JdbcTemplate jdbc, Clock clock, KirokuProperties props) {
        this.jdbc = jdbc;
        this.clock = clock;
        this.props = props;
    }

    @Override
    public Health health() {
        List<Instant> verified = jdbc.queryForList("SELECT max(finished_at) FROM backup_run WHERE verified_ok AND pruned_at"
                + " IS NULL", java.sql.Timestamp.class).stream().filter(java.util.Objects::nonNull)
                .map(java.sql.Timestamp::toInstant).toList();
        List<Boolean> newestCheck = jdbc.queryForList("SELECT verified_ok FROM backup_run WHERE verified_at IS NOT NULL"
                + " ORDER BY verified_at DESC LIMIT 1", Boolean.class);
        if (verified.isEmpty()) {
            return (newestCheck.isEmpty() ? Health.unknown() : Health.status(STALE))
                    .withDetail("lastVerifiedBackup", "none").build();
        }
        Duration age = Duration.between(verified.get(0), clock.instant());
        boolean fresh = age.compareTo(props.getBackup().getMaxAge()) <= 0 && !Boolean.FALSE.equals(
                newestCheck.isEmpty() ? null : newestCheck.get(0));
        return (fresh ? Health.up() : Health.status(STALE))
                .withDetail("lastVerifiedBackup", ago(age) + " (" + verified.get(0) + ")").build();
    }

    static String ago(Duration d) {
        if (d.toDays() >= 2) {
            return d.toDays() + " days ago";
        }
        if (d.toHours() >= 1) {
            return d.toHours() + " h ago";
        }
        return Math.max(d.toMinutes(), 0) + " min ago";
    }
}
