package jp.kiroku.platform;

import java.time.Duration;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A value that a gauge reads at every scrape but that is computed (usually one SQL query) at most once per
 * {@code ttl}: several Prometheus servers scraping every few seconds cost one query per ttl. A failed computation keeps
 * the last value (or null) and is logged without its arguments.
 */
public final class CachedGauge<T> {

    /** How long gauge values that need the database are reused. */
    public static final Duration TTL = Duration.ofSeconds(15);

    private static final Logger log = LoggerFactory.getLogger(CachedGauge.class);

    private final Supplier<T> compute;
    private final long ttlNanos;
    private volatile T value;
    private volatile long computedAt;
    private volatile boolean computed;

    public CachedGauge(Supplier<T> compute, Duration ttl) {
        this.compute = compute;
        this.ttlNanos = ttl.toNanos();
    }

    public CachedGauge(Supplier<T> compute) {
        this(compute, TTL);
    }

    /** The value, computed now if the cached one is older than ttl; null when it was never computed successfully. */
    public synchronized T get() {
        long now = System.nanoTime();
        if (!computed || now - computedAt >= ttlNanos) {
            computedAt = now;
            computed = true;
            try {
                value = compute.get();
            } catch (RuntimeException e) {
                log.warn("A metric could not be computed: {}", e.getClass().getSimpleName());
            }
        }
        return value;
    }
}
