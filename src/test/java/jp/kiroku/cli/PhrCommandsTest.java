package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import jp.kiroku.audit.Agent;
import jp.kiroku.phr.DeletionRequests;
import jp.kiroku.support.ServerTest;

/** {@code kiroku phr}: patients' deletion requests answered at the server (PHR-04). */
@Tag("PHR-04")
class PhrCommandsTest extends ServerTest {

    @Autowired
    DeletionRequests requests;

    @Test
    void anAdministratorListsTakesUpAndRefusesRequests() {
        var r = admin.post("/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"削除\"}]}");
        String patient = r.headers().firstValue("Location").orElseThrow().replaceAll("^.*/Patient/([^/]+)/_history/.*$", "$1");
        var filed = requests.file(new Agent(Agent.Kind.USER, "pt-del", "127.0.0.1"), patient, null);

        CliRun list = CliRun.kiroku(DATA_DIR, "phr", "deletion-requests");
        assertThat(list.code()).as(list.err()).isZero();
        assertThat(list.out()).contains(filed.id().toString(), "Patient/" + patient, "open");

        // within retention: taking it up answers the patient with the reason instead of asking for a disposal
        CliRun takeUp = CliRun.kiroku(DATA_DIR, "phr", "take-up", filed.id().toString());
        assertThat(takeUp.code()).as(takeUp.err()).isZero();
        assertThat(takeUp.out()).contains("refused", "cannot be deleted yet");
        assertThat(CliRun.kiroku(DATA_DIR, "phr", "take-up", filed.id().toString()).err()).contains("answered already");

        var again = requests.file(new Agent(Agent.Kind.USER, "pt-del", "127.0.0.1"), patient, "再度");
        CliRun refused = CliRun.kiroku(DATA_DIR, "phr", "refuse", again.id().toString(), "--answer", "保存期間中です");
        assertThat(refused.code()).as(refused.err()).isZero();
        assertThat(CliRun.kiroku(DATA_DIR, "phr", "deletion-requests", "--patient", patient).out())
                .contains("保存期間中です", "cannot be deleted yet");
        CliRun bad = CliRun.kiroku(DATA_DIR, "phr", "refuse", "not-a-uuid", "--answer", "x");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).doesNotContain("Exception");
    }
}
