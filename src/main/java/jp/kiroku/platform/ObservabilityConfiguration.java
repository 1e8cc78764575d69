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
}
