package jp.kiroku.ledger;

import java.util.Map;

import org.springframework.stereotype.Component;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

import jp.kiroku.platform.CachedGauge;

/**
 * The ledgers' meters (docs/operations.md, Monitoring): {@code kiroku.ledger.batch.size} (leaves per batch the
 * sequencer of this process appended, per log), {@code kiroku.ledger.pending} (rows queued and not yet in their log:
 * growing means no process is sequencing) and {@code kiroku.ledger.entries} (the log's size), both read at most once per
 * {@link CachedGauge#TTL}.
 */
@Component
class LedgerMetrics implements MeterBinder {

    private final Ledgers ledgers;

    LedgerMetrics(Ledgers ledgers) {
        this.ledgers = ledgers;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Map<String, Integer> logs = ledgers.logs();
        Map<String, DistributionSummary> batches = new java.util.HashMap<>();
        for (String origin : logs.keySet()) {
            batches.put(origin, DistributionSummary.builder("kiroku.ledger.batch.size")
                    .description("Leaves appended per sequencer batch").baseUnit("leaves").tag("log", origin)
                    .serviceLevelObjectives(1, 10, 100, 1_000, 10_000).register(registry));
        }
        ledgers.onBatch((origin, n) -> {
            DistributionSummary s = batches.get(origin);
            if (s != null) {
                s.record(n);
            }
        });
        CachedGauge<Map<String, Long>> pending = new CachedGauge<>(ledgers::pending);
        CachedGauge<Map<String, Long>> sizes = new CachedGauge<>(() -> {
            Map<String, Long> out = new java.util.HashMap<>();
            ledgers.heads().forEach(h -> out.put(h.origin(), h.size()));
            return out;
        });
        for (String origin : logs.keySet()) {
            Gauge.builder("kiroku.ledger.pending", pending, p -> value(p.get(), origin))
                    .description("Rows queued for the ledger and not yet sequenced").tag("log", origin).strongReference(true).register(registry);
            Gauge.builder("kiroku.ledger.entries", sizes, p -> value(p.get(), origin))
                    .description("Entries in the ledger").tag("log", origin).strongReference(true).register(registry);
        }
    }

    private static double value(Map<String, Long> values, String origin) {
        Long v = values == null ? null : values.get(origin);
        return v == null ? Double.NaN : v;
    }
}
