package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.crypto.BlindIndex;
import jp.kiroku.support.ServerTest;
import jp.kiroku.support.TestDatabase;

/**
 * Rotating the blind index's key (issue 7, item 3) while the server keeps serving: searches find old and new
 * resources at every step, the old key is destroyed at the end, the rotation is audited, and a rotation killed with
 * SIGKILL in the middle of re-indexing completes when run again.
 */
class IndexKeyRotationTest extends ServerTest {

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    BlindIndex blind;

    @Test
    @Tag("EXT-04")
    void searchesAnswerThroughEveryStepAndTheOldKeyIsDestroyedAtTheEnd() throws Exception {
        String family = "rot" + System.nanoTime();
        String before = patient(family, "before");
        int oldGen = current();
        String oldHash = familyPrefixes(before);

        BlindIndex.Generation next = blind.addQueried(); // step 1: searched, not yet written
        blind.settle();
        assertThat(ids("Patient?family=" + family)).containsExactly(before);
        blind.makeCurrent(next.gen()); // step 2: written; the old key is still searched
        blind.settle();
        String during = patient(family, "during");
        assertThat(ids("Patient?family=" + family)).containsExactlyInAnyOrder(before, during);
        assertThat(familyPrefixes(before)).as("not re-indexed yet").isEqualTo(oldHash);

        CliRun run = CliRun.kiroku(DATA_DIR, "keys", "rotate-index"); // steps 3 and 4, resumed by the command
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("Resumed and completed the rotation to index key " + next.gen())
                .contains("retired key(s) [" + oldGen + "]");
        blind.reload();
        assertThat(familyPrefixes(before)).as("re-indexed under the new key").isNotEqualTo(oldHash);
        assertThat(ids("Patient?family=" + family)).containsExactlyInAnyOrder(before, during);
        assertThat(jdbc.queryForObject("SELECT wrapped IS NULL AND destroyed_at IS NOT NULL FROM data_key WHERE owner = ?",
                Boolean.class, "index:" + oldGen)).as("the old key destroyed").isTrue();
        assertThat(jdbc.queryForObject("SELECT state FROM index_key WHERE gen = ?", String.class, oldGen)).isEqualTo("retired");
        assertThat(jdbc.queryForList("SELECT detail FROM audit_log WHERE action = 'index-key.rotate' ORDER BY seq DESC LIMIT 2",
                String.class)).anySatisfy(d -> assertThat(d).startsWith("completed generation=" + next.gen()));
    }

    @Test
    @Tag("EXT-04")
    void aRotationKilledWhileReIndexingCompletesWhenRunAgain(@TempDir Path tmp) throws Exception {
        String family = "kill" + System.nanoTime();
        List<String> made = new ArrayList<>();
        for (int b = 0; b < 6; b++) { // 1,200 patients in transactions of 200
            StringBuilder bundle = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
            for (int i = 0; i < 200; i++) {
                bundle.append(i == 0 ? "" : ",").append("{\"resource\":{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"")
                        .append(family).append("\",\"given\":[\"g").append(b * 200 + i).append("\"]}]},\"request\":{\"method\":")
                        .append("\"POST\",\"url\":\"Patient\"}}");
            }
            var r = admin.post("", bundle.append("]}").toString());
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            for (var e : r.as(Bundle.class).getEntry()) {
                made.add(e.getResponse().getLocation().split("/")[1]);
            }
        }
        int oldGen = current();

        Path log = Files.createTempFile(tmp, "kiroku-rotate-", ".log");
        Process first = cli(log, "keys", "rotate-index", "--kiroku.search.reindex-batch=5").start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        Long reindexed = null;
        while (System.nanoTime() < deadline && first.isAlive()) {
            reindexed = jdbc.queryForObject("SELECT coalesce(max(reindexed), 0) FROM index_key WHERE gen > ? AND NOT reindex_done",
                    Long.class, oldGen);
            if (reindexed > 100) {
                break;
            }
            Thread.sleep(20);
        }
        assertThat(first.isAlive()).as("still re-indexing when killed:\n" + Files.readString(log)).isTrue();
        first.destroyForcibly(); // SIGKILL: no shutdown hooks, the batch in flight rolls back
        assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM index_key WHERE gen > ? AND NOT reindex_done", Integer.class, oldGen))
                .as("left unfinished").isEqualTo(1);
        assertThat(count("Patient?family=" + family)).as("searches answer meanwhile (under both keys)").isEqualTo(made.size());
        assertThat(count("Patient?family=" + family + "&given=g1199")).isEqualTo(1);

        CliRun again = CliRun.kiroku(DATA_DIR, "keys", "rotate-index");
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(again.out()).contains("Resumed and completed").contains("retired key(s) [" + oldGen + "]");
        blind.reload();
        assertThat(count("Patient?family=" + family)).isEqualTo(made.size());
        for (int i : new int[] {0, 599, 1199}) {
            assertThat(ids("Patient?family=" + family + "&given=g" + i)).containsExactly(made.get(i));
        }
        assertThat(jdbc.queryForObject("SELECT count(*) FROM index_key WHERE state <> 'retired'", Integer.class)).isEqualTo(1);
    }

    private ProcessBuilder cli(Path log, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), "jp.kiroku.KirokuApplication"));
        cmd.addAll(List.of(args));
        cmd.add("--data-dir=" + DATA_DIR);
        cmd.add("--kiroku.search.index-key-refresh=300ms");
        TestDatabase.external().ifPresent(db -> cmd.addAll(List.of("--kiroku.db.url=" + db.url(), "--kiroku.db.user=" + db.user(),
                "--kiroku.db.password=" + db.password())));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    }

    private int current() {
        return jdbc.queryForObject("SELECT gen FROM index_key WHERE state = 'current'", Integer.class);
    }

    private String familyPrefixes(String id) {
        return jdbc.queryForObject("SELECT prefixes::text FROM search_string WHERE res_type = 'Patient' AND res_id = ?"
                + " AND param = 'family'", String.class, id);
    }

    private String patient(String family, String given) {
        return admin.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\",\"given\":[\""
                + given + "\"]}]}").as(org.hl7.fhir.r4.model.Patient.class).getIdElement().getIdPart();
    }

    private List<String> ids(String query) {
        var r = admin.get(query);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        List<String> out = new ArrayList<>();
        r.as(Bundle.class).getEntry().forEach(e -> out.add(e.getResource().getIdElement().getIdPart()));
        return out;
    }

    private int count(String query) {
        var r = admin.get(query + "&_summary=count");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.as(Bundle.class).getTotal();
    }
}
