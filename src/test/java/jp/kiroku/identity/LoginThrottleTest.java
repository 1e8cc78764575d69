package jp.kiroku.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.support.ServerTest;

/** The growing delay after failed logins and the lockout's expiry (AUTH-06), on the real table with a clock we move. */
@Tag("AUTH-06")
class LoginThrottleTest extends ServerTest {

    @Autowired
    JdbcTemplate jdbc;

    Instant now = Instant.parse("2026-11-26T09:00:00Z");
    LoginThrottle throttle;

    @BeforeEach
    void aThrottleWithItsOwnClockAndDefaults() {
        KirokuProperties props = new KirokuProperties();
        Clock clock = new Clock() {
            @Override public java.time.ZoneId getZone() { return ZoneOffset.UTC; }
            @Override public Clock withZone(java.time.ZoneId zone) { return this; }
            @Override public Instant instant() { return now; }
        };
        throttle = new LoginThrottle(jdbc, clock, props); // defaults: 1 s doubling, 5 attempts, 30 min, 20 per address
        jdbc.update("DELETE FROM login_throttle WHERE key LIKE 'user:throttle.%' OR key = 'addr:192.0.2.7'");
    }

    @Test
    void eachFailureDoublesTheWaitBeforeTheNextAttempt() {
        assertThat(throttle.check("throttle.a", "192.0.2.7")).isEqualTo(LoginThrottle.Verdict.ALLOWED);
        throttle.failed("throttle.a", "192.0.2.7");
        assertThat(throttle.check("throttle.a", "192.0.2.7")).isEqualTo(LoginThrottle.Verdict.TOO_SOON);
        now = now.plusMillis(1_001);
        assertThat(throttle.check("throttle.a", "192.0.2.7")).isEqualTo(LoginThrottle.Verdict.ALLOWED);
        throttle.failed("throttle.a", "192.0.2.7");
        now = now.plusMillis(1_500);
        assertThat(throttle.check("throttle.a", "192.0.2.7")).as("second failure: 2 s").isEqualTo(LoginThrottle.Verdict.TOO_SOON);
        now = now.plusMillis(600);
        assertThat(throttle.check("throttle.a", "192.0.2.7")).isEqualTo(LoginThrottle.Verdict.ALLOWED);
    }

    @Test
    void theFifthFailureLocksForThirtyMinutesThenTheLockExpires() {
        for (int i = 1; i <= 5; i++) {
            boolean lockedNow = throttle.failed("throttle.b", "192.0.2.7");
            assertThat(lockedNow).as("failure %d", i).isEqualTo(i == 5);
            now = now.plus(Duration.ofSeconds(20));
        }
        assertThat(throttle.check("throttle.b", "192.0.2.7")).isEqualTo(LoginThrottle.Verdict.LOCKED);
        assertThat(throttle.check("throttle.other", "192.0.2.8")).as("other names and addresses").isEqualTo(
                LoginThrottle.Verdict.ALLOWED);
        now = now.plus(Duration.ofMinutes(29));
        assertThat(throttle.check("throttle.b", "192.0.2.7")).isEqualTo(LoginThrottle.Verdict.LOCKED);
        now = now.plus(Duration.ofMinutes(2));
        assertThat(throttle.check("throttle.b", "192.0.2.7")).isEqualTo(LoginThrottle.Verdict.ALLOWED);
        // after the lock, the count starts again: one failure does not lock
        assertThat(throttle.failed("throttle.b", "192.0.2.7")).isFalse();
        now = now.plus(Duration.ofSeconds(5));
        assertThat(throttle.check("throttle.b", "192.0.2.7")).isEqualTo(LoginThrottle.Verdict.ALLOWED);
    }

    @Test
    void aSuccessEndsTheRunOfFailures() {
        for (int i = 0; i < 4; i++) {
            throttle.failed("throttle.c", "192.0.2.7");
        }
        throttle.succeeded("throttle.c");
        now = now.plus(Duration.ofMinutes(1));
        assertThat(throttle.failed("throttle.c", "192.0.2.7")).as("counting from one again").isFalse();
    }

    @Test
    void oneAddressTryingManyNamesIsLockedToo() {
        for (int i = 0; i < 20; i++) {
            throttle.failed("throttle.spray" + i, "192.0.2.7");
            now = now.plus(Duration.ofMinutes(1));
        }
        assertThat(throttle.check("throttle.fresh", "192.0.2.7")).isEqualTo(LoginThrottle.Verdict.LOCKED);
        assertThat(throttle.check("throttle.fresh", "192.0.2.9")).isEqualTo(LoginThrottle.Verdict.ALLOWED);
    }
}
