package jp.kiroku.exchange;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Health-check results as CSV (issue 12, item 2; the column mapping is documented in docs/health-checks.md): one row
 * per result, a header row naming the columns (any order; names case-insensitive; an unknown column refuses the file
 * rather than being ignored). UTF-8, with or without a byte-order mark; RFC 4180 quoting. Each bad row is reported
 * with its line number and the reason; nothing here writes anything.
 */
public final class CheckupCsv {

    /** JLAC10 17-digit codes (MEDIS 臨床検査マスター): OID 1.2.392.200119.4.504, as JP Core and JP-CLINS write it. */
    public static final String JLAC10 = CodeSystems.JLAC10;
    /** 特定健診項目コード (MHLW's specified-health-check item codes, as the eCheckupReport IG writes them). */
    public static final String CHECKUP_ITEM = "urn:oid:1.2.392.200119.6.1005";
    public static final String UCUM = "http://unitsofmeasure.org";
    public static final String INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";

    /** The columns, in the order of the documented example. */
    public static final List<String> COLUMNS = List.of("patient_id", "patient_identifier_system",
            "patient_identifier_value", "patient_name", "patient_kana", "birth_date", "gender", "exam_date",
            "item_code_system", "item_code", "item_name", "value", "unit", "reference_low", "reference_high",
            "reference_text", "interpretation", "performer", "performer_identifier", "comment");

    private static final Set<String> REQUIRED = Set.of("exam_date", "item_code_system", "item_code", "item_name", "value");

    /** v3 ObservationInterpretation codes a health-check centre uses. */
    static final Set<String> INTERPRETATIONS = Set.of("N", "H", "L", "HH", "LL", "A", "AA", "HU", "LU", "POS", "NEG",
            "IND", "DET", "ND");

    private CheckupCsv() {
    }

    /** One result row, checked: {@code line} is the line of the file where the row starts (the header is line 1). */
    public record Row(int line, String patientId, String identifierSystem, String identifierValue, String name,
                      String kana, LocalDate birthDate, String gender, LocalDate examDate, String codeSystem,
                      String code, String itemName, BigDecimal number, String comparator, String text, String unit,
                      BigDecimal low, BigDecimal high, String rangeText, String interpretation, String performer,
                      String performerIdentifier, String comment) {

        /** How the file names the patient: {@code id:<id>} or {@code <system>|<value>}. */
        public String patientKey() {
            return patientId != null ? "id:" + patientId : identifierSystem + "|" + identifierValue;
        }
    }

    /** A row refused, and why. */
    public record Rejected(int line, String reason) {
    }

    /** The rows read and the rows refused. A refused header gives no rows and one rejection on line 1. */
    public record Parsed(List<Row> rows, List<Rejected> rejected) {
    }

    public static Parsed parse(String text) {
        List<Row> rows = new ArrayList<>();
        List<Rejected> rejected = new ArrayList<>();
        List<Record> records;
        try {
            records = records(text.startsWith("\uFEFF") ? text.substring(1) : text);
        } catch (IllegalArgumentException e) {
            return new Parsed(rows, List.of(new Rejected(Integer.parseInt(e.getMessage().replaceAll("\\D.*", "")),
                    e.getMessage())));
        }
        if (records.isEmpty()) {
            return new Parsed(rows, List.of(new Rejected(1, "empty file: a header row is required")));
        }
        List<String> header = records.get(0).fields().stream().map(h -> h.strip().toLowerCase(Locale.ROOT)).toList();
        List<String> unknown = header.stream().filter(h -> !COLUMNS.contains(h)).toList();
        List<String> missing = REQUIRED.stream().filter(c -> !header.contains(c)).sorted().toList();
        if (!unknown.isEmpty() || !missing.isEmpty() || header.stream().distinct().count() != header.size()) {
            String why = (unknown.isEmpty() ? "" : "unknown columns " + unknown + " (see docs/health-checks.md) ")
                    + (missing.isEmpty() ? "" : "missing columns " + missing + " ")
                    + (header.stream().distinct().count() != header.size() ? "a column named twice" : "");
            return new Parsed(rows, List.of(new Rejected(1, "header: " + why.strip())));
        }
        for (Record r : records.subList(1, records.size())) {
            if (r.fields().stream().allMatch(String::isBlank)) {
                continue; // an empty line (a trailing one, typically)
            }
            if (r.fields().size() != header.size()) {
                rejected.add(new Rejected(r.line(), r.fields().size() + " fields, the header has " + header.size()));
                continue;
            }
            Map<String, String> f = new LinkedHashMap<>();
            for (int i = 0; i < header.size(); i++) {
                String v = r.fields().get(i).strip();
                f.put(header.get(i), v.isEmpty() ? null : v);
            }
            try {
                rows.add(row(r.line(), f));
            } catch (IllegalArgumentException e) {
                rejected.add(new Rejected(r.line(), e.getMessage()));
            }
        }
        return new Parsed(rows, rejected);
    }

