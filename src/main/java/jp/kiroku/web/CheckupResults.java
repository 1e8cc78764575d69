package jp.kiroku.web;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Resource;

import jp.kiroku.exchange.CheckupCsv;
import jp.kiroku.exchange.CheckupImport;

/**
 * Health-check (健診) results as the patient's portal shows them (issue 12, items 1 and 2): one row per item (code), its
 * values over time (newest first) with the reference range, a trend plot ({@link Plots}) when there are two numeric
 * values or more, and every value outside its range (or interpreted high, low or abnormal) flagged. A health-check
 * result is an Observation imported as one ({@link CheckupImport#RESULT_SYSTEM}) or coded with a 特定健診項目コード.
 * Made from what the patient may read (the portal's own chart read): nothing here reads anything.
 */
record CheckupResults(List<Item> items) {

    /** One value: when, the value in words, the flag (H, L, A … or empty) and whether it is outside its range. */
    record Value(String when, String value, String flag, boolean outOfRange) {
    }

    /** One item: its code, name, unit, reference range (the newest result's), values newest first, plot (or null). */
    record Item(String code, String name, String unit, String range, List<Value> values, String plot) {
        public boolean latestOutOfRange() {
            return !values.isEmpty() && values.get(0).outOfRange();
        }
    }

    /** Interpretation codes that mean outside the normal range. */
    private static final Set<String> ABNORMAL = Set.of("H", "HH", "HU", "L", "LL", "LU", "A", "AA");

    public boolean isEmpty() {
        return items.isEmpty();
    }

    static boolean isCheckupResult(Observation o) {
        return o.getIdentifier().stream().anyMatch(i -> CheckupImport.RESULT_SYSTEM.equals(i.getSystem()))
                || o.getCode().getCoding().stream().anyMatch(c -> CheckupCsv.CHECKUP_ITEM.equals(c.getSystem()));
    }

    static CheckupResults of(List<Resource> resources, Display show) {
        Map<String, List<Observation>> byItem = new LinkedHashMap<>();
        for (Resource r : resources) {
            if (r instanceof Observation o && isCheckupResult(o) && o.hasValue() && o.getCode().hasCoding()) {
                Coding c = o.getCode().getCodingFirstRep();
                byItem.computeIfAbsent(c.getSystem() + "|" + c.getCode(), k -> new ArrayList<>()).add(o);
            }
        }
        List<Item> items = new ArrayList<>();
        for (List<Observation> results : byItem.values()) {
            results.sort(Comparator.comparing((Observation o) -> show.when(o.getEffective())).reversed());
            Observation newest = results.get(0);
            List<Value> values = new ArrayList<>();
            List<Plots.Point> points = new ArrayList<>();
            String unit = "";
            for (Observation o : results) {
                String when = show.when(o.getEffective());
                String flag = flag(o);
                values.add(new Value(when, value(o), flag, !flag.isEmpty()));
                if (o.hasValueQuantity() && o.getValueQuantity().getValue() != null) {
                    points.add(new Plots.Point(when, o.getValueQuantity().getValue().doubleValue()));
                    if (unit.isEmpty()) {
                        unit = unit(o.getValueQuantity());
                    }
                }
            }
            var range = newest.getReferenceRange().isEmpty() ? null : newest.getReferenceRangeFirstRep();
            items.add(new Item(newest.getCode().getCodingFirstRep().getCode(), Display.concept(newest.getCode()), unit,
                    range == null ? "" : range(range), values, points.size() >= 2 ? Plots.line(points, range) : null));
        }
        items.sort(Comparator.comparing(Item::name));
        return new CheckupResults(items);
    }

    /** The value's flag: its interpretation when abnormal, else H or L from its own reference range, else empty. */
    static String flag(Observation o) {
        String interpreted = o.getInterpretation().stream().flatMap(c -> c.getCoding().stream()).map(Coding::getCode)
                .filter(ABNORMAL::contains).findFirst().orElse(null);
        if (interpreted != null) {
            return interpreted;
        }
        if (!o.hasValueQuantity() || o.getValueQuantity().getValue() == null || o.getReferenceRange().isEmpty()) {
            return "";
        }
        BigDecimal v = o.getValueQuantity().getValue();
        var r = o.getReferenceRangeFirstRep();
        if (r.hasHigh() && r.getHigh().getValue() != null && v.compareTo(r.getHigh().getValue()) > 0) {
            return "H";
        }
        if (r.hasLow() && r.getLow().getValue() != null && v.compareTo(r.getLow().getValue()) < 0) {
            return "L";
        }
        return "";
    }

    private static String value(Observation o) {
        if (o.hasValueQuantity()) {
            Quantity q = o.getValueQuantity();
            return (q.hasComparator() ? q.getComparator().toCode() : "") + Display.quantity(q);
        }
        if (o.hasValueCodeableConcept()) {
            return Display.concept(o.getValueCodeableConcept());
        }
        return o.getValue().primitiveValue() == null ? "" : o.getValue().primitiveValue();
    }

    private static String unit(Quantity q) {
        return q.hasUnit() ? q.getUnit() : q.hasCode() ? q.getCode() : "";
    }

    private static String range(Observation.ObservationReferenceRangeComponent r) {
        if (r.hasText() && !r.hasLow() && !r.hasHigh()) {
            return r.getText();
        }
        String low = r.hasLow() && r.getLow().getValue() != null ? r.getLow().getValue().stripTrailingZeros().toPlainString() : "";
        String high = r.hasHigh() && r.getHigh().getValue() != null
                ? r.getHigh().getValue().stripTrailingZeros().toPlainString() : "";
        return low + "–" + high + (r.hasText() ? " (" + r.getText() + ")" : "");
    }
}
