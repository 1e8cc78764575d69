package jp.kiroku;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The Citus design (docs/citus-design.md, machine-readable part docs/citus-tables.yaml) holds for the code as it is:
 * <ul>
 * <li>every table the migrations create is classified: distributed by the patient key, reference, or local to the
 * coordinator — and every table with a {@code patient_key} column is distributed or says why not;</li>
 * <li>every SQL statement in {@code src/main/java} that touches a distributed table filters by the distribution column
 * ({@code patient_key = ...}, {@code patient_key IN ...}; an INSERT names it among its columns), or is declared
 * multi-shard in the design with a reason;</li>
 * <li>every multi-shard declaration still matches a statement (none stale).</li>
 * </ul>
 * Statements are found by a static scan of the Java sources rather than by recording what a test run executes: a scan
 * sees every statement, including ones no test happens to run (maintenance, error paths), and it needs no database.
 * A statement is a run of string literals joined by {@code +} (text blocks included); pieces computed at run time
 * (a column list, a predicate built by the search module) are invisible to it, so a statement whose patient filter is
 * built elsewhere counts as unfiltered and must be declared — the scan errs towards declaring too much.
 */
class CitusDesignTest {

    private static final Path SOURCES = Path.of("src/main/java");
    private static final Path MIGRATIONS = Path.of("src/main/resources/db/migration");
    private static final Pattern TABLE_USE = Pattern.compile(
            "\\b(?:FROM|JOIN|INTO|UPDATE|DELETE\\s+FROM|TABLE)\\s+([a-z_][a-z0-9_]*)", Pattern.CASE_INSENSITIVE);
    private static final Pattern SQL = Pattern.compile("\\b(SELECT|INSERT|UPDATE|DELETE)\\b", Pattern.CASE_INSENSITIVE);

