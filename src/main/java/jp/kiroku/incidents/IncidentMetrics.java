package jp.kiroku.incidents;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

import jp.kiroku.platform.CachedGauge;

/**
 * Alerts by rule (docs/operations.md, Monitoring): {@code kiroku.alerts.raised} counts the alerts this process raised,
 * {@code kiroku.alerts.open} the alerts of every process not yet acknowledged (from {@code alert}, at most once per
 * {@link CachedGauge#TTL}). One series per rule from the start, so that a rule that never fired reads 0. The subject of an
 * alert (an account, an address) is never a tag.
 */
@Component
class IncidentMetrics implements MeterBinder {

    private final Detection detection;
    private final JdbcTemplate jdbc;

    IncidentMetrics(Detection detection, JdbcTemplate jdbc) {
        this.detection = detection;
        this.jdbc = jdbc;
    }

    /** Every rule that can raise an alert: the detection rules and break-glass openings. */
    static Set<String> rules() {
        Set<String> out = new LinkedHashSet<>();
        Detection.RULES.forEach(r -> out.add(r.name()));
        out.add("break-glass");
        return out;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Map<String, Counter> raised = new java.util.HashMap<>();
        CachedGauge<Map<String, Long>> open = new CachedGauge<>(() -> {
            Map<String, Long> out = new java.util.HashMap<>();
            jdbc.query("SELECT rule, count(*) FROM alert WHERE acknowledged_at IS NULL GROUP BY rule",
                    (org.springframework.jdbc.core.RowCallbackHandler) rs -> out.put(rs.getString(1), rs.getLong(2)));
            return out;
        });
        for (String rule : rules()) {
            raised.put(rule, Counter.builder("kiroku.alerts.raised").description("Alerts raised by this process")
                    .tag("rule", rule).register(registry));
            Gauge.builder("kiroku.alerts.open", open, o -> {
                Map<String, Long> m = o.get();
                return m == null ? Double.NaN : m.getOrDefault(rule, 0L);
            }).description("Alerts not yet acknowledged").tag("rule", rule).strongReference(true).register(registry);
        }
        detection.onRaised(rule -> {
            Counter c = raised.get(rule);
            if (c != null) {
                c.increment();
            }
        });
    }
}
