package jp.kiroku.backup;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

import jp.kiroku.platform.CachedGauge;

/**
 * {@code kiroku.backup.age}: seconds since the newest backup generation that verified finished (as the "backup" health
 * component sees it; +Inf before the first one, so that an alert on the age fires then too), read from
 * {@code backup_run} at most once per {@link CachedGauge#TTL}.
 */
@Component
class BackupMetrics implements MeterBinder {

    private final JdbcTemplate jdbc;
    private final Clock clock;

    BackupMetrics(JdbcTemplate jdbc, Clock clock) {
        this.jdbc = jdbc;
        this.clock = clock;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        CachedGauge<Instant> newest = new CachedGauge<>(() -> jdbc.queryForList("SELECT max(finished_at) FROM backup_run"
                + " WHERE verified_ok AND pruned_at IS NULL", java.sql.Timestamp.class).stream()
                .filter(java.util.Objects::nonNull).map(java.sql.Timestamp::toInstant).findFirst().orElse(Instant.MIN));
        Gauge.builder("kiroku.backup.age", newest, n -> {
            Instant at = n.get();
            if (at == null) {
                return Double.NaN;
            }
            return at.equals(Instant.MIN) ? Double.POSITIVE_INFINITY
                    : Duration.between(at, clock.instant()).toMillis() / 1000.0;
        }).description("Seconds since the newest verified backup finished (+Inf: none yet)").baseUnit("seconds")
                .strongReference(true).register(registry);
    }
}
