package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import jp.kiroku.audit.Agent;
import jp.kiroku.identity.Account;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.NewAccount;
import jp.kiroku.identity.RightsRequests;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;

/**
 * The access rights workflow (ACL-02, ACL-03): a department's request, the department manager's decision over HTTP
 * (nobody else's), roles applied only on approval, the report of granted against approved rights, and the list of
 * administrators.
 */
@Tag("ACL-02")
@Tag("ACL-03")
class RightsWorkflowTest extends ServerTest {

    @Autowired
    Accounts accounts;
    @Autowired
    RightsRequests rights;

    private CliRun kiroku(String... args) {
        return CliRun.kiroku(DATA_DIR, args);
    }

    private PersonLogin.AppLogin login(String clientId, String username, String role, String department, String kana) {
        var issued = accounts.create(new NewAccount(username, "staff", List.of(role), "試験 " + username,
                "シケン " + kana.repeat(3), null, LocalDate.of(1983, 4, 5), role, department, null, null), Agent.localOperator());
        return PersonLogin.appLogin(anonymous.root(), clientId, "openid user/*.cruds", username, issued.oneTimePassword());
    }

    private FhirHttp person(String clientId, String username, String role, String department, String kana) {
        return anonymous.withToken(login(clientId, username, role, department, kana).accessToken());
    }

    private static Response post(FhirHttp who, String path, String json) {
        return who.send("POST", who.root() + path, "application/json", json);
    }

    private static String decision(String decision) {
        return decision(decision, null);
    }

    /** A decision, with the re-authentication code of the deciding manager. */
    private static String decision(String decision, String otp) {
        return "{\"decision\":\"" + decision + "\",\"note\":\"ok\"" + (otp == null ? "" : ",\"otp\":\"" + otp + "\"") + "}";
    }

    private List<String> rolesOf(String username) {
        return accounts.find(username).map(Account::roles).orElseThrow();
    }

    private RightsRequests.Finding findingOf(String username) {
        return rights.report().stream().filter(l -> l.username().equals(username)).findFirst().orElseThrow().finding();
    }

