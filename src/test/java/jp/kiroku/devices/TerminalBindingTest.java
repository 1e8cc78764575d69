package jp.kiroku.devices;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.NewAccount;
import jp.kiroku.identity.TerminalCheck;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;
import jp.kiroku.support.WebSession;

/**
 * Terminals (issue 9, BYOD-01): with the terminal rule on, staff log in only from an enrolled terminal whose
 * management their roles allow — an unregistered browser and an uncontrolled personal device are refused, an
 * MDM-controlled personal one is allowed for nurses but not for physicians (the default policy); a person's token is
 * bound to the terminal of the login and refused from anywhere else; a terminal reported lost loses access at once;
 * patients log in from their own devices. With the rule off, the same unregistered browser logs in.
 */
@Tag("BYOD-01")
@Tag("IOT-04")
class TerminalBindingTest extends ServerTest {

    @Autowired
    Devices devices;
    @Autowired
    Accounts accounts;
    @Autowired
    KirokuProperties props;
    @Autowired
    JdbcTemplate jdbc;

    @BeforeEach
    void terminalsRequired() {
        props.getDevices().setTerminalRequired(true);
    }

    @AfterEach
    void asTheOtherTestsRun() {
        props.getDevices().setTerminalRequired(false);
    }

    @Test
    void staffLogInOnlyFromAnEnrolledTerminalTheirRolesAllow() {
        String nurse = person("nurse", "staff");
        WebSession unregistered = new WebSession(anonymous.root());
        assertThat(passwordStep(unregistered, nurse).body()).contains("この端末からはログインできません")
                .contains("this terminal is not registered");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM audit_log WHERE agent_id = ? AND action = 'login' AND"
                + " outcome = 'denied' AND detail = 'step=device unregistered'", Long.class, nurse)).isEqualTo(1);

        String uncontrolled = terminal("personal-uncontrolled", null);
        WebSession own = enrolledBrowser(uncontrolled);
        assertThat(passwordStep(own, nurse).body()).contains("is personal-uncontrolled");

        String mdm = terminal("personal-mdm", "Intune, checked by sato.hanako 2026-12-01");
        assertThat(passwordStep(enrolledBrowser(mdm), nurse).redirect()).as("a nurse on an MDM-controlled device")
                .isEqualTo("/login/password");
        String doctor = person("physician", "staff");
        assertThat(passwordStep(enrolledBrowser(mdm), doctor).body()).as("physicians: managed terminals only")
                .contains("work only from managed terminals");
        String managed = terminal("managed", null);
        assertThat(passwordStep(enrolledBrowser(managed), doctor).redirect()).isEqualTo("/login/password");

        String patient = person("patient", "patient");
        assertThat(passwordStep(new WebSession(anonymous.root()), patient).redirect()).as("patients use their own devices")
                .isEqualTo("/login/password");

        props.getDevices().setTerminalRequired(false);
        assertThat(passwordStep(new WebSession(anonymous.root()), person("nurse", "staff")).redirect())
                .as("the rule switched off").isEqualTo("/login/password");
    }

    @Test
    void aTokenWorksOnlyFromItsTerminalAndALostTerminalLosesAccessAtOnce() {
        String managed = terminal("managed", null);
        String credential = devices.enroll(managed, Agent.localOperator());
        WebSession browser = new WebSession(anonymous.root());
        browser.setCookie(TerminalCheck.COOKIE, credential);
        var app = clients.createApp("ward viewer " + UUID.randomUUID(), List.of(anonymous.root() + "/callback"),
                List.of("openid", "user/Patient.rs"), true, Agent.localOperator());
        String doctor = person("physician", "staff");
        String username = doctor;
        var issued = oneTimePasswords.remove(username);
        var token = PersonLogin.tokenResponse(browser, anonymous.root(), app.clientId(), "openid user/Patient.rs", username,
                issued);
        assertThat(token.status()).as(token.body()).isEqualTo(200);
        Matcher m = Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"").matcher(token.body());
        assertThat(m.find()).isTrue();
        String access = m.group(1);
        assertThat(jdbc.queryForObject("SELECT detail FROM audit_log WHERE agent_id = ? AND action = 'login' AND outcome ="
                + " 'success' ORDER BY seq DESC LIMIT 1", String.class, username)).as("the login names its terminal (rule"
                + " new-device)").contains("device=" + managed);

        FhirHttp fromTerminal = anonymous.withToken(access);
        Map<String, String> device = Map.of(TerminalCheck.HEADER, credential);
        assertThat(fromTerminal.get("/Patient?_count=1", device).status()).isEqualTo(200);
        var elsewhere = fromTerminal.get("/Patient?_count=1");
        assertThat(elsewhere.status()).isEqualTo(401);
        assertThat(elsewhere.headers().firstValue("WWW-Authenticate").orElse("") + elsewhere.body())
                .contains("bound to terminal " + managed);
        String other = terminal("managed", null);
        assertThat(fromTerminal.get("/Patient?_count=1", Map.of(TerminalCheck.HEADER,
                devices.enroll(other, Agent.localOperator()))).status()).as("another enrolled terminal").isEqualTo(401);

        assertThat(browser.get("/").status()).as("the signed-in page on the terminal").isEqualTo(200);
        devices.setState(managed, "lost", "病棟で紛失", Agent.localOperator());
        assertThat(fromTerminal.get("/Patient?_count=1", device).status()).as("lost: at once").isEqualTo(401);
        assertThat(browser.get("/").redirect()).as("and the session with it").isEqualTo("/login");
        assertThat(passwordStep(browser, person("nurse", "staff")).body()).contains("not valid");
    }

    private final Map<String, String> oneTimePasswords = new java.util.HashMap<>();

    /** A new person with a one-time password; their username. */
    private String person(String role, String kind) {
        String username = "tanmatsu." + role + "." + UUID.randomUUID().toString().substring(0, 8); // a person, not a function
        oneTimePasswords.put(username, "patient".equals(kind)
                ? accounts.create(new NewAccount(username, kind, List.of(role), "端末 " + username,
                        PersonLogin.katakana(username), null, LocalDate.of(1980, 1, 2), null, null, null, patientRecord()),
                        Agent.localOperator()).oneTimePassword()
                : PersonLogin.staff(accounts, username, role));
        return username;
    }

    private String patientRecord() {
        var r = admin.post("/Patient", "{\"resourceType\":\"Patient\"}");
        assertThat(r.status()).isEqualTo(201);
        return r.headers().firstValue("Location").orElseThrow().replaceAll("^.*/(Patient/[^/]+)/_history/.*$", "$1");
    }

    private WebSession.Page passwordStep(WebSession browser, String username) {
        return PersonLogin.passwordStep(browser, username, oneTimePasswords.get(username));
    }

    private String terminal(String management, String attestation) {
        return devices.register(new Devices.NewDevice(null, "terminal", "端末 " + management, "PC", "facility:main",
                management, attestation, "sato.hanako", "Windows 11", null, null), Agent.localOperator()).id();
    }

    /** A browser enrolled through the enrolment page with a fresh credential for the terminal. */
    private WebSession enrolledBrowser(String terminal) {
        String credential = devices.enroll(terminal, Agent.localOperator());
        WebSession browser = new WebSession(anonymous.root());
        browser.get("/device/enroll");
        WebSession.Page done = browser.post("/device/enroll", Map.of("credential", credential));
        assertThat(done.body()).contains("id=\"enrolled\"");
        return browser;
    }
}
