package jp.kiroku.platform;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * The "clock" component of /actuator/health (LOG-03): UP when checkpoints may be signed, OUT_OF_SYNC when the clock
 * is known to be wrong (or unknown while kiroku.clock.require-sync is set), UNKNOWN when the time daemon cannot be
 * asked. OUT_OF_SYNC does not turn the whole server DOWN: records are still served (care goes on); only checkpoint
 * signing stops. Details (offset, source) are shown where the health endpoint shows details.
 */
@Component("clockHealthIndicator") // shown as "clock"
final class ClockHealth implements HealthIndicator {

    static final org.springframework.boot.health.contributor.Status OUT_OF_SYNC =
            new org.springframework.boot.health.contributor.Status("OUT_OF_SYNC");

    private final ClockCheck clock;

    ClockHealth(ClockCheck clock) {
        this.clock = clock;
    }

    @Override
    public Health health() {
        ClockCheck.State s = clock.state();
        String refusal = clock.refusal();
        Health.Builder b = refusal != null ? Health.status(OUT_OF_SYNC).withDetail("refusal", refusal)
                : s.known() ? Health.up() : Health.unknown();
        return b.withDetail("state", s.summary()).build();
    }
}
