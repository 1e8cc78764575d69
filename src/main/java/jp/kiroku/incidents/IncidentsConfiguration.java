package jp.kiroku.incidents;

import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

import jp.kiroku.audit.AuditTrail;

/** The isolate mode's filter, in front of everything (token endpoint, FHIR, pages). */
@Configuration(proxyBeanMethods = false)
class IncidentsConfiguration {

    @Bean
    @ConditionalOnWebApplication
    FilterRegistrationBean<IsolationFilter> isolation(OperatingMode mode, AuditTrail audit) {
        var reg = new FilterRegistrationBean<>(new IsolationFilter(mode, audit));
        reg.addUrlPatterns("/*");
        reg.setOrder(Ordered.HIGHEST_PRECEDENCE);
        return reg;
    }
}
