package jp.kiroku.web;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import org.hl7.fhir.r4.model.Observation;

/**
 * Results over time as a small SVG line chart, drawn on the server (no script, no style attribute: the pages' CSP
 * allows neither inline). Only numbers and escaped labels go into the markup.
 */
final class Plots {

    record Point(String when, double value) {
    }

    static final int WIDTH = 320;
    static final int HEIGHT = 120;
    private static final int PAD = 24;

    private Plots() {
    }

    /** The values in time order, with the reference range as a band when there is one. */
    static String line(List<Point> unordered, Observation.ObservationReferenceRangeComponent range) {
        List<Point> points = unordered.stream().sorted(Comparator.comparing(Point::when)).toList();
        double min = points.stream().mapToDouble(Point::value).min().orElse(0);
        double max = points.stream().mapToDouble(Point::value).max().orElse(1);
        Double low = range != null && range.hasLow() ? range.getLow().getValue().doubleValue() : null;
        Double high = range != null && range.hasHigh() ? range.getHigh().getValue().doubleValue() : null;
        if (low != null) {
            min = Math.min(min, low);
        }
        if (high != null) {
            max = Math.max(max, high);
        }
        if (max == min) {
            max = min + 1;
        }
        StringBuilder svg = new StringBuilder("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" role=\"img\" width=\"")
                .append(WIDTH).append("\" height=\"").append(HEIGHT).append("\" viewBox=\"0 0 ").append(WIDTH).append(' ')
                .append(HEIGHT).append("\"><title>").append(escape(points.get(0).when() + " – "
                        + points.get(points.size() - 1).when())).append("</title>");
        if (low != null && high != null) {
            double top = y(high, min, max);
            svg.append("<rect x=\"").append(PAD).append("\" y=\"").append(fmt(top)).append("\" width=\"")
                    .append(WIDTH - 2 * PAD).append("\" height=\"").append(fmt(y(low, min, max) - top))
                    .append("\" fill=\"#e6f4ea\"/>");
        }
        svg.append("<polyline fill=\"none\" stroke=\"#0b5cad\" stroke-width=\"2\" points=\"");
        for (int i = 0; i < points.size(); i++) {
            svg.append(fmt(x(i, points.size()))).append(',').append(fmt(y(points.get(i).value(), min, max))).append(' ');
        }
        svg.append("\"/>");
        for (int i = 0; i < points.size(); i++) {
            svg.append("<circle r=\"3\" fill=\"#0b5cad\" cx=\"").append(fmt(x(i, points.size()))).append("\" cy=\"")
                    .append(fmt(y(points.get(i).value(), min, max))).append("\"><title>")
                    .append(escape(points.get(i).when() + ": " + number(points.get(i).value()))).append("</title></circle>");
        }
        svg.append("<text x=\"2\" y=\"").append(PAD - 8).append("\" font-size=\"10\">").append(number(max))
                .append("</text><text x=\"2\" y=\"").append(HEIGHT - 4).append("\" font-size=\"10\">").append(number(min))
                .append("</text></svg>");
        return svg.toString();
    }

    private static double x(int i, int n) {
        return n == 1 ? WIDTH / 2.0 : PAD + i * (WIDTH - 2.0 * PAD) / (n - 1);
    }

    private static double y(double v, double min, double max) {
        return HEIGHT - PAD - (v - min) * (HEIGHT - 2.0 * PAD) / (max - min);
    }

    private static String fmt(double d) {
        return String.format(Locale.ROOT, "%.1f", d);
    }

    private static String number(double d) {
        return java.math.BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