    /** One SQL statement (or fragment) as the source spells it: file, line, text. */
    record Statement(String file, int line, String text) {
        String oneLine() {
            return text.replaceAll("\\s+", " ").trim();
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> design() throws IOException {
        try (InputStream in = Files.newInputStream(Path.of("docs/citus-tables.yaml"))) {
            return new Yaml().load(in);
        }
    }

    @SuppressWarnings("unchecked")
    private static Set<String> names(Map<String, Object> design, String key) {
        Object v = design.get(key);
        return v == null ? Set.of() : new TreeSet<>(((Map<String, Object>) v).keySet());
    }

    @Test
    void everyTableIsClassifiedAndPatientTablesAreDistributed() throws IOException {
        Map<String, Object> design = design();
        assertThat(design.get("distribution_column")).isEqualTo("patient_key");
        Set<String> distributed = names(design, "distributed");
        Set<String> reference = names(design, "reference");
        Set<String> local = names(design, "local");
        Map<String, Boolean> tables = migrationTables();
        Set<String> classified = new TreeSet<>();
        classified.addAll(distributed);
        classified.addAll(reference);
        classified.addAll(local);
        assertThat(classified).as("classified in docs/citus-tables.yaml").containsAll(tables.keySet());
        assertThat(tables.keySet()).as("tables the migrations still create").containsAll(classified);
        assertThat(distributed).doesNotContainAnyElementsOf(reference).doesNotContainAnyElementsOf(local);
        assertThat(reference).doesNotContainAnyElementsOf(local);
        // a table that knows its patient is distributed, unless the design says why not (in the table's note)
        for (var t : tables.entrySet()) {
            if (t.getValue() && !distributed.contains(t.getKey())) {
                @SuppressWarnings("unchecked")
                Map<String, Object> section = (Map<String, Object>) design.get(reference.contains(t.getKey()) ? "reference" : "local");
                assertThat(String.valueOf(section.get(t.getKey()))).as(t.getKey() + " has a patient_key: why is it not distributed?")
                        .contains("patient_key");
            }
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyStatementOnADistributedTableFiltersByThePatientKeyOrIsDeclaredMultiShard() throws IOException {
        Map<String, Object> design = design();
        Set<String> distributed = names(design, "distributed");
        List<Map<String, String>> declared = (List<Map<String, String>>) design.get("multi_shard");
        for (Map<String, String> d : declared) {
            assertThat(d.get("file")).as("multi_shard entry " + d).isNotBlank();
            assertThat(d.get("contains")).as("multi_shard entry " + d).isNotBlank();
            assertThat(d.get("reason")).as("multi_shard entry " + d).isNotBlank();
        }
        List<Statement> statements = statements();
        assertThat(statements).as("the scan finds the record store's statements").hasSizeGreaterThan(100);
        Set<Map<String, String>> used = new LinkedHashSet<>();
        List<String> undeclared = new ArrayList<>();
        int onDistributed = 0;
        for (Statement s : statements) {
            Set<String> tables = tablesOf(s.text());
            tables.retainAll(distributed);
            if (tables.isEmpty()) {
                continue;
            }
            onDistributed++;
            List<Map<String, String>> matches = declared.stream().filter(d -> s.file().equals(d.get("file"))
                    && s.oneLine().contains(d.get("contains"))).toList();
            used.addAll(matches);
            if (matches.isEmpty() && !filtersByPatientKey(s.text())) {
                undeclared.add(s.file() + ":" + s.line() + " " + tables + " " + s.oneLine());
            }
        }
        assertThat(onDistributed).isGreaterThan(50);
        assertThat(undeclared).as("statements on distributed tables without a patient_key filter and not declared"
                + " multi-shard in docs/citus-tables.yaml").isEmpty();
        List<Map<String, String>> stale = declared.stream().filter(d -> !used.contains(d)).toList();
        assertThat(stale).as("multi_shard declarations that match no statement any more").isEmpty();
    }

    @Test
    void theScanSeesFiltersAndTheirAbsence() {
        assertThat(filtersByPatientKey("SELECT * FROM resource_current WHERE patient_key = ? AND NOT deleted")).isTrue();
        assertThat(filtersByPatientKey("SELECT * FROM resource_current c WHERE c.patient_key = ANY(?)")).isTrue();
        assertThat(filtersByPatientKey("INSERT INTO search_token (res_type, res_id, patient_key, param) VALUES (?,?,?,?)")).isTrue();
        assertThat(filtersByPatientKey("SELECT patient_key FROM legal_hold ORDER BY placed_at")).isFalse();
        assertThat(filtersByPatientKey("SELECT * FROM resource_current WHERE patient_key IS NOT NULL")).isFalse();
        assertThat(filtersByPatientKey("INSERT INTO resource_current (res_type, res_id) SELECT res_type, res_id FROM x")).isFalse();
        List<Statement> found = statementsIn("F.java", """
                class F {
                    // "SELECT * FROM commented_out"
                    void f() {
                        jdbc.query("SELECT a, b FROM resource_version v" + where + " ORDER BY v.seq", rs -> { });
                        jdbc.update("DELETE FROM legal_hold WHERE patient_key = ?", key, "not SQL " + x);
                        char q = '"';
                        String t = \"""
                            SELECT 1 FROM care_relation
                            \""";
                    }
                }
                """);
        assertThat(found).extracting(Statement::oneLine).containsExactly("SELECT a, b FROM resource_version v ORDER BY v.seq",
                "DELETE FROM legal_hold WHERE patient_key = ?", "SELECT 1 FROM care_relation");
        assertThat(found.get(0).line()).isEqualTo(4);
    }

    static boolean filtersByPatientKey(String sql) {
        String s = sql.replaceAll("\\s+", " ");
        if (Pattern.compile("^\\s*INSERT\\b", Pattern.CASE_INSENSITIVE).matcher(s).find()) {
            Matcher cols = Pattern.compile("^\\s*INSERT INTO [a-z_]+ ?\\(([^)]*)\\)", Pattern.CASE_INSENSITIVE).matcher(s);
            return cols.find() && List.of(cols.group(1).replace(" ", "").split(",")).contains("patient_key");
        }
        return Pattern.compile("\\bpatient_key\\s*(=|IN\\b)", Pattern.CASE_INSENSITIVE).matcher(s).find();
    }

    static Set<String> tablesOf(String sql) {
        Set<String> out = new TreeSet<>();
        Matcher m = TABLE_USE.matcher(sql);
        while (m.find()) {
            out.add(m.group(1).toLowerCase(Locale.ROOT));
        }
        return out;
    }

    /** Every table the migrations create, and whether it has a patient_key column. */
    static Map<String, Boolean> migrationTables() throws IOException {
        Map<String, Boolean> out = new java.util.TreeMap<>();
        Set<String> dropped = new TreeSet<>();
        try (Stream<Path> files = Files.list(MIGRATIONS)) {
            for (Path f : files.sorted().toList()) {
                String sql = Files.readString(f);
                Matcher create = Pattern.compile("CREATE TABLE (?:IF NOT EXISTS )?([A-Za-z0-9_]+) \\((.*?)\\n\\);",
                        Pattern.DOTALL).matcher(sql);
                while (create.find()) {
                    String name = create.group(1).toLowerCase(Locale.ROOT);
                    out.merge(name, create.group(2).matches("(?s).*\\bpatient_key\\b.*"), Boolean::logicalOr);
                }
                Matcher alter = Pattern.compile("ALTER TABLE ([a-z_]+) ADD COLUMN (?:IF NOT EXISTS )?patient_key\\b").matcher(sql);
                while (alter.find()) {
                    out.put(alter.group(1), true);
                }
                Matcher drop = Pattern.compile("DROP TABLE (?:IF EXISTS )?([a-z_]+)").matcher(sql);
                while (drop.find()) {
                    dropped.add(drop.group(1));
                }
            }
        }
        dropped.forEach(out::remove);
        return out;
    }

    static List<Statement> statements() throws IOException {
        List<Statement> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                out.addAll(statementsIn(SOURCES.relativize(f).toString().replace('\\', '/'),
                        Files.readString(f, StandardCharsets.UTF_8)));
            }
        }
        return out;
    }

    /**
     * The SQL statements of one source file: string literals (and text blocks) outside comments, joined while only
     * {@code +} and expressions without {@code ;}, braces or a top-level comma stand between them; kept when they
     * name a table after FROM/JOIN/INTO/UPDATE and contain SELECT/INSERT/UPDATE/DELETE.
     */
    static List<Statement> statementsIn(String file, String src) {
        record Literal(int start, int end, String text) {
        }
        List<Literal> literals = new ArrayList<>();
        int i = 0;
        int n = src.length();
        while (i < n) {
            char c = src.charAt(i);
            if (src.startsWith("//", i)) {
                i = src.indexOf('\n', i);
                i = i < 0 ? n : i;
            } else if (src.startsWith("/*", i)) {
                i = src.indexOf("*/", i + 2);
                i = i < 0 ? n : i + 2;
            } else if (c == '\'') {
                i = src.charAt(i + 1) == '\\' ? src.indexOf('\'', i + 3) + 1 : i + 3;
            } else if (src.startsWith("\"\"\"", i)) {
                int end = src.indexOf("\"\"\"", i + 3);
                literals.add(new Literal(i, end + 3, src.substring(src.indexOf('\n', i) + 1, end)));
                i = end + 3;
            } else if (c == '"') {
                StringBuilder text = new StringBuilder();
                int j = i + 1;
                while (src.charAt(j) != '"') {
                    if (src.charAt(j) == '\\') {
                        char e = src.charAt(j + 1);
                        text.append(e == 'n' ? '\n' : e == 't' ? '\t' : e);
                        j += 2;
                    } else {
                        text.append(src.charAt(j++));
                    }
                }
                literals.add(new Literal(i, j + 1, text.toString()));
                i = j + 1;
            } else {
                i++;
            }
        }
        List<Statement> out = new ArrayList<>();
        int k = 0;
        while (k < literals.size()) {
            Literal first = literals.get(k);
            StringBuilder text = new StringBuilder(first.text());
            int depth = 0;
            int end = first.end();
            k++;
            while (k < literals.size()) {
                String between = src.substring(end, literals.get(k).start());
                boolean joins = between.contains("+");
                for (char c : between.toCharArray()) {
                    if (c == '(') {
                        depth++;
                    } else if (c == ')') {
                        depth--;
                    } else if (c == ';' || c == '{' || c == '}' || (c == ',' && depth <= 0)) {
                        joins = false;
                    }
                }
                if (!joins) {
                    break;
                }
                text.append(literals.get(k).text());
                end = literals.get(k).end();
                k++;
            }
            String sql = text.toString();
            if (SQL.matcher(sql).find() && !tablesOf(sql).isEmpty()) {
                int line = 1;
                for (int p = 0; p < first.start(); p++) {
                    if (src.charAt(p) == '\n') {
                        line++;
                    }
                }
                out.add(new Statement(file, line, sql));
            }
        }
        return out;
    }
}
