package jp.kiroku.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;

import jp.kiroku.audit.Agent;
import jp.kiroku.identity.Accounts;
import jp.kiroku.incidents.OperatingMode;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;
import jp.kiroku.support.WebSession;
import jp.kiroku.support.WebSession.Page;

/**
 * The administrators' pages (issue 11, item 3): an administrator finds a nurse's account and disables it with a
 * reason and a fresh authenticator code — the nurse's open session dies at once; the API clients are listed; the
 * operating mode is switched to read-only from the page (BCP-02). Others are refused.
 */
@Tag("ACL-02")
class AdministratorPagesTest extends ServerTest {

    @Autowired
    Accounts accounts;
    @Autowired
    OperatingMode modes;

    @Test
    void anAdministratorDisablesAUserAndTheirOpenSessionDies() {
        String s = UUID.randomUUID().toString().substring(0, 8);
        PersonLogin.SignedIn admin = signedIn("adminpage.admin." + s, "admin", "system-administrator");
        PersonLogin.SignedIn nurse = signedIn("adminpage.nurse." + s, "nurse", "nurse");
        assertThat(nurse.browser().get("/").status()).isEqualTo(200);
        assertThat(nurse.browser().get("/console/users").status()).as("not an administrator").isEqualTo(403);

        assertThat(admin.browser().get("/").body()).contains("id=\"console-users\"");
        Page found = admin.browser().get("/console/users?q=" + "adminpage.nurse." + s);
        assertThat(found.body()).contains("id=\"account-adminpage.nurse." + s + "\"", "有効")
                .doesNotContain("id=\"account-adminpage.admin." + s + "\"");
        String path = "/console/users/adminpage.nurse." + s + "/disable";
        String code = admin.nextCode();
        assertThat(admin.browser().post(path, Map.of("reason", "", "otp", code)).status()).isEqualTo(400);
        admin.browser().get("/console/users");
        assertThat(admin.browser().post(path, Map.of("reason", "退職 2026-12-31",
                "otp", "000000".equals(code) ? "111111" : "000000")).status()).isEqualTo(403);
        assertThat(accounts.isActive("adminpage.nurse." + s)).as("a wrong code changes nothing").isTrue();
        assertThat(nurse.browser().get("/").status()).isEqualTo(200);

        admin.browser().get("/console/users");
        assertThat(admin.browser().post(path, Map.of("reason", "退職 2026-12-31", "otp", code)).redirect())
                .startsWith("/console/users");
        assertThat(accounts.isActive("adminpage.nurse." + s)).isFalse();
        assertThat(nurse.browser().get("/").redirect()).as("the nurse's open session died").isEqualTo("/login");
        assertThat(admin.browser().get("/console/users?q=adminpage.nurse." + s).body()).contains("無効");

        Page clientsPage = admin.browser().get("/console/clients");
        assertThat(clientsPage.status()).isEqualTo(200);
        assertThat(clientsPage.body()).contains("id=\"client-" + ADMIN_ID + "\"");
    }

    @Test
    @Tag("BCP-02")
    void theOperatingModeIsSwitchedFromThePage() {
        String s = UUID.randomUUID().toString().substring(0, 8);
        PersonLogin.SignedIn admin = signedIn("adminpage.mode." + s, "admin", "system-administrator");
        assertThat(admin.browser().get("/console/mode").body()).contains("id=\"current-mode\"", "通常運用");
        try {
            assertThat(admin.browser().post("/console/mode", Map.of("mode", "read-only", "reason", "", "otp",
                    admin.nextCode())).status()).as("no reason").isEqualTo(400);
            admin.browser().get("/console/mode");
            assertThat(admin.browser().post("/console/mode", Map.of("mode", "read-only", "reason", "ランサムウェア感染の疑い",
                    "otp", admin.nextCode())).redirect()).isEqualTo("/console/mode");
            assertThat(modes.current().mode()).isEqualTo(OperatingMode.Mode.READ_ONLY);
            assertThat(admin.browser().get("/console/mode").body()).contains("参照のみ", "ランサムウェア感染の疑い");
        } finally {
            modes.set("normal", null, Agent.localOperator());
        }
    }

    @Test
    @Tag("ACL-01")
    void theMatrixTheDevicesAndTheBackupsAreShown(@TempDir java.nio.file.Path tmp) throws Exception {
        String s = UUID.randomUUID().toString().substring(0, 8);
        PersonLogin.SignedIn admin = signedIn("adminpage.lists." + s, "admin", "system-administrator");
        Page matrix = admin.browser().get("/console/matrix");
        assertThat(matrix.status()).isEqualTo(200);
        String physician = matrix.body().substring(matrix.body().indexOf("id=\"role-physician\""));
        physician = physician.substring(0, physician.indexOf("</tr>"));
        for (var rule : accessMatrix.rules()) {
            if (rule.role().equals("physician")) {
                assertThat(physician).as(rule.toString()).contains(rule.action() + " (" + rule.reach() + ")");
            }
        }
        String device = devices.register(new jp.kiroku.devices.Devices.NewDevice(null, "terminal", "病棟端末 " + s, "PC",
                "facility:main", "managed", null, "adminpage.lists." + s, "Windows 11", null, null, null),
                Agent.localOperator()).id();
        assertThat(admin.browser().get("/console/devices").body()).contains("id=\"device-" + device + "\"", "病棟端末 " + s);
        java.nio.file.Path target = java.nio.file.Files.createTempDirectory(tmp, "kiroku-console-backup-");
        backups.create(target, false, false, Agent.localOperator(), n -> { });
        assertThat(admin.browser().get("/console/backups").body()).contains(target.toString(), "full");
        Page keys = admin.browser().get("/console/keys");
        assertThat(keys.body()).contains("id=\"master\">" + masterKey.masterKeyId() + "<", "id=\"index-1\"");
        retention.setFacility("adminpage-" + s, "記録クリニック " + s, "clinic", Agent.localOperator());
        assertThat(admin.browser().get("/console/facilities").body()).contains("id=\"facility-adminpage-" + s + "\"",
                "記録クリニック " + s, "clinic");
        WebSession nurse = signedIn("adminpage.nurse2." + s, "nurse", "nurse").browser();
        assertThat(nurse.get("/console/matrix").status()).isEqualTo(403);
        assertThat(nurse.get("/console/keys").status()).isEqualTo(403);
    }

    @Autowired
    jp.kiroku.access.AccessMatrix accessMatrix;
    @Autowired
    jp.kiroku.devices.Devices devices;
    @Autowired
    jp.kiroku.backup.Backups backups;
    @Autowired
    jp.kiroku.crypto.KeyProvider masterKey;
    @Autowired
    jp.kiroku.retention.Retention retention;

    private PersonLogin.SignedIn signedIn(String username, String role, String profession) {
        return PersonLogin.signedIn(accounts, anonymous.root(), username, role, profession, null);
    }
}
