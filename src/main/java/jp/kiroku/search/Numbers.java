package jp.kiroku.search;

import java.math.BigDecimal;

/** The range a searched number's precision implies, as FHIR defines it: "100" is [99.5, 100.5), "5.40" [5.395, 5.405). */
final class Numbers {

    record Range(BigDecimal lo, BigDecimal hi) {
    }

    private Numbers() {
    }

    static Range parse(String text) {
        BigDecimal value;
        try {
            value = new BigDecimal(text);
        } catch (NumberFormatException e) {
            throw new SearchException("'" + text + "' is not a number");
        }
        BigDecimal half = BigDecimal.ONE.scaleByPowerOfTen(-value.scale()).divide(BigDecimal.valueOf(2));
        return new Range(value.subtract(half), value.add(half));
    }
}
