package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jp.kiroku.support.ServerTest;

/**
 * {@code kiroku checkup import} (issue 12, item 2; PHR-03) with the example file of docs/health-checks.md, while the
 * server runs: every row an Observation of the patient it names, the patients created once, a second run writes
 * nothing, and a file with a bad row is refused by line with exit status 1.
 */
@Tag("PHR-03")
class CheckupCommandsTest extends ServerTest {

    private static final Path EXAMPLE = Path.of("docs/health-checks-example.csv");

    @Test
    void theDocumentedExampleImportsOnceAndABadFileIsRefusedByLine(@TempDir Path tmp) throws Exception {
        List<String[]> rows = Files.readAllLines(EXAMPLE, StandardCharsets.UTF_8).stream().skip(1)
                .filter(l -> !l.isBlank()).map(l -> l.split(",", -1)).toList();
        List<String> patients = rows.stream().map(r -> r[0] + "|" + r[1]).distinct().toList();

        CliRun first = CliRun.kiroku(DATA_DIR, "checkup", "import", EXAMPLE.toString());
        assertThat(first.code()).as(first.out() + first.err()).isZero();
        assertThat(first.out()).contains("imported: " + rows.size() + " created, 0 updated, 0 unchanged, "
                + patients.size() + " patients created");
        for (String patient : patients) {
            Bundle found = admin.get("Patient?identifier=" + patient.replace("|", "%7C")).as(Bundle.class);
            assertThat(found.getEntry()).hasSize(1);
            String id = found.getEntryFirstRep().getResource().getIdElement().getIdPart();
            long expected = rows.stream().filter(r -> patient.equals(r[0] + "|" + r[1])).count();
            assertThat(admin.get("Observation?patient=" + id + "&_count=100").as(Bundle.class).getEntry())
                    .hasSize((int) expected);
        }

        CliRun again = CliRun.kiroku(DATA_DIR, "checkup", "import", EXAMPLE.toString());
        assertThat(again.out()).contains("nothing new to write: 0 created, 0 updated, " + rows.size() + " unchanged");

        Path bad = Files.createTempFile(tmp, "checkup-", ".csv");
        List<String> lines = Files.readAllLines(EXAMPLE, StandardCharsets.UTF_8);
        Files.write(bad, List.of(lines.get(0), lines.get(1).replace("2025-05-10", "2025-05-32")), StandardCharsets.UTF_8);
        CliRun refused = CliRun.kiroku(DATA_DIR, "checkup", "import", bad.toString());
        assertThat(refused.code()).isEqualTo(1);
        assertThat(refused.out()).contains("line 2: exam_date is not a date", "refused, nothing written");
    }
}
