package jp.kiroku.platform;

import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

import io.micrometer.core.instrument.MeterRegistry;

/**
 * Request metrics for /actuator/prometheus (issue 13, item 2; docs/operations.md "Monitoring"). The modules register
 * their own meters (ledger batches and queue, backup age, alerts, audit events, login failures); this times requests.
 */
@Configuration(proxyBeanMethods = false)
class ObservabilityConfiguration {

    /** Outermost but for the isolation filter and request ids, so that refusals (401, 403, 413, 503) are timed too. */
    @Bean
    @ConditionalOnWebApplication
    FilterRegistrationBean<HttpMetrics> httpMetrics(MeterRegistry registry) {
        var reg = new FilterRegistrationBean<>(new HttpMetrics(registry));
        reg.addUrlPatterns("/*");
        reg.setOrder(Ordered.HIGHEST_PRECEDENCE + 5);
        return reg;
    }

    /**
     * The read replica, when one is configured (docs/operations.md, "Read replicas"): whether reads use it, how far
     * behind it was last proven fresh, and where reads went. All from {@link ReadReplica#status()}, which is in memory.
     */
    @Bean
    @org.springframework.boot.autoconfigure.condition.ConditionalOnProperty(prefix = "kiroku.db", name = "replica-url")
    io.micrometer.core.instrument.binder.MeterBinder replicaMetrics(ReadReplica replica) {
        return registry -> {
            io.micrometer.core.instrument.Gauge.builder("kiroku.db.replica.usable", replica, r -> r.status().usable() ? 1 : 0)
                    .description("1 while reads may go to the replica (fresh within kiroku.db.replica-max-staleness)")
                    .register(registry);
            io.micrometer.core.instrument.Gauge.builder("kiroku.db.replica.staleness", replica, r -> {
                var st = r.status().staleness();
                return st == null ? Double.NaN : st.toNanos() / 1e9;
            }).baseUnit("seconds").description("How long ago the replica was last proven to hold every commit")
                    .register(registry);
            io.micrometer.core.instrument.FunctionCounter.builder("kiroku.db.replica.reads", replica,
                    r -> r.status().replicaReads()).tag("target", "replica").register(registry);
            io.micrometer.core.instrument.FunctionCounter.builder("kiroku.db.replica.reads", replica,
                    r -> r.status().primaryReads()).tag("target", "primary").register(registry);
            io.micrometer.core.instrument.FunctionCounter.builder("kiroku.db.replica.fallbacks", replica,
                    r -> r.status().fallbacks()).description("Replica reads repeated on the primary").register(registry);
        };
    }
}
