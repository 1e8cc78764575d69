package jp.kiroku.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The retention of generations (issue 8, item 2) over a year and more of daily backups: the newest of each of the last
 * 14 days, 8 weeks and 12 months, plus what kept incremental generations continue, the newest verified and the
 * write-once ones.
 */
@Tag("BACKUP-02")
class RetentionOfGenerationsTest {

    private static final ZoneId TOKYO = ZoneId.of("Asia/Tokyo");
    private static final Instant NOW = Instant.parse("2026-12-06T18:00:00Z");

    @Test
    void dailyWeeklyAndMonthlyGenerationsAreKept() {
        List<Backups.Candidate> daily = new ArrayList<>();
        for (int d = 0; d < 500; d++) {
            daily.add(full("d" + d, NOW.minus(d, ChronoUnit.DAYS), false, false));
        }
        Map<String, String> kept = Backups.keep(daily, TOKYO, 14, 8, 12);
        // 14 days; the weeks reach 8 weeks back (the newest of each, some already kept as days); the months 12 back
        assertThat(kept).containsKeys("d0", "d13").doesNotContainKey("d14");
        assertThat(kept.values().stream().filter(w -> w.startsWith("weekly")).count()).isBetween(5L, 6L);
        assertThat(kept.values().stream().filter(w -> w.startsWith("monthly")).count()).isBetween(10L, 11L);
        assertThat(kept.keySet()).allMatch(n -> Integer.parseInt(n.substring(1)) < 370);
        assertThat(kept).hasSizeLessThanOrEqualTo(14 + 8 + 12);

        // fewer slots keep fewer; none keeps only the newest
        assertThat(Backups.keep(daily, TOKYO, 0, 0, 0)).containsOnlyKeys("d0");
    }

    @Test
    void theNewestVerifiedTheWriteOnceAndTheChainOfAKeptIncrementalStay() {
        List<Backups.Candidate> all = new ArrayList<>();
        all.add(full("old-verified", NOW.minus(400, ChronoUnit.DAYS), true, false));
        all.add(full("old-worm", NOW.minus(300, ChronoUnit.DAYS), false, true));
        all.add(full("base", NOW.minus(3, ChronoUnit.DAYS), false, false));
        all.add(new Backups.Candidate("inc1", "inc1-id", "base-id", NOW.minus(2, ChronoUnit.DAYS), false, false));
        all.add(new Backups.Candidate("inc2", "inc2-id", "inc1-id", NOW.minus(1, ChronoUnit.DAYS), false, false));
        all.add(full("unverified-old", NOW.minus(200, ChronoUnit.DAYS), false, false));
        Map<String, String> kept = Backups.keep(all, TOKYO, 1, 0, 0);
        assertThat(kept).containsOnlyKeys("inc2", "inc1", "base", "old-verified", "old-worm");
        assertThat(kept.get("base")).isEqualTo("continued by inc2");
        assertThat(kept.get("old-verified")).isEqualTo("the newest verified");
        assertThat(kept.get("old-worm")).isEqualTo("write-once");

        // with a newer verified generation the old one is no longer needed
        all.set(4, new Backups.Candidate("inc2", "inc2-id", "inc1-id", NOW.minus(1, ChronoUnit.DAYS), false, true));
        assertThat(Backups.keep(all, TOKYO, 1, 0, 0)).containsOnlyKeys("inc2", "inc1", "base", "old-worm");
    }

    private static Backups.Candidate full(String name, Instant at, boolean verified, boolean writeOnce) {
        return new Backups.Candidate(name, name + "-id", null, at, writeOnce, verified);
    }
}
