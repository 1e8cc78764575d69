package jp.kiroku.exchange;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The SS-MIX2 standardized storage layout (標準化ストレージ, JAMI guideline 1.2):
 * {@code <root>/<patient id 1-3>/<patient id 4-6>/<patient id>/<day yyyyMMdd or ->/<data type>/<file>}, the file named
 * {@code <patient id>_<day>_<data type>_<order number>_<timestamp yyyyMMddHHmmssSSS>_<department>_<condition flag>}
 * (flag 1 valid, 0 cancelled or superseded), with or without an extension such as {@code .txt}.
 */
final class Ssmix2Storage {

    private static final Pattern NAME = Pattern.compile(
            "([^_]+)_([0-9]{8}|-)_([A-Z]{3}(?:-[0-9]{2})?)_([^_]+)_([0-9]{8,17})_([^_]+)_([01])(?:\\.[A-Za-z0-9]{1,8})?");

    private Ssmix2Storage() {
    }

    /** One file of the storage; {@code problem} is set when its name or place is not SS-MIX2's (it is rejected). */
    record Entry(Path path, String relative, String patientId, String day, String dataType, String orderNumber,
                 String timestamp, String department, boolean valid, String problem) {

        static Entry rejected(Path path, String relative, String dataType, String problem) {
            return new Entry(path, relative, null, null, dataType, null, null, null, false, problem);
        }

        /** Files of one order (or, for patient data and problems, of one patient) supersede each other. */
        String orderKey() {
            return patientId + "|" + dataType + "|" + orderNumber;
        }
    }

    /** The files in the layout (sorted by patient, then time of the event) and how many were outside it. */
    record Scan(List<Entry> entries, int ignored) {
    }

    static Scan scan(Path root) {
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("not a directory: " + root);
        }
        List<Entry> entries = new ArrayList<>();
        int ignored = 0;
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                Path rel = root.relativize(p);
                if (rel.getNameCount() != 6 || rel.getFileName().toString().startsWith(".")) {
                    ignored++;
                    continue;
                }
                entries.add(entry(p, rel));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + root + ": " + e.getMessage(), e);
        }
        entries.sort(Comparator.comparing((Entry e) -> e.patientId() == null ? "" : e.patientId())
                .thenComparing(e -> e.timestamp() == null ? "" : e.timestamp())
                .thenComparing(Entry::relative));
        return new Scan(entries, ignored);
    }

    private static Entry entry(Path p, Path rel) {
        String relative = rel.toString().replace('\\', '/');
        String folderType = rel.getName(4).toString();
        Matcher m = NAME.matcher(rel.getFileName().toString());
        if (!m.matches()) {
            return Entry.rejected(p, relative, folderType, "file name is not <patient>_<day>_<type>_<order>_<timestamp>_"
                    + "<department>_<flag>");
        }
        String patient = m.group(1);
        String day = m.group(2);
        String type = m.group(3);
        String problem = null;
        if (!rel.getName(2).toString().equals(patient)) {
            problem = "patient id " + patient + " of the file name is not its folder's (" + rel.getName(2) + ")";
        } else if (!rel.getName(0).toString().equals(prefix(patient, 0)) || !rel.getName(1).toString().equals(prefix(patient, 3))) {
            problem = "patient folders " + rel.getName(0) + "/" + rel.getName(1) + " do not match patient id " + patient;
        } else if (!rel.getName(3).toString().equals(day)) {
            problem = "day " + day + " of the file name is not its folder's (" + rel.getName(3) + ")";
        } else if (!folderType.equals(type)) {
            problem = "data type " + type + " of the file name is not its folder's (" + folderType + ")";
        }
        return new Entry(p, relative, patient, day, type, m.group(4), m.group(5), m.group(6), "1".equals(m.group(7)),
                problem);
    }

    /** The guideline's folder names: characters 1-3 and 4-6 of the patient id (shorter ids: what there is). */
    static String prefix(String patient, int from) {
        return patient.length() <= from ? "" : patient.substring(from, Math.min(patient.length(), from + 3));
    }
}
