package jp.kiroku.search;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The search-index values extracted from one resource version. */
public final class IndexRows {

    record Token(String param, String system, String code) {
    }

    record Text(String param, String norm, String exact) {
    }

    record DateRange(String param, Instant lo, Instant hi) {
    }

    record Ref(String param, String targetType, String targetId) {
    }

    /** A number or quantity; system/code/unit only for quantities. */
    record Num(String param, java.math.BigDecimal value, String system, String code, String unit) {
    }

    final List<Token> tokens = new ArrayList<>();
    final List<Text> strings = new ArrayList<>();
    final List<DateRange> dates = new ArrayList<>();
    final List<Ref> references = new ArrayList<>();
    final List<Num> numbers = new ArrayList<>();
    final List<Num> quantities = new ArrayList<>();

    public int size() {
        return tokens.size() + strings.size() + dates.size() + references.size() + numbers.size() + quantities.size();
    }
}
