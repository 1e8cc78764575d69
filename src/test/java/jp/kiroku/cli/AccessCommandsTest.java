package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import jp.kiroku.access.AccessPolicy;
import jp.kiroku.access.Permission;
import jp.kiroku.access.Subject;
import jp.kiroku.audit.Agent;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.NewAccount;
import jp.kiroku.store.Placement;
import jp.kiroku.support.ServerTest;

/** {@code kiroku access ...} and {@code kiroku user care-units}: administrators edit the matrix and assignments (ACL-01). */
@Tag("ACL-01")
class AccessCommandsTest extends ServerTest {

    @Autowired
    AccessPolicy policy;
    @Autowired
    Accounts accounts;

    private CliRun kiroku(String... args) {
        return CliRun.kiroku(DATA_DIR, args);
    }

    private static boolean within10s(java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    @Test
    void theMatrixIsPrintedAndAGrantFromTheShellChangesWhatARoleReaches() {
        CliRun rules = kiroku("access", "rules", "--role", "physician");
        assertThat(rules.code()).as(rules.err()).isZero();
        assertThat(rules.out()).containsPattern("physician\\s+clinical\\s+read:care write:care confirm:care")
                .doesNotContain("clerk");
        CliRun withTypes = kiroku("access", "rules", "--types");
        assertThat(withTypes.out()).containsPattern("results\\s+検査結果 / .*Observation").contains("unclassified");

        Subject dietitian = Subject.person("d", Set.of("dietitian"), null, List.of(), null);
        Placement billing = new Placement("any-patient", Subject.HOME_FACILITY, "billing", false);
        assertThat(policy.view(dietitian, Permission.READ).allows(billing)).isFalse();
        CliRun grant = kiroku("access", "grant", "--role", "dietitian", "--category", "billing", "--action", "read",
                "--reach", "facility");
        assertThat(grant.code()).as(grant.err()).isZero();
        try {
            // the CLI ran as another process would: the server sees the change once its cached matrix expires (5 s)
            assertThat(within10s(() -> policy.view(dietitian, Permission.READ).allows(billing))).isTrue();
        } finally {
            assertThat(kiroku("access", "revoke", "--role", "dietitian", "--category", "billing", "--action", "read").code())
                    .isZero();
        }
        assertThat(within10s(() -> !policy.view(dietitian, Permission.READ).allows(billing))).isTrue();
        CliRun again = kiroku("access", "revoke", "--role", "dietitian", "--category", "billing", "--action", "read");
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("dietitian had no read rule on billing");
        CliRun bad = kiroku("access", "grant", "--role", "janitor", "--category", "billing", "--action", "read", "--reach", "care");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("unknown role 'janitor'");
        CliRun badType = kiroku("access", "map-type", "--type", "Patients", "--category", "clinical");
        assertThat(badType.err()).contains("'Patients' is not an R4 resource type");
    }

    @Test
    void careUnitsAreAssignedFromTheShell() {
        accounts.create(new NewAccount("ueda.ward", "staff", List.of("nurse"), "上田 看護", "ウエダ カンゴ", null,
                LocalDate.of(1990, 4, 1), "nurse", null, null, null), Agent.localOperator());
        CliRun assigned = kiroku("user", "care-units", "ueda.ward", "Location/ward-5e", "Organization/naika");
        assertThat(assigned.code()).as(assigned.err()).isZero();
        assertThat(accounts.find("ueda.ward").orElseThrow().careUnits()).containsExactly("Location/ward-5e", "Organization/naika");
        CliRun bad = kiroku("user", "care-units", "ueda.ward", "Patient/123");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("care units are Organization/id, Location/id or HealthcareService/id");
        assertThat(kiroku("user", "care-units", "ueda.ward").code()).isZero();
        assertThat(accounts.find("ueda.ward").orElseThrow().careUnits()).isEmpty();
    }

    @Test
    @Tag("ACL-04")
    void emergencyAccountsNeedASecondPersonAtTheShellAndBreakGlassUsesAreListed() {
        CliRun created = kiroku("user", "create", "--emergency", "--username", "er.nurse9", "--name", "救急用 看護師9",
                "--kana", "キュウキュウヨウ カンゴシキュウ", "--roles", "nurse", "--profession", "nurse");
        assertThat(created.code()).as(created.err()).isZero();
        assertThat(created.out()).contains("disabled").doesNotContain("one-time password");
        assertThat(accounts.find("er.nurse9").orElseThrow().active()).isFalse();
        CliRun requested = kiroku("emergency", "request", "er.nurse9", "--reason", "flood: the ward terminals are down");
        assertThat(requested.code()).as(requested.err()).isZero();
        String id = requested.out().replaceAll("(?s).*kiroku emergency approve (\\S+).*", "$1").strip();
        // the same OS account cannot approve its own request
        CliRun self = kiroku("emergency", "approve", id);
        assertThat(self.code()).isEqualTo(1);
        assertThat(self.err()).contains("two people are needed");
        assertThat(accounts.find("er.nurse9").orElseThrow().active()).isFalse();
        assertThat(kiroku("emergency", "list").out()).contains(id).contains("WAITING FOR APPROVAL");
        assertThat(kiroku("emergency", "end").out()).contains("No emergency account was enabled");

        CliRun queue = kiroku("break-glass", "list");
        assertThat(queue.code()).as(queue.err()).isZero();
        assertThat(queue.out()).contains("waiting for review");
        CliRun unknown = kiroku("break-glass", "review", java.util.UUID.randomUUID().toString(), "--justified", "--note", "x");
        assertThat(unknown.code()).isEqualTo(1);
        assertThat(unknown.err()).contains("no break-glass use");
    }
}
