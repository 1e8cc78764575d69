package jp.kiroku.search;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

import org.hl7.fhir.r4.model.BaseDateTimeType;

/**
 * FHIR date values as half-open ranges [lo, hi): a partial value covers its whole period ("2023" is all of 2023,
 * "2023-05-01T10:00+09:00" the minute that starts then). Dates without a time are read as UTC days.
 */
final class DateRanges {

    static final Instant MIN = Instant.parse("0001-01-01T00:00:00Z");
    static final Instant MAX = Instant.parse("9999-12-31T23:59:59Z");

    record Range(Instant lo, Instant hi) {
    }

    private DateRanges() {
    }

    static Range of(BaseDateTimeType value) {
        if (value == null || value.getValue() == null || value.getPrecision() == null) {
            return null;
        }
        String s = value.getValueAsString();
        return switch (value.getPrecision()) {
            case YEAR -> days(LocalDate.of(Integer.parseInt(s.substring(0, 4)), 1, 1), ChronoUnit.YEARS);
            case MONTH -> days(LocalDate.of(Integer.parseInt(s.substring(0, 4)), Integer.parseInt(s.substring(5, 7)), 1),
                    ChronoUnit.MONTHS);
            case DAY -> days(LocalDate.parse(s.substring(0, 10)), ChronoUnit.DAYS);
            case MINUTE -> instant(value, ChronoUnit.MINUTES);
            case SECOND -> instant(value, ChronoUnit.SECONDS);
            default -> instant(value, ChronoUnit.MILLIS);
        };
    }

    private static Range days(LocalDate start, ChronoUnit unit) {
        Instant lo = start.atStartOfDay(ZoneOffset.UTC).toInstant();
        return new Range(lo, start.plus(1, unit).atStartOfDay(ZoneOffset.UTC).toInstant());
    }

    private static Range instant(BaseDateTimeType value, ChronoUnit unit) {
        Instant lo = value.getValue().toInstant().truncatedTo(unit);
        return new Range(lo, lo.plus(1, unit));
    }
}
