package jp.kiroku.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.support.ServerTest;
import jp.kiroku.support.TestDatabase;

/**
 * Nothing a patient said or is called is readable in the database (issue 7): record bodies are sealed, the search
 * index holds keyed hashes, the access log seals what was searched for. Proven by scanning the PostgreSQL data files
 * (tables and WAL) and a pg_dump for marker strings written through the API; a marker that is stored in plain by design
 * (the resource id) is found by the same scan, which shows the scan can see what it looks for.
 */
class BlindIndexTest extends ServerTest {

    @Autowired
    JdbcTemplate jdbc;

    @Test
    @Tag("DISP-02")
    @Tag("BACKUP-05")
    void noNameCodeIdentifierNoteOrSearchedValueIsReadableInTheDataFilesOrADump() throws Exception {
        Assumptions.assumeTrue(TestDatabase.external().isEmpty(), "scans the embedded cluster's files");
        String n = Long.toString(System.nanoTime(), 36).toUpperCase();
        String id = "plainid" + n.toLowerCase();
        Map<String, String> secret = new LinkedHashMap<>();
        secret.put("family", "MARKFAM" + n);
        secret.put("kanji family", "記録検証" + n);
        secret.put("identifier", "MARKMRN" + n);
        secret.put("code", "MARKCODE" + n);
        secret.put("note", "MARKNOTE" + n);
        assertThat(admin.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":"
                + "\"urn:oid:1.2.392.100495.20.3.51.11311234567\",\"value\":\"" + secret.get("identifier") + "\"}],\"name\":"
                + "[{\"family\":\"" + secret.get("family") + "\"},{\"family\":\"" + secret.get("kanji family") + "\"}]}")
                .status()).isEqualTo(201);
        assertThat(admin.post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{"
                + "\"system\":\"urn:kiroku:test\",\"code\":\"" + secret.get("code") + "\"}]},\"subject\":{\"reference\":"
                + "\"Patient/" + id + "\"},\"note\":[{\"text\":\"" + secret.get("note") + "\"}]}").status()).isEqualTo(201);
        // the searches still answer (and the access log records what was asked)
        assertThat(ids("Patient?family=" + secret.get("family").substring(0, 9).toLowerCase())).contains(id);
        assertThat(ids("Patient?family=" + enc("記録検証"))).contains(id);
        assertThat(ids("Patient?identifier=" + secret.get("identifier"))).containsExactly(id);
        assertThat(ids("Observation?code=" + enc("urn:kiroku:test|" + secret.get("code")) + "&subject=Patient/" + id)).hasSize(1);

        Properties db = properties(DATA_DIR.resolve("run/db.properties"));
        String superuser = properties(DATA_DIR.resolve("postgres.secret")).getProperty("superuser");
        try (var c = java.sql.DriverManager.getConnection(db.getProperty("url"), "postgres", superuser);
             var s = c.createStatement()) {
            s.execute("CHECKPOINT"); // tables' pages to their files (the WAL has them already)
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(DATA_DIR.resolve("postgres"))) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        byte[] dump = pgDump(db, superuser);

        List<String> markers = new ArrayList<>(secret.values());
        markers.add(id);
        Map<String, List<Path>> found = foundIn(files, markers);
        assertThat(found.get(id)).as("the plain resource id, stored as such: the scan finds what is there").isNotEmpty();
        assertThat(new String(dump, StandardCharsets.UTF_8)).contains(id);
        for (var e : secret.entrySet()) {
            assertThat(found.get(e.getValue())).as(e.getKey() + " in the data files").isEmpty();
            assertThat(new String(dump, StandardCharsets.UTF_8)).as(e.getKey() + " in pg_dump").doesNotContain(e.getValue());
        }
    }

    @Test
    void aStringSearchLongerThanTheStoredPrefixesIsRefusedAndExactStillMatches() {
        String n = Long.toString(System.nanoTime(), 36);
        String longFamily = "a".repeat(45) + n;
        String id = admin.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + longFamily + "\"}]}")
                .as(org.hl7.fhir.r4.model.Patient.class).getIdElement().getIdPart();
        var refused = admin.get("Patient?family=" + longFamily);
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.body()).contains("longer than the 40 characters").contains(":exact");
        assertThat(ids("Patient?family:exact=" + longFamily)).containsExactly(id);
        assertThat(ids("Patient?family=" + longFamily.substring(0, 40) + "&_id=" + id)).containsExactly(id);
    }

    @Test
    void theIndexHoldsHashesThatNeitherShowNorRepeatTheValueAcrossTypesOfValue() {
        String code = "HASHCODE" + System.nanoTime();
        for (int i = 0; i < 2; i++) {
            assertThat(admin.post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":"
                    + "[{\"system\":\"urn:kiroku:test\",\"code\":\"" + code + "\"}]}}").status()).isEqualTo(201);
        }
        List<String> stored = jdbc.queryForList("SELECT DISTINCT code FROM search_token t JOIN resource_current c ON"
                + " c.res_type = t.res_type AND c.res_id = t.res_id WHERE t.param = 'code' AND t.res_type = 'Observation'"
                + " AND c.last_updated > now() - interval '1 minute'", String.class);
        assertThat(stored).allSatisfy(h -> assertThat(h).hasSize(22).doesNotContain("HASHCODE").matches("[A-Za-z0-9_-]+"));
        assertThat(ids("Observation?code=" + enc("urn:kiroku:test|" + code))).hasSize(2);
        assertThat(ids("Observation?code=" + enc("urn:kiroku:test|" + code + "x"))).isEmpty();
    }

    private List<String> ids(String query) {
        var r = admin.get(query);
        assertThat(r.status()).as(query + ": " + r.body()).isEqualTo(200);
        List<String> out = new ArrayList<>();
        for (var e : r.as(Bundle.class).getEntry()) {
            out.add(e.getResource().getIdElement().getIdPart());
        }
        return out;
    }

    private static String enc(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static Properties properties(Path file) throws IOException {
        Properties p = new Properties();
        try (var in = Files.newInputStream(file)) {
            p.load(in);
        }
        return p;
    }

    /** For each marker, the files holding its UTF-8 bytes (files PostgreSQL removes while we read are skipped). */
    static Map<String, List<Path>> foundIn(List<Path> files, List<String> markers) throws IOException {
        Map<String, List<Path>> found = new LinkedHashMap<>();
        markers.forEach(m -> found.put(m, new ArrayList<>()));
        for (Path f : files) {
            byte[] content;
            try {
                content = Files.readAllBytes(f);
            } catch (NoSuchFileException gone) {
                continue;
            }
            String bytes = new String(content, StandardCharsets.ISO_8859_1); // one char per byte: String search finds bytes
            for (String m : markers) {
                if (bytes.contains(new String(m.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1))) {
                    found.get(m).add(f);
                }
            }
        }
        return found;
    }

    private static byte[] pgDump(Properties db, String superuser) throws Exception {
        String bin = Files.isExecutable(Path.of("/usr/lib/postgresql/15/bin/pg_dump")) ? "/usr/lib/postgresql/15/bin/pg_dump"
                : "pg_dump";
        var url = java.net.URI.create(db.getProperty("url").substring("jdbc:".length()));
        ProcessBuilder pb = new ProcessBuilder(bin, "-h", url.getHost(), "-p", Integer.toString(url.getPort()), "-U", "postgres",
                "-d", url.getPath().substring(1)).redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("PGPASSWORD", superuser);
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("pg_dump").isZero();
        assertThat(out.length).isGreaterThan(10_000);
        return out;
    }
}
