package jp.kiroku.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.NewAccount;
import jp.kiroku.support.Chromium;
import jp.kiroku.support.PdfText;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;
import jp.kiroku.support.WebSession;
import jp.kiroku.support.WebSession.Page;

/**
 * The clinicians' pages (issue 11, item 1; READ-01): a physician finds the patient in their care by kana and by
 * hiragana, not a patient outside it; the chart shows the allergies, problems, medications, results (table and plot),
 * encounters and documents with each entry's status and author; a chart outside the physician's care is refused and
 * the refusal audited; nothing is shown before login. In a real browser: log in with the second factor, search by
 * kana, open the chart (screenshots under target/screenshots/, see {@link #screenshot}).
 */
@Tag("READ-01")
class ChartPagesTest extends ServerTest {

    private static final String REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";

    @Autowired
    Accounts accounts;
    @Autowired
    JdbcTemplate jdbc;

    String s;
    String inCare;
    String elsewhere;
    String doctor;
    String otp;

    @BeforeEach
    void aPatientInCareAndOneOutside() {
        s = UUID.randomUUID().toString().substring(0, 8);
        for (String who : List.of("dr-", "da-")) {
            assertThat(admin.put("Practitioner/" + who + s, "{\"resourceType\":\"Practitioner\",\"id\":\"" + who + s
                    + "\"}").status()).isEqualTo(201);
        }
        inCare = patient("山田", "花子", "ヤマダ", "ハナコ", "K" + s);
        elsewhere = patient("山田", "次郎", "ヤマダ", "ジロウ", "L" + s);
        created("{\"resourceType\":\"Encounter\",\"status\":\"in-progress\",\"class\":{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"IMP\",\"display\":\"入院\"},"
                + "\"subject\":{\"reference\":\"Patient/" + inCare + "\"},\"participant\":[{\"individual\":{\"reference\":"
                + "\"Practitioner/dr-" + s + "\"}},{\"individual\":{\"reference\":\"Practitioner/da-" + s
                + "\"}}],\"period\":{\"start\":\"2026-11-30T09:00:00+09:00\"}}");
        created("{\"resourceType\":\"AllergyIntolerance\",\"patient\":{\"reference\":\"Patient/" + inCare + "\"},"
                + "\"clinicalStatus\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical\","
                + "\"code\":\"active\"}]},\"code\":{\"text\":\"ペニシリン\"},\"criticality\":\"high\","
                + "\"reaction\":[{\"manifestation\":[{\"text\":\"蕁麻疹\"}]}],\"recordedDate\":\"2026-11-30\"}");
        created("{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"Patient/" + inCare + "\"},"
                + "\"clinicalStatus\":{\"text\":\"活動性\"},\"code\":{\"text\":\"2型糖尿病\"},\"onsetDateTime\":\"2019-04-01\"}");
        created("{\"resourceType\":\"MedicationRequest\",\"status\":\"active\",\"intent\":\"order\",\"subject\":{\"reference\":"
                + "\"Patient/" + inCare + "\"},\"medicationCodeableConcept\":{\"text\":\"メトホルミン塩酸塩錠250mg\"},"
                + "\"dosageInstruction\":[{\"text\":\"1回1錠 1日2回 朝夕食後\"}],\"authoredOn\":\"2026-11-30\"}");
        for (String[] r : List.of(new String[] {"2026-09-01", "7.2"}, new String[] {"2026-10-01", "6.8"},
                new String[] {"2026-11-01", "6.4"})) {
            created("{\"resourceType\":\"Observation\",\"status\":\"final\",\"category\":[{\"coding\":[{\"system\":"
                    + "\"http://terminology.hl7.org/CodeSystem/observation-category\",\"code\":\"laboratory\"}]}],"
                    + "\"code\":{\"text\":\"HbA1c\"},\"subject\":{\"reference\":\"Patient/" + inCare + "\"},"
                    + "\"effectiveDateTime\":\"" + r[0] + "\",\"valueQuantity\":{\"value\":" + r[1] + ",\"unit\":\"%\"},"
                    + "\"referenceRange\":[{\"low\":{\"value\":4.6},\"high\":{\"value\":6.2}}]}");
        }
        created("{\"resourceType\":\"DocumentReference\",\"status\":\"current\",\"subject\":{\"reference\":\"Patient/"
                + inCare + "\"},\"type\":{\"text\":\"入院時記録\"},\"description\":\"血糖コントロール目的の入院\","
                + "\"content\":[{\"attachment\":{\"contentType\":\"text/plain\",\"data\":\"5YWl6Zmi\"}}]}");
        created("{\"resourceType\":\"AllergyIntolerance\",\"patient\":{\"reference\":\"Patient/" + elsewhere + "\"},"
                + "\"code\":{\"text\":\"ソバ\"}}");
        doctor = "chart.dr." + s;
        otp = accounts.create(new NewAccount(doctor, "staff", List.of("physician"), "佐藤 医師", PersonLogin.katakana(doctor), null,
                LocalDate.of(1975, 5, 5), "physician", null, null, "Practitioner/dr-" + s), Agent.localOperator())
                .oneTimePassword();
    }

