package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.ServerTest;

/** {@code kiroku clins import|export}: the operator's JP-CLINS exchange, the same rules as over REST. */
@Tag("SHARE-02")
class ClinsCommandsTest extends ServerTest {

    static final Path EXAMPLES = Path.of("../shared/data/jpcore/clins-examples");

    @TempDir
    Path dir;

    static Resource normalised(Resource r) {
        Resource c = r.copy();
        c.getMeta().setVersionId(null);
        c.getMeta().setLastUpdated(null);
        c.setId(c.getIdElement().getIdPart());
        return c;
    }

    @Test
    void importThenExportGivesTheBundleBackAndTheLabsAsAClinsBundle() throws Exception {
        Path file = EXAMPLES.resolve("Bundle-Bundle-CLINS-Observations-Example-01.json");
        CliRun in = CliRun.kiroku(DATA_DIR, "clins", "import", file.toString());
        assertThat(in.code()).as(in.err()).isZero();
        assertThat(in.out()).contains("Imported 6 resource(s)").contains("Bundle/Bundle-CLINS-Observations-Example-01");

        Path back = dir.resolve("back.json");
        CliRun out = CliRun.kiroku(DATA_DIR, "clins", "export", "--bundle", "Bundle-CLINS-Observations-Example-01", "--out", back.toString());
        assertThat(out.code()).as(out.err()).isZero();
        Resource input = (Resource) FhirHttp.CTX.newJsonParser().parseResource(Files.readString(file));
        Resource output = (Resource) FhirHttp.CTX.newJsonParser().parseResource(Files.readString(back));
        assertThat(normalised(output).equalsDeep(normalised(input))).isTrue();

        Path labs = dir.resolve("labs.json");
        CliRun export = CliRun.kiroku(DATA_DIR, "clins", "export", "--patient", "InlineExample-JP-Patient-standard",
                "--type", "labs", "--out", labs.toString());
        assertThat(export.code()).as(export.err()).isZero();
        Bundle b = (Bundle) FhirHttp.CTX.newJsonParser().parseResource(Files.readString(labs));
        assertThat(b.getMeta().getProfile().get(0).getValue()).isEqualTo("http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS");
        assertThat(b.getEntry()).hasSize(5); // the patient and its four results, as in the imported Bundle
    }

    @Test
    void anErrorExampleIsRefusedWithItsFault() {
        CliRun in = CliRun.kiroku(DATA_DIR, "clins", "import",
                EXAMPLES.resolve("MedicationRequest-ErrorExample-JP-MedReq-ExtEye-Total1.json").toString());
        assertThat(in.code()).isEqualTo(1);
        assertThat(in.err()).contains("R3010");
    }
}
