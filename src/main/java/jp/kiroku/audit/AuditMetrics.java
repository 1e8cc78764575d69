package jp.kiroku.audit;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.regex.Pattern;

import org.springframework.stereotype.Component;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * {@code kiroku.audit.events} (action, outcome): audit events this process wrote (counted when durable: a write's after
 * its transaction commits); {@code kiroku.login.failures} (outcome: failed = wrong credentials, denied = locked, throttled
 * or refused terminal): the people's failed logins, a subset of the former. Actions are the code's own words
 * ({@code read}, {@code search}, {@code login}, …); who, which patient and what was asked are never tags.
 */
@Component
class AuditMetrics implements MeterBinder {

    /** What an action code looks like; anything else is counted as "other" (no caller text can reach a tag). */
    private static final Pattern ACTION = Pattern.compile("[a-z][a-z0-9.\\-_]{0,39}");

    private final AuditTrail audit;

    AuditMetrics(AuditTrail audit) {
        this.audit = audit;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        ConcurrentMap<String, Counter> events = new ConcurrentHashMap<>();
        ConcurrentMap<AuditRecord.Outcome, Counter> loginFailures = new ConcurrentHashMap<>();
        for (AuditRecord.Outcome o : AuditRecord.Outcome.values()) {
            if (o != AuditRecord.Outcome.SUCCESS) {
                loginFailures.put(o, Counter.builder("kiroku.login.failures").description("Failed logins of people")
                        .tag("outcome", o.name().toLowerCase(java.util.Locale.ROOT)).register(registry));
            }
        }
        audit.onWritten(r -> {
            String action = r.action() != null && ACTION.matcher(r.action()).matches() ? r.action() : "other";
            String outcome = r.outcome().name().toLowerCase(java.util.Locale.ROOT);
            events.computeIfAbsent(action + ' ' + outcome, k -> Counter.builder("kiroku.audit.events")
                    .description("Audit events written").tag("action", action).tag("outcome", outcome)
                    .register(registry)).increment();
            if ("login".equals(action) && r.outcome() != AuditRecord.Outcome.SUCCESS) {
                loginFailures.get(r.outcome()).increment();
            }
        });
    }
}
