package jp.kiroku.exchange;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What an SS-MIX2 import did: per data type (ADT-00, PPR-01, OMP-01, OML-11, …) how many files were found, imported,
 * skipped and rejected; the resources written per FHIR type and how many were left as they were (stored already with
 * the same content); and every rejected file with its reason. A rejected file never stops the others.
 */
public record Ssmix2Report(Map<String, TypeCount> types, Map<String, Integer> written, int unchanged,
                           List<Rejected> rejected, int ignored) {

    /**
     * One data type's files: {@code imported} were written; {@code superseded}: an older or cancelled (condition flag
     * 0) file of an order that has a newer valid file; {@code cancelled}: an order whose files are all cancelled (its
     * resources, when an earlier import wrote them, are marked cancelled); {@code notMapped}: a data type Kiroku does
     * not map; {@code rejected}: see {@link Ssmix2Report#rejected()}.
     */
    public record TypeCount(int found, int imported, int superseded, int cancelled, int notMapped, int rejected) {
    }

    /** A file that was not imported, and why (relative to the storage root). */
    public record Rejected(String file, String reason) {
    }

    /** The report as plain text (the CLI prints it and writes it to {@code --report FILE}). */
    public String text() {
        StringBuilder b = new StringBuilder("SS-MIX2 import\n\n");
        b.append(String.format("%-8s %7s %9s %11s %10s %11s %9s%n", "type", "found", "imported", "superseded",
                "cancelled", "not mapped", "rejected"));
        new TreeMap<>(types).forEach((type, c) -> b.append(String.format("%-8s %7d %9d %11d %10d %11d %9d%n", type,
                c.found(), c.imported(), c.superseded(), c.cancelled(), c.notMapped(), c.rejected())));
        if (ignored > 0) {
            b.append(ignored).append(" file(s) outside the standardized storage layout were ignored.\n");
        }
        b.append("\nResources written:");
        if (written.isEmpty()) {
            b.append(" none");
        }
        new TreeMap<>(written).forEach((type, n) -> b.append(' ').append(type).append(' ').append(n));
        b.append("\nUnchanged (stored already as imported): ").append(unchanged);
        b.append("\n\nRejected messages: ").append(rejected.size()).append('\n');
        for (Rejected r : rejected) {
            b.append(r.file()).append('\t').append(r.reason()).append('\n');
        }
        return b.toString();
    }
}
