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

    record Uri(String param, String uri) {
    }

    /** A composite's pair: the first component's token and the second's value in the columns of its type. */
    record Pair(String param, String system, String code, String vSystem, String vCode, java.math.BigDecimal vValue,
                String vUnit, Instant vLo, Instant vHi, String vNorm, String vExact) {
        static Pair token(String param, Token t, Token v) {
            return new Pair(param, t.system(), t.code(), v.system(), v.code(), null, null, null, null, null, null);
        }

        static Pair quantity(String param, Token t, Num v) {
            return new Pair(param, t.system(), t.code(), v.system(), v.code(), v.value(), v.unit(), null, null, null, null);
        }

        static Pair date(String param, Token t, DateRange v) {
            return new Pair(param, t.system(), t.code(), null, null, null, null, v.lo(), v.hi(), null, null);
        }

        static Pair text(String param, Token t, Text v) {
            return new Pair(param, t.system(), t.code(), null, null, null, null, null, null, v.norm(), v.exact());
        }
    }

    final List<Token> tokens = new ArrayList<>();
    final List<Text> strings = new ArrayList<>();
    final List<DateRange> dates = new ArrayList<>();
    final List<Ref> references = new ArrayList<>();
    final List<Num> numbers = new ArrayList<>();
    final List<Num> quantities = new ArrayList<>();
    final List<Uri> uris = new ArrayList<>();
    final List<Pair> composites = new ArrayList<>();

    public int size() {
        return tokens.size() + strings.size() + dates.size() + references.size() + numbers.size() + quantities.size() + uris.size() + composites.size();
    }
}
