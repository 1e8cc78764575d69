package jp.kiroku.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import jp.kiroku.audit.Agent;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.NewAccount;
import jp.kiroku.identity.RightsRequests;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;
import jp.kiroku.support.WebSession.Page;

/**
 * The access-rights workflow as pages (ACL-02, ACL-03): a nurse asks for a colleague's roles; only the department's
 * manager sees and decides the request, with a fresh authenticator code, and only then do the roles change; the
 * security officer's review shows the account matching its approval.
 */
@Tag("ACL-02")
@Tag("ACL-03")
class RightsPagesTest extends ServerTest {

    @Autowired
    Accounts accounts;
    @Autowired
    RightsRequests rights;

    @Test
    void aRequestIsDecidedOnlyByTheDepartmentsManagerWithAFreshCode() {
        String s = UUID.randomUUID().toString().substring(0, 8);
        String department = "内科-" + s;
        String target = "rights.new." + s;
        account(target, "nurse", "nurse", department);
        PersonLogin.SignedIn requester = signedIn("rights.asker." + s, "nurse", "nurse", department);
        PersonLogin.SignedIn manager = signedIn("rights.manager." + s, "physician", "physician", department);
        rights.assignManager(department, "rights.manager." + s, Agent.localOperator());

        requester.browser().get("/rights");
        assertThat(requester.browser().post("/rights", Map.of("user", target, "department", department, "roles",
                "nurse, pharmacist", "reason", "薬剤管理の兼務")).redirect()).isEqualTo("/rights?asked");
        assertThat(requester.browser().get("/rights").body()).as("not a manager: no decisions to make")
                .doesNotContain("id=\"pending-section\"");
        RightsRequests.Request asked = rights.list(false, List.of(department)).get(0);

        Page worklist = manager.browser().get("/rights");
        assertThat(worklist.body()).contains("id=\"request-" + asked.id() + "\"", target, "薬剤管理の兼務");
        String path = "/rights/" + asked.id() + "/decision";
        String code = manager.nextCode();
        assertThat(manager.browser().post(path, Map.of("decision", "approve", "note", "確認済み",
                "otp", "000000".equals(code) ? "111111" : "000000")).status()).isEqualTo(403);
        assertThat(accounts.find(target).orElseThrow().roles()).as("a wrong code changes nothing")
                .containsExactly("nurse");
        requester.browser().get("/rights");
        assertThat(requester.browser().post(path, Map.of("decision", "approve", "otp", requester.nextCode())).status())
                .as("the one who asked does not decide").isEqualTo(403);
        manager.browser().get("/rights");
        assertThat(manager.browser().post(path, Map.of("decision", "approve", "note", "確認済み", "otp", code)).redirect())
                .isEqualTo("/rights");
        assertThat(accounts.find(target).orElseThrow().roles()).containsExactlyInAnyOrder("nurse", "pharmacist");
        assertThat(manager.browser().get("/rights").body()).contains("id=\"no-pending\"");

        PersonLogin.SignedIn officer = signedIn("rights.auditor." + s, "auditor", "other", null);
        Page review = officer.browser().get("/console/rights");
        assertThat(review.status()).isEqualTo(200);
        String row = review.body().substring(review.body().indexOf("id=\"rights-" + target + "\""));
        assertThat(row.substring(0, row.indexOf("</tr>"))).contains("一致");
        assertThat(requester.browser().get("/console/rights").status()).isEqualTo(403);
    }

    private void account(String username, String role, String profession, String department) {
        accounts.create(new NewAccount(username, "staff", List.of(role), "試験 " + username,
                PersonLogin.katakana(username), null, LocalDate.of(1984, 8, 8), profession, department, null, null),
                Agent.localOperator());
    }

    private PersonLogin.SignedIn signedIn(String username, String role, String profession, String department) {
        return PersonLogin.signedIn(accounts, anonymous.root(), username, role, profession, department);
    }
}