    private static Row row(int line, Map<String, String> f) {
        List<String> problems = new ArrayList<>();
        for (String c : REQUIRED) {
            if (f.get(c) == null) {
                problems.add(c + " is empty");
            }
        }
        String id = f.get("patient_id");
        String system = f.get("patient_identifier_system");
        String value = f.get("patient_identifier_value");
        if (id == null && (system == null || value == null)) {
            problems.add("no patient: give patient_id, or patient_identifier_system and patient_identifier_value");
        } else if (id != null && (system != null || value != null)) {
            problems.add("give patient_id or the patient identifier, not both");
        } else if (id != null && !id.matches("[A-Za-z0-9\\-.]{1,64}")) {
            problems.add("patient_id is not a FHIR id: " + id);
        } else if (system != null && !absoluteUri(system)) {
            problems.add("patient_identifier_system must be a URI (urn:oid:… or http…): " + system);
        }
        LocalDate birth = date(f.get("birth_date"), "birth_date", problems);
        LocalDate exam = date(f.get("exam_date"), "exam_date", problems);
        String gender = gender(f.get("gender"), problems);
        String codeSystem = codeSystem(f.get("item_code_system"), problems);
        String code = f.get("item_code");
        if (JLAC10.equals(codeSystem) && code != null && !code.matches("[0-9A-Z]{17}")) {
            problems.add("item_code is not a 17-character JLAC10 code: " + code);
        }
        BigDecimal number = null;
        String comparator = null;
        String text = null;
        String raw = f.get("value");
        if (raw != null) {
            var m = java.util.regex.Pattern.compile("^(<=|>=|<|>)?\\s*([-+]?[0-9]+(\\.[0-9]+)?)$").matcher(raw);
            if (m.matches()) {
                comparator = m.group(1);
                number = new BigDecimal(m.group(2));
            } else {
                text = raw;
            }
        }
        BigDecimal low = number(f.get("reference_low"), "reference_low", problems);
        BigDecimal high = number(f.get("reference_high"), "reference_high", problems);
        if (low != null && high != null && low.compareTo(high) > 0) {
            problems.add("reference_low " + low + " is above reference_high " + high);
        }
        if (number == null && (low != null || high != null)) {
            problems.add("a numeric reference range for a value that is not a number: " + raw);
        }
        String unit = f.get("unit");
        if (unit != null && number == null) {
            problems.add("a unit for a value that is not a number: " + raw);
        }
        if (unit != null && !unit.matches("[\\x21-\\x7e]+")) {
            problems.add("unit must be a UCUM code (ASCII, no spaces): " + unit);
        }
        String interpretation = f.get("interpretation");
        if (interpretation != null && !INTERPRETATIONS.contains(interpretation.toUpperCase(Locale.ROOT))) {
            problems.add("interpretation must be one of " + INTERPRETATIONS.stream().sorted().toList() + ": "
                    + interpretation);
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        return new Row(line, id, system, value, f.get("patient_name"), f.get("patient_kana"), birth, gender, exam,
                codeSystem, code, f.get("item_name"), number, comparator, text, unit, low, high, f.get("reference_text"),
                interpretation == null ? null : interpretation.toUpperCase(Locale.ROOT), f.get("performer"),
                f.get("performer_identifier"), f.get("comment"));
    }

    private static boolean absoluteUri(String s) {
        return s.matches("(urn:[a-zA-Z0-9][a-zA-Z0-9-]*:|https?://)\\S+");
    }

    /**
     * {@code JLAC10} and {@code checkup} (特定健診項目コード) are short names; anything else must be the code system's URI,
     * kept as given — JLAC11 has no published general code-system URI, so a JLAC11 code comes with the URI the sender
     * uses for it (never one Kiroku would invent).
     */
    private static String codeSystem(String s, List<String> problems) {
        if (s == null) {
            return null;
        }
        switch (s.toUpperCase(Locale.ROOT)) {
            case "JLAC10" -> {
                return JLAC10;
            }
            case "CHECKUP" -> {
                return CHECKUP_ITEM;
            }
            case "JLAC11" -> {
                problems.add("item_code_system JLAC11: no general JLAC11 code-system URI is published; give the URI"
                        + " your JLAC11 codes are exchanged under (see docs/health-checks.md)");
                return null;
            }
            default -> {
                if (!absoluteUri(s)) {
                    problems.add("item_code_system must be JLAC10, checkup or a code-system URI: " + s);
                    return null;
                }
                return s;
            }
        }
    }

    private static LocalDate date(String s, String column, List<String> problems) {
        if (s == null) {
            return null;
        }
        try {
            return LocalDate.parse(s.replace('/', '-'));
        } catch (DateTimeParseException e) {
            problems.add(column + " is not a date (yyyy-mm-dd): " + s);
            return null;
        }
    }

    private static BigDecimal number(String s, String column, List<String> problems) {
        if (s == null) {
            return null;
        }
        try {
            return new BigDecimal(s);
        } catch (NumberFormatException e) {
            problems.add(column + " is not a number: " + s);
            return null;
        }
    }

    private static String gender(String s, List<String> problems) {
        if (s == null) {
            return null;
        }
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "male", "m", "1", "男" -> "male";
            case "female", "f", "2", "女" -> "female";
            case "other" -> "other";
            case "unknown" -> "unknown";
            default -> {
                problems.add("gender must be male, female, other or unknown (or M/F, 1/2, 男/女): " + s);
                yield null;
            }
        };
    }

    /** One CSV record and the line it starts on. */
    private record Record(int line, List<String> fields) {
    }

    /** RFC 4180: comma-separated, double quotes around fields with commas, quotes or line breaks, "" for a quote. */
    private static List<Record> records(String text) {
        List<Record> out = new ArrayList<>();
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        boolean any = false;
        int line = 1;
        int start = 1;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    if (c == '\n') {
                        line++;
                    }
                    field.append(c);
                }
            } else if (c == '"' && field.isEmpty()) {
                quoted = true;
                any = true;
            } else if (c == ',') {
                fields.add(field.toString());
                field.setLength(0);
                any = true;
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
                    i++;
                }
                if (any || !field.isEmpty()) {
                    fields.add(field.toString());
                    out.add(new Record(start, List.copyOf(fields)));
                }
                fields.clear();
                field.setLength(0);
                any = false;
                line++;
                start = line;
            } else {
                field.append(c);
                any = true;
            }
        }
        if (quoted) {
            throw new IllegalArgumentException(start + ": a quoted field opened on this line is not closed");
        }
        if (any || !field.isEmpty()) {
            fields.add(field.toString());
            out.add(new Record(start, List.copyOf(fields)));
        }
        return out;
    }
}
