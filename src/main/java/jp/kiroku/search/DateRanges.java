package jp.kiroku.search;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;

import org.hl7.fhir.r4.model.BaseDateTimeType;

/**
 * FHIR date values as half-open ranges [lo, hi): a partial value covers its whole period ("2023" is all of 2023,
 * "2023-05-01T10:00:00+09:00" the second that starts then). Values without a time zone (dates, and times HAPI accepts
 * without one) are read in the institution's zone ({@code kiroku.time-zone}), so that "2023-05-01" means that day
 * in Japan, not in UTC.
 */
public final class DateRanges {

    static final Instant MIN = Instant.parse("0001-01-01T00:00:00Z");
    static final Instant MAX = Instant.parse("9999-12-31T23:59:59Z");

    public record Range(Instant lo, Instant hi) {
    }

    private DateRanges() {
    }

    public static Range of(BaseDateTimeType value, ZoneId zone) {
        if (value == null || value.getValue() == null || value.getPrecision() == null) {
            return null;
        }
        String s = value.getValueAsString();
        return switch (value.getPrecision()) {
            case YEAR -> days(LocalDate.of(Integer.parseInt(s.substring(0, 4)), 1, 1), ChronoUnit.YEARS, zone);
            case MONTH -> days(LocalDate.of(Integer.parseInt(s.substring(0, 4)), Integer.parseInt(s.substring(5, 7)), 1),
                    ChronoUnit.MONTHS, zone);
            case DAY -> days(LocalDate.parse(s.substring(0, 10)), ChronoUnit.DAYS, zone);
            case MINUTE -> instant(value, ChronoUnit.MINUTES, zone);
            case SECOND -> instant(value, ChronoUnit.SECONDS, zone);
            default -> instant(value, ChronoUnit.MILLIS, zone);
        };
    }

    private static Range days(LocalDate start, ChronoUnit unit, ZoneId zone) {
        return new Range(start.atStartOfDay(zone).toInstant(), start.plus(1, unit).atStartOfDay(zone).toInstant());
    }

    private static Range instant(BaseDateTimeType value, ChronoUnit unit, ZoneId zone) {
        Instant at = value.getTimeZone() != null ? value.getValue().toInstant()
                : LocalDateTime.parse(value.getValueAsString().substring(0, 19)).atZone(zone).toInstant();
        Instant lo = at.truncatedTo(unit);
        return new Range(lo, lo.plus(1, unit));
    }
}
