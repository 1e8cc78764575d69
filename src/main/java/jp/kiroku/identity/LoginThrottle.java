package jp.kiroku.identity;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.annotation.Transactional;

import jp.kiroku.platform.KirokuProperties;

/**
 * Throttling and lockout of logins (AUTH-06): after each failure the next attempt waits a delay that doubles, and
 * after N consecutive failures the user name is locked for a while (per source address too, against password
 * spraying). Kept per claimed user name, whether or not such an account exists, so that the answers never tell an
 * existing account from an unknown one.
 */
@Component
class LoginThrottle {

    enum Verdict { ALLOWED, TOO_SOON, LOCKED }

    private final JdbcTemplate jdbc;
    private final Clock clock;
    private final KirokuProperties.Auth settings;

    LoginThrottle(JdbcTemplate jdbc, Clock clock, KirokuProperties props) {
        this.jdbc = jdbc;
        this.clock = clock;
        this.settings = props.getAuth();
    }

    Verdict check(String username, String address) {
        Instant now = clock.instant();
        Verdict worst = Verdict.ALLOWED;
        for (String key : List.of(userKey(username), addressKey(address))) {
            List<Verdict> v = jdbc.query("SELECT not_before, locked_until FROM login_throttle WHERE key = ?", (rs, i) -> {
                Timestamp locked = rs.getTimestamp("locked_until");
                Timestamp notBefore = rs.getTimestamp("not_before");
                if (locked != null && locked.toInstant().isAfter(now)) {
                    return Verdict.LOCKED;
                }
                return notBefore != null && notBefore.toInstant().isAfter(now) ? Verdict.TOO_SOON : Verdict.ALLOWED;
            }, key);
            if (!v.isEmpty() && v.get(0).ordinal() > worst.ordinal()) {
                worst = v.get(0);
            }
        }
        return worst;
    }

    /** Counts a failure; true when it locked the user name just now. */
    @Transactional
    boolean failed(String username, String address) {
        if (settings.getLockoutAddressAttempts() > 0) {
            failedKey(addressKey(address), settings.getLockoutAddressAttempts(), Duration.ZERO);
        }
        return failedKey(userKey(username), settings.getLockoutAttempts(), settings.getFailureDelay());
    }

    /**
     * One more failure for the key. Only user names get the growing delay: many terminals may share one address (a
     * hospital's NAT), and a delay per address would slow every person behind it.
     */
    private boolean failedKey(String key, int attempts, Duration firstDelay) {
        Instant now = clock.instant();
        jdbc.update("DELETE FROM login_throttle WHERE last_failure_at < ? AND (locked_until IS NULL OR locked_until < ?)",
                Timestamp.from(now.minus(Duration.ofDays(1))), Timestamp.from(now)); // forget old failures
        List<Integer> before = jdbc.query("SELECT CASE WHEN locked_until IS NOT NULL AND locked_until <= ? THEN 0"
                + " ELSE failures END FROM login_throttle WHERE key = ? FOR UPDATE", (rs, i) -> rs.getInt(1),
                Timestamp.from(now), key);
        int failures = (before.isEmpty() ? 0 : before.get(0)) + 1;
        long factor = 1L << Math.min(failures - 1, 16);
        Duration delay = firstDelay.multipliedBy(factor);
        if (delay.compareTo(Duration.ofMinutes(1)) > 0) {
            delay = Duration.ofMinutes(1);
        }
        boolean lock = failures >= attempts;
        jdbc.update("INSERT INTO login_throttle (key, failures, last_failure_at, not_before, locked_until) VALUES (?,?,?,?,?)"
                + " ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at,"
                + " not_before = excluded.not_before, locked_until = excluded.locked_until", key, failures,
                Timestamp.from(now), Timestamp.from(now.plus(delay)),
                lock ? Timestamp.from(now.plus(settings.getLockoutDuration())) : null);
        return lock && failures == attempts;
    }

    /** A successful login ends the user name's run of failures. */
    void succeeded(String username) {
        jdbc.update("DELETE FROM login_throttle WHERE key = ?", userKey(username));
    }

    /** An administrator lifts a lock before it expires; true when there was one. */
    boolean unlock(String username) {
        return jdbc.update("DELETE FROM login_throttle WHERE key = ? AND locked_until > ?", userKey(username),
                Timestamp.from(clock.instant())) == 1;
    }

    private static String userKey(String username) {
        return "user:" + (username == null ? "" : username.strip().toLowerCase(Locale.ROOT));
    }

    private static String addressKey(String address) {
        return "addr:" + address;
    }
}