    @Test
    void rolesChangeOnlyWhenTheDepartmentsManagerApprovesAndTheReportShowsWhatNoRequestCovers() {
        String s = UUID.randomUUID().toString().substring(0, 6);
        String dept = "Organization/naika-" + s;
        var app = clients.createApp("rights test " + s, List.of(anonymous.root() + "/callback"),
                List.of("openid", "user/*.cruds"), true, Agent.localOperator());
        PersonLogin.AppLogin managerLogin = login(app.clientId(), "rm" + s, "physician", dept, "ア");
        FhirHttp manager = anonymous.withToken(managerLogin.accessToken());
        PersonLogin.AppLogin deputyLogin = login(app.clientId(), "rd" + s, "physician", dept, "エ");
        FhirHttp deputy = anonymous.withToken(deputyLogin.accessToken());
        FhirHttp colleague = person(app.clientId(), "rc" + s, "physician", dept, "イ");
        person(app.clientId(), "rn" + s, "nurse", dept, "ウ");
        String nurse = "rn" + s;

        CliRun named = kiroku("rights", "manager", "--department", dept, "--user", "rm" + s);
        assertThat(named.code()).as(named.err()).isZero();
        assertThat(kiroku("rights", "manager", "--department", dept, "--user", "rd" + s).code()).isZero();
        assertThat(kiroku("rights", "managers").out()).contains(dept).contains("rm" + s);

        assertThat(findingOf(nurse)).as("granted at creation, outside the workflow")
                .isEqualTo(RightsRequests.Finding.NO_APPROVED_REQUEST);
        CliRun asked = kiroku("rights", "request", "--user", nurse, "--department", dept, "--roles", "nurse,clerk",
                "--reason", "病棟クラーク業務を兼務");
        assertThat(asked.code()).as(asked.err()).isZero();
        Matcher id = Pattern.compile("Request ([0-9a-f-]{36})").matcher(asked.out());
        assertThat(id.find()).as(asked.out()).isTrue();
        assertThat(kiroku("rights", "list").out()).contains(id.group(1)).contains("PENDING");
        assertThat(rolesOf(nurse)).as("nothing applied before approval").containsExactly("nurse");

        // the manager's worklist has it; a colleague of the same department cannot decide it
        Response worklist = manager.get(manager.root() + "/admin/rights-requests");
        assertThat(worklist.status()).as(worklist.body()).isEqualTo(200);
        assertThat(worklist.body()).contains(id.group(1));
        assertThat(colleague.get(colleague.root() + "/admin/rights-requests").body()).doesNotContain(id.group(1));
        Response refused = post(colleague, "/admin/rights-requests/" + id.group(1) + "/decision", decision("approve"));
        assertThat(refused.status()).as(refused.body()).isEqualTo(403);
        assertThat(post(admin, "/admin/rights-requests/" + id.group(1) + "/decision", decision("approve")).status())
                .as("a system token is nobody's manager").isEqualTo(403);
        assertThat(rolesOf(nurse)).containsExactly("nurse");

        Response unconfirmed = post(manager, "/admin/rights-requests/" + id.group(1) + "/decision", decision("approve"));
        assertThat(unconfirmed.status()).as("re-authentication is required").isEqualTo(403);
        assertThat(unconfirmed.body()).contains("otp");
        assertThat(rolesOf(nurse)).containsExactly("nurse");
        Response approved = post(manager, "/admin/rights-requests/" + id.group(1) + "/decision",
                decision("approve", managerLogin.nextCode()));
        assertThat(approved.status()).as(approved.body()).isEqualTo(200);
        assertThat(rolesOf(nurse)).containsExactlyInAnyOrder("nurse", "clerk");
        assertThat(findingOf(nurse)).isEqualTo(RightsRequests.Finding.OK);
        assertThat(post(manager, "/admin/rights-requests/" + id.group(1) + "/decision", decision("reject")).status())
                .as("decided once").isEqualTo(409);

        // a rejected request changes nothing
        var rejected = rights.request(nurse, dept, List.of("nurse", "clerk", "pharmacist"), "誤申請", Agent.localOperator());
        assertThat(post(deputy, "/admin/rights-requests/" + rejected.id() + "/decision",
                decision("reject", deputyLogin.nextCode())).status()).as("another manager of the department").isEqualTo(200);
        assertThat(rolesOf(nurse)).containsExactlyInAnyOrder("nurse", "clerk");

        // a person asks only for their own department; the manager does not approve a request about themselves
        Response foreign = post(colleague, "/admin/rights-requests", "{\"user\":\"" + nurse + "\",\"department\":"
                + "\"Organization/geka\",\"roles\":[\"nurse\"],\"reason\":\"x\"}");
        assertThat(foreign.status()).as(foreign.body()).isEqualTo(403);
        Response own = post(colleague, "/admin/rights-requests", "{\"user\":\"rm" + s + "\",\"department\":\"" + dept
                + "\",\"roles\":[\"physician\",\"admin\"],\"reason\":\"システム管理を兼務\"}");
        assertThat(own.status()).as(own.body()).isEqualTo(200);
        String ownId = own.body().replaceAll("(?s).*\"id\":\"([0-9a-f-]{36})\".*", "$1");
        assertThat(post(manager, "/admin/rights-requests/" + ownId + "/decision", decision("approve")).status()).isEqualTo(403);
        assertThat(rolesOf("rm" + s)).containsExactly("physician");

        CliRun report = kiroku("rights", "report", "--csv");
        assertThat(report.code()).as(report.err()).isZero();
        assertThat(report.out()).contains(nurse + ",").containsPattern(nurse + ",.*,clerk nurse,clerk nurse,.*,ok")
                .containsPattern("rm" + s + ",.*no_approved_request");
    }

    @Test
    void theAdministratorsAreListedByName() {
        String s = UUID.randomUUID().toString().substring(0, 6);
        accounts.create(new NewAccount("ad" + s, "staff", List.of("admin"), "管理 " + s, "カンリ エエエ", null,
                LocalDate.of(1984, 5, 6), "system-administrator", null, null, null), Agent.localOperator());
        CliRun admins = kiroku("rights", "admins", "--csv");
        assertThat(admins.code()).as(admins.err()).isZero();
        assertThat(admins.out()).startsWith("user,name,active,last_login").contains("ad" + s + ",管理 " + s + ",true,")
                .contains(BOOTSTRAP_ADMIN);
        assertThat(rights.administrators()).extracting(Account::username).contains("ad" + s).noneMatch(u -> u.startsWith("rn"));
        Response overHttp = admin.get(admin.root() + "/admin/administrators");
        assertThat(overHttp.status()).as("for auditors only").isEqualTo(403);
    }
}