    @Test
    void aPhysicianFindsAndReadsOnlyThePatientsInTheirCare() {
        WebSession unauthenticated = new WebSession(anonymous.root());
        assertThat(unauthenticated.get("/patients/" + inCare).redirect()).as("nothing before login").isEqualTo("/login");
        assertThat(unauthenticated.get("/patients?name=ヤマダ").redirect()).isEqualTo("/login");

        WebSession browser = new WebSession(anonymous.root());
        PersonLogin.firstLogin(browser, doctor, otp);
        assertThat(browser.get("/").body()).contains("id=\"find-patient\"");
        assertThat(browser.get("/patients").body()).contains("id=\"patient-search\"").doesNotContain("id=\"patients\"");

        Page byKana = browser.get("/patients?name=" + enc("ヤマダ ハナ"));
        assertThat(byKana.status()).isEqualTo(200);
        assertThat(byKana.body()).contains("id=\"patient-" + inCare + "\"", "山田 花子")
                .as("outside the physician's care: not found").doesNotContain(elsewhere);
        assertThat(browser.get("/patients?name=" + enc("やまだ")).body()).as("hiragana finds the katakana name")
                .contains("id=\"patient-" + inCare + "\"");
        assertThat(browser.get("/patients?number=K" + s).body()).contains("id=\"patient-" + inCare + "\"");
        assertThat(browser.get("/patients?number=L" + s).body()).contains("id=\"no-patients\"");
        created("{\"resourceType\":\"Coverage\",\"status\":\"active\",\"identifier\":[{\"value\":\"HK-" + s + "\"}],"
                + "\"beneficiary\":{\"reference\":\"Patient/" + inCare + "\"},\"payor\":[{\"display\":\"全国健康保険協会\"}]}");
        assertThat(browser.get("/patients?insurance=HK-" + s).body()).as("by the insurance card's number")
                .contains("id=\"patient-" + inCare + "\"");
        assertThat(browser.get("/patients?insurance=HK-none-" + s).body()).contains("id=\"no-patients\"");

        Page chart = browser.get("/patients/" + inCare);
        assertThat(chart.status()).isEqualTo(200);
        assertThat(chart.body()).contains("id=\"patient-name\">山田 花子", "ヤマダ ハナコ", "ペニシリン", "蕁麻疹", "high",
                "2型糖尿病", "メトホルミン塩酸塩錠250mg", "1回1錠 1日2回 朝夕食後", "HbA1c", "7.2 %", "6.4 %", "4.6–6.2",
                "<svg", "<polyline", "入院", "入院時記録", "血糖コントロール目的の入院", "未確定")
                .as("the author of every entry: the system client that stored them").contains("<span>" + ADMIN_ID + "</span>")
                .doesNotContain("ソバ").doesNotContain("break-glass");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM audit_log WHERE agent_id = ? AND action = 'chart'"
                + " AND outcome = 'success' AND patients = ARRAY[?]::text[]", Integer.class, doctor, inCare)).isEqualTo(1);

        Page refused = browser.get("/patients/" + elsewhere);
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.body()).contains("id=\"refusal\"").contains("この記録は表示できません").doesNotContain("ソバ");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM audit_log WHERE agent_id = ? AND action = 'chart'"
                + " AND outcome = 'denied'", Integer.class, doctor)).isEqualTo(1);
        assertThat(browser.get("/patients/no-such-" + s).status()).isEqualTo(404);
    }

    @Test
    @Tag("READ-02")
    void theChartAndARecordPrintAsPdfWithWhatThePhysicianMaySee() {
        WebSession browser = new WebSession(anonymous.root());
        PersonLogin.firstLogin(browser, doctor, otp);
        assertThat(browser.get("/patients/" + inCare).body()).contains("id=\"print-form\"");
        var pdf = browser.download("/patients/" + inCare + "/print.pdf");
        assertThat(pdf.statusCode()).isEqualTo(200);
        assertThat(pdf.headers().firstValue("Content-Type").orElse("")).startsWith("application/pdf");
        String text = PdfText.of(pdf.body());
        assertThat(text).contains("山田花子", "ヤマダハナコ", "ペニシリン", "2型糖尿病", "メトホルミン塩酸塩錠250mg", "HbA1c",
                ADMIN_ID, "kiroku/record").doesNotContain("ソバ");
        assertThat(jdbc.queryForObject("SELECT cardinality(entities) FROM audit_log WHERE agent_id = ? AND action = 'print'"
                + " ORDER BY seq DESC LIMIT 1", Integer.class, doctor)).as("every version printed is in the log")
                .isEqualTo(9); // the patient, an encounter, an allergy, a problem, a medication, 3 results, a document

        String yesterday = java.time.LocalDate.now(java.time.ZoneId.of("Asia/Tokyo")).minusDays(1).toString();
        String none = PdfText.of(browser.download("/patients/" + inCare + "/print.pdf?to=" + yesterday).body());
        assertThat(none).as("nothing was recorded before today").doesNotContain("ペニシリン");
        assertThat(browser.get("/patients/" + inCare + "/print.pdf?from=2026-12-02&to=2026-12-01").status()).isEqualTo(400);
        assertThat(browser.get("/patients/" + inCare + "/print.pdf?from=yesterday").status()).isEqualTo(400);
        assertThat(browser.get("/patients/" + elsewhere + "/print.pdf").status()).isEqualTo(403);

        String condition = created("{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"Patient/" + inCare
                + "\"},\"code\":{\"text\":\"脂質異常症\"}}");
        assertThat(browser.get("/patients/" + inCare + "/history/Condition/" + condition).body())
                .contains("href=\"/patients/" + inCare + "/history/Condition/" + condition + "/print.pdf\"");
        var record = browser.download("/patients/" + inCare + "/history/Condition/" + condition + "/print.pdf");
        assertThat(record.statusCode()).isEqualTo(200);
        assertThat(PdfText.of(record.body())).contains("脂質異常症", "山田花子").doesNotContain("ペニシリン");
    }

    @Test
    @Tag("AUTH-09")
    void anIdleSessionNoLongerShowsTheChart() throws InterruptedException {
        WebSession browser = new WebSession(anonymous.root());
        PersonLogin.firstLogin(browser, doctor, otp);
        assertThat(browser.get("/patients/" + inCare).body()).contains("ペニシリン");
        // the person walks away: the session's idle limit passes (moved back in the session store, as time would)
        idleTooLong(doctor);
        Page after = browser.get("/patients/" + inCare);
        assertThat(after.redirect()).isEqualTo("/login");
        assertThat(after.body()).doesNotContain("ペニシリン").doesNotContain("山田");
    }

    @Test
    @Tag("ACL-04")
    void breakGlassFromTheRefusalPageOpensTheChartWithABanner() {
        WebSession browser = new WebSession(anonymous.root());
        byte[] secret = PersonLogin.firstLogin(browser, doctor, otp).secret();
        Page refused = browser.get("/patients/" + elsewhere);
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.body()).contains("id=\"break-glass-form\"", "value=\"emergency\"");

        Page wrongCode = browser.post("/patients/" + elsewhere + "/break-glass", java.util.Map.of("reason", "emergency",
                "text", "救急搬送、意識なし", "otp", "000000".equals(code(secret)) ? "111111" : "000000"));
        assertThat(wrongCode.status()).isEqualTo(403);
        assertThat(wrongCode.body()).contains("id=\"break-glass-form\"").doesNotContain("ソバ");
        Page noReason = browser.post("/patients/" + elsewhere + "/break-glass", java.util.Map.of("reason", "emergency",
                "text", "", "otp", code(secret)));
        assertThat(noReason.status()).isEqualTo(400);

        Page opened = browser.post("/patients/" + elsewhere + "/break-glass", java.util.Map.of("reason", "emergency",
                "text", "救急搬送、意識なし、既往歴の確認", "otp", code(secret)));
        assertThat(opened.redirect()).isEqualTo("/patients/" + elsewhere);
        Page chart = browser.get("/patients/" + elsewhere);
        assertThat(chart.status()).isEqualTo(200);
        assertThat(chart.body()).contains("id=\"break-glass\"", "緊急アクセス（ブレークグラス）中", "ソバ");
        assertThat(browser.get("/patients?name=" + enc("ヤマダ")).body()).as("the banner on every page")
                .contains("id=\"break-glass\"");
        assertThat(jdbc.queryForObject("SELECT purpose FROM audit_log WHERE agent_id = ? AND action = 'chart'"
                + " AND outcome = 'success' ORDER BY seq DESC LIMIT 1", String.class, doctor)).isEqualTo("BTG");
    }

    @Test
    @Tag("READ-02")
    @Tag("INTEG-03")
    void theVersionsOfARecordSideBySide() {
        String condition = created("{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"Patient/" + inCare
                + "\"},\"clinicalStatus\":{\"text\":\"活動性\"},\"code\":{\"text\":\"高血圧症\"}}");
        assertThat(admin.put("Condition/" + condition, "{\"resourceType\":\"Condition\",\"id\":\"" + condition
                + "\",\"subject\":{\"reference\":\"Patient/" + inCare + "\"},\"clinicalStatus\":{\"text\":\"寛解\"},"
                + "\"code\":{\"text\":\"高血圧症\"},\"note\":[{\"text\":\"減塩で改善\"}]}").status()).isEqualTo(200);
        WebSession browser = new WebSession(anonymous.root());
        PersonLogin.firstLogin(browser, doctor, otp);
        assertThat(browser.get("/patients/" + inCare).body()).as("the chart links each entry to its versions")
                .contains("href=\"/patients/" + inCare + "/history/Condition/" + condition + "\"");

        Page history = browser.get("/patients/" + inCare + "/history/Condition/" + condition);
        assertThat(history.status()).isEqualTo(200);
        assertThat(history.body()).contains("id=\"version-1\"", "id=\"version-2\"", "<span>" + ADMIN_ID + "</span>");
        String diff = history.body().substring(history.body().indexOf("id=\"diff\""));
        assertThat(diff).contains("<tr class=\"changed\">\n      <td>clinicalStatus.text</td><td>活動性</td><td>寛解</td>")
                .contains("<tr class=\"added\">\n      <td>note[0].text</td><td></td><td>減塩で改善</td>")
                .contains("<tr class=\"same\">\n      <td>code.text</td><td>高血圧症</td><td>高血圧症</td>");
        String same = browser.get("/patients/" + inCare + "/history/Condition/" + condition + "?from=2&to=2").body();
        assertThat(same.substring(same.indexOf("id=\"diff\""))).doesNotContain("class=\"changed\"")
                .doesNotContain("class=\"added\"");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM audit_log WHERE agent_id = ? AND action = 'history'"
                + " AND outcome = 'success'", Integer.class, doctor)).isEqualTo(2);

        String outside = created("{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"Patient/" + elsewhere
                + "\"},\"code\":{\"text\":\"秘密の病名\"}}");
        Page refused = browser.get("/patients/" + elsewhere + "/history/Condition/" + outside);
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.body()).doesNotContain("秘密の病名");
        assertThat(browser.get("/patients/" + inCare + "/history/NoSuchType/1").status()).isEqualTo(404);
    }

    @Test
    @Tag("INTEG-02")
    @Tag("INTEG-04")
    void aPhysicianApprovesProxyEntriesFromTheWorklistAndConfirmsFromTheChart() {
        var app = clients.createApp("chart proxy " + s, List.of(anonymous.root() + "/callback"),
                List.of("openid", "user/*.cruds"), true, Agent.localOperator());
        String assistantName = "chart.da." + s;
        var issued = accounts.create(new NewAccount(assistantName, "staff", List.of("doctor-assistant"), "鈴木 補助",
                PersonLogin.katakana(assistantName), null, LocalDate.of(1990, 1, 1), "other", null, null,
                "Practitioner/da-" + s), Agent.localOperator());
        var assistant = anonymous.withToken(PersonLogin.appToken(anonymous.root(), app.clientId(), "openid user/*.cruds",
                assistantName, issued.oneTimePassword()));
        var proxy = assistant.post("Condition", "{\"resourceType\":\"Condition\",\"code\":{\"text\":\"腰痛症\"},"
                + "\"subject\":{\"reference\":\"Patient/" + inCare + "\"}}", java.util.Map.of("X-Provenance",
                "{\"resourceType\":\"Provenance\",\"agent\":[{\"who\":{\"display\":\"assistant\"},\"onBehalfOf\":"
                        + "{\"reference\":\"Practitioner/dr-" + s + "\"}}]}"));
        assertThat(proxy.status()).as(proxy.body()).isEqualTo(201);
        String proxyId = proxy.header("Location").replaceAll("^.*/Condition/([^/]+)/_history/.*$", "$1");

        WebSession browser = new WebSession(anonymous.root());
        PersonLogin.firstLogin(browser, doctor, otp);
        Page worklist = browser.get("/worklist");
        assertThat(worklist.body()).contains("id=\"Condition/" + proxyId + "\"", "腰痛症", "代行入力・未承認",
                "鈴木 補助（" + assistantName + "）");
        Page approved = browser.post("/worklist/approve", java.util.Map.of("type", "Condition", "id", proxyId,
                "version", "1"));
        assertThat(approved.redirect()).isEqualTo("/worklist");
        assertThat(browser.get("/worklist").body()).contains("id=\"no-entries\"");

        Page chart = browser.get("/patients/" + inCare);
        String approvedRow = row(chart.body(), "Condition/" + proxyId);
        assertThat(approvedRow).contains("確定", "佐藤 医師（" + doctor + "）", "v2").doesNotContain("確定する");

        java.util.regex.Matcher draft = java.util.regex.Pattern.compile("id=\"(Condition/[^\"]+)\" data-version=\"1\">"
                + "\\s*<td>2019-04-01").matcher(chart.body());
        assertThat(draft.find()).as("the draft problem 2型糖尿病").isTrue();
        String[] ref = draft.group(1).split("/");
        assertThat(browser.post("/patients/" + inCare + "/confirm", java.util.Map.of("type", ref[0], "id", ref[1],
                "version", "7")).status()).as("not the version on the page").isEqualTo(409);
        browser.get("/patients/" + inCare);
        assertThat(browser.post("/patients/" + inCare + "/confirm", java.util.Map.of("type", ref[0], "id", ref[1],
                "version", "1")).redirect()).isEqualTo("/patients/" + inCare);
        assertThat(row(browser.get("/patients/" + inCare).body(), draft.group(1))).contains("2型糖尿病", "確定", "v2",
                "佐藤 医師（" + doctor + "）");
    }

    /** The table row of one entry on a page. */
    private static String row(String page, String ref) {
        int at = page.indexOf("id=\"" + ref + "\"");
        assertThat(at).as(ref + " on the page").isPositive();
        return page.substring(at, page.indexOf("</tr>", at));
    }

    private String created(String resource) {
        String type = resource.replaceAll("^\\{\"resourceType\":\"([A-Za-z]+)\".*$", "$1");
        var r = admin.post("/" + type, resource);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.headers().firstValue("Location").orElseThrow().replaceAll("^.*/" + type + "/([^/]+)/_history/.*$", "$1");
    }

    /** The authenticator's code of the next 30-second step (the login spent the current one). */
    private static String code(byte[] secret) {
        return PersonLogin.totp(secret, System.currentTimeMillis() / 30_000 + 1);
    }

    /**
     * The end-to-end path in a real browser: first login with the authenticator, search by kana, the chart,
     * a record's versions side by side, the chart printed (its PDF read back), break-glass with its banner, keyboard
     * and tablet; then the administrator disables the physician and the open page dies. Another physician's idle
     * session no longer shows the chart.
     */
    @Test
    @Tag("AUTH-09")
    @Tag("ACL-04")
    void inARealBrowserFromLoginToBreakGlassUntilTheAccountIsDisabled(@TempDir Path tmp) throws Exception {
        WebDriver browser = Chromium.start(1280, 800, tmp);
        try {
            String base = "http://127.0.0.1:" + port;
            browser.get(base + "/patients/" + inCare);
            await(browser).until(ExpectedConditions.urlContains("/login"));
            byte[] secret = firstLogin(browser, doctor, otp);
            await(browser).until(ExpectedConditions.presenceOfElementLocated(By.id("find-patient"))).click();
            await(browser).until(ExpectedConditions.presenceOfElementLocated(By.id("name"))).sendKeys("ヤマダ");
            browser.findElement(By.cssSelector("#patient-search button[type=submit]")).click();
            await(browser).until(ExpectedConditions.presenceOfElementLocated(By.id("patients")));
            screenshot(browser, "patient-search.png");
            assertThat(browser.findElements(By.cssSelector("#patients tbody tr"))).hasSize(1);
            browser.findElement(By.id("patient-" + inCare)).click();
            assertThat(await(browser).until(ExpectedConditions.presenceOfElementLocated(By.id("patient-name"))).getText())
                    .isEqualTo("山田 花子");
            assertThat(browser.findElement(By.id("allergies")).getText()).contains("ペニシリン", "蕁麻疹");
            assertThat(browser.findElement(By.id("labs")).findElements(By.tagName("svg"))).hasSize(1);
            screenshot(browser, "chart.png");

            // the printout, fetched with this browser's session
            String cookie = browser.manage().getCookieNamed("SESSION") != null
                    ? "SESSION=" + browser.manage().getCookieNamed("SESSION").getValue()
                    : browser.manage().getCookies().stream().map(c -> c.getName() + "=" + c.getValue())
                    .collect(java.util.stream.Collectors.joining("; "));
            var pdf = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(base + "/patients/" + inCare + "/print.pdf")).header("Cookie", cookie).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            assertThat(pdf.statusCode()).isEqualTo(200);
            assertThat(PdfText.of(pdf.body())).contains("山田花子", "ヤマダハナコ", "ペニシリン", ADMIN_ID);

            // a record's versions side by side
            browser.findElement(By.cssSelector("#allergies a.record")).click();
            await(browser).until(ExpectedConditions.presenceOfElementLocated(By.id("diff")));
            assertThat(browser.findElement(By.id("versions")).getText()).contains("v1");
            screenshot(browser, "versions.png");

            // keyboard: the search form is reached and sent without a mouse
            browser.get(base + "/patients");
            await(browser).until(ExpectedConditions.presenceOfElementLocated(By.id("name")))
                    .sendKeys("ヤマダ", org.openqa.selenium.Keys.ENTER);
            await(browser).until(ExpectedConditions.presenceOfElementLocated(By.id("patients")));

            // break-glass: refused, then opened with a reason and a fresh code; the banner stays
            browser.get(base + "/patients/" + elsewhere);
            await(browser).until(ExpectedConditions.presenceOfElementLocated(By.id("break-glass-form")));
            new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("reason"))).selectByValue("emergency");
            browser.findElement(By.id("text")).sendKeys("救急搬送、意識なし、既往歴の確認");
            browser.findElement(By.id("otp")).sendKeys(code(secret));
            browser.findElement(By.cssSelector("#break-glass-form button[type=submit]")).click();
            assertThat(await(browser).until(ExpectedConditions.presenceOfElementLocated(By.id("break-glass"))).getText())
                    .contains("緊急アクセス");
            assertThat(browser.findElement(By.id("allergies")).getText()).contains("ソバ");
            screenshot(browser, "break-glass.png");

            // a tablet in portrait: the chart does not scroll sideways (wide tables scroll inside their card)
            browser.manage().window().setSize(new org.openqa.selenium.Dimension(768, 1024));
            browser.get(base + "/patients/" + inCare);
            await(browser).until(ExpectedConditions.presenceOfElementLocated(By.id("patient-name")));
            Object overflow = ((org.openqa.selenium.JavascriptExecutor) browser).executeScript(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
            assertThat(((Number) overflow).intValue()).as("horizontal overflow at 768 px").isLessThanOrEqualTo(0);
            screenshot(browser, "chart-tablet.png");

            // an administrator disables the physician on the users page: the open page dies at the next request
            String admin = "chart.admin." + s;
            String adminOtp = accounts.create(new NewAccount(admin, "staff", List.of("admin"), "管理 " + s,
                    PersonLogin.katakana(admin), null, LocalDate.of(1970, 7, 7), "system-administrator", null, null, null),
                    Agent.localOperator()).oneTimePassword();
            WebSession console = new WebSession(anonymous.root());
            byte[] adminSecret = PersonLogin.firstLogin(console, admin, adminOtp).secret();
            console.get("/console/users?q=" + doctor);
            assertThat(console.post("/console/users/" + doctor + "/disable", java.util.Map.of("reason",
                    "アカウント不正利用の疑い", "otp", code(adminSecret))).redirect()).startsWith("/console/users");
            browser.navigate().refresh();
            await(browser).until(ExpectedConditions.urlContains("/login"));
            assertThat(browser.getPageSource()).doesNotContain("山田 花子");

            // another physician, idle too long: the chart is gone
            browser.manage().deleteAllCookies();
            String other = "chart.dr2." + s;
            String otherOtp = accounts.create(new NewAccount(other, "staff", List.of("physician"), "高橋 医師",
                    PersonLogin.katakana(other), null, LocalDate.of(1976, 6, 6), "physician", null, null,
                    "Practitioner/dr-" + s), Agent.localOperator()).oneTimePassword();
            browser.get(base + "/login");
            firstLogin(browser, other, otherOtp);
            browser.get(base + "/patients/" + inCare);
            await(browser).until(ExpectedConditions.presenceOfElementLocated(By.id("patient-name")));
            idleTooLong(other);
            browser.navigate().refresh();
            await(browser).until(ExpectedConditions.urlContains("/login"));
            assertThat(browser.getPageSource()).doesNotContain("ペニシリン");
        } finally {
            browser.quit();
        }
    }

    /**
     * Moves the person's session back past its idle limit, as time would. The session store saves a session after the
     * response has gone out, so the last request's save is waited for first (else it would undo this).
     */
    private void idleTooLong(String username) throws InterruptedException {
        Thread.sleep(500);
        int idle = jdbc.queryForObject("SELECT max_inactive_interval FROM spring_session WHERE principal_name = ?",
                Integer.class, username);
        assertThat(jdbc.update("UPDATE spring_session SET last_access_time = last_access_time - ?, expiry_time ="
                + " expiry_time - ? WHERE principal_name = ?", (idle + 60) * 1000L, (idle + 60) * 1000L, username))
                .isEqualTo(1);
    }

    /** A first login in the browser (one-time password, own password, authenticator); the authenticator's secret. */
    private static byte[] firstLogin(WebDriver browser, String username, String oneTimePassword) {
        await(browser).until(ExpectedConditions.presenceOfElementLocated(By.id("username"))).sendKeys(username);
        browser.findElement(By.id("password")).sendKeys(oneTimePassword);
        browser.findElement(By.cssSelector("button[type=submit]")).click();
        await(browser).until(ExpectedConditions.presenceOfElementLocated(By.id("confirm")));
        browser.findElement(By.id("password")).sendKeys(PersonLogin.GOOD_PASSWORD);
        browser.findElement(By.id("confirm")).sendKeys(PersonLogin.GOOD_PASSWORD);
        browser.findElement(By.cssSelector("button[type=submit]")).click();
        String shown = await(browser).until(ExpectedConditions.presenceOfElementLocated(By.id("totp-secret"))).getText();
        byte[] secret = new org.apache.commons.codec.binary.Base32().decode(shown.replace(" ", ""));
        browser.findElement(By.id("code")).sendKeys(PersonLogin.totp(secret, System.currentTimeMillis() / 30_000));
        browser.findElement(By.cssSelector("button[type=submit]")).click();
        await(browser).until(ExpectedConditions.presenceOfElementLocated(By.id("recovery-codes")));
        browser.findElement(By.cssSelector("a.button")).click();
        await(browser).until(ExpectedConditions.presenceOfElementLocated(By.id("signed-in-as")));
        return secret;
    }

    private static WebDriverWait await(WebDriver browser) {
        return new WebDriverWait(browser, Duration.ofSeconds(10));
    }

    /**
     * Under target/screenshots/, or where {@code -Dkiroku.screenshots=DIR} says: the user guide's pictures are refreshed
     * with {@code -Dkiroku.screenshots=docs/screenshots}, so that an ordinary test run leaves the committed ones alone
     * (each run draws other generated ids, so every picture would change).
     */
    private static void screenshot(WebDriver browser, String name) throws java.io.IOException {
        Path dir = Path.of(System.getProperty("kiroku.screenshots", "target/screenshots"));
        Files.createDirectories(dir);
        Files.write(dir.resolve(name), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    }

    private String patient(String family, String given, String kanaFamily, String kanaGiven, String number) {
        var r = admin.post("/Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":"
                + "\"urn:oid:1.2.392.100495.20.3.51.1\",\"value\":\"" + number + "\"}],\"name\":["
                + "{\"extension\":[{\"url\":\"" + REPRESENTATION + "\",\"valueCode\":\"IDE\"}],\"family\":\"" + family
                + "\",\"given\":[\"" + given + "\"]},{\"extension\":[{\"url\":\"" + REPRESENTATION
                + "\",\"valueCode\":\"SYL\"}],\"family\":\"" + kanaFamily + "\",\"given\":[\"" + kanaGiven + "\"]}],"
                + "\"gender\":\"female\",\"birthDate\":\"1960-02-03\"}");
        assertThat(r.status()).isEqualTo(201);
        return r.headers().firstValue("Location").orElseThrow().replaceAll("^.*/Patient/([^/]+)/_history/.*$", "$1");
    }

    private static String enc(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
    }
}
