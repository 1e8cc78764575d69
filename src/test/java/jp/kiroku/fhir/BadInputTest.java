package jp.kiroku.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.ServerTest;

/** Bad input gets the right status and an OperationOutcome that says what is wrong, never a stack trace. */
class BadInputTest extends ServerTest {

    @Autowired
    JdbcTemplate jdbc;

    private static String diagnostics(Response r) {
        assertThat(r.header("Content-Type")).contains("fhir+json");
        assertThat(r.body()).doesNotContain("at jp.kiroku").doesNotContain("Exception:");
        return r.as(OperationOutcome.class).getIssueFirstRep().getDiagnostics();
    }

    @Test
    void malformedJsonIs400() {
        Response r = admin.post("Patient", "{\"resourceType\":\"Patient\",");
        assertThat(r.status()).isEqualTo(400);
        assertThat(diagnostics(r)).isNotBlank();
    }

    @Test
    void unknownElementIs400NamingTheElement() {
        Response r = admin.post("Patient", "{\"resourceType\":\"Patient\",\"nmae\":[{\"family\":\"x\"}]}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(diagnostics(r)).contains("nmae");
    }

    @Test
    void malformedDateIs400NamingTheValue() {
        Response r = admin.post("Patient", "{\"resourceType\":\"Patient\",\"birthDate\":\"1970-13-45\"}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(diagnostics(r)).contains("1970-13-45");
    }

    @Test
    void wrongTypeForAnElementIs400() {
        Response r = admin.post("Patient", "{\"resourceType\":\"Patient\",\"active\":\"yes\"}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(diagnostics(r)).containsIgnoringCase("active");
    }

    @Test
    void missingResourceTypeIs400() {
        Response r = admin.post("Patient", "{\"name\":[{\"family\":\"x\"}]}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(diagnostics(r)).containsIgnoringCase("resourceType");
    }

    @Test
    void bodyOfAnotherTypeIs400() {
        Response r = admin.post("Patient", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"}}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(diagnostics(r)).contains("Observation").contains("Patient");
    }

    @Test
    void unknownResourceTypeIsAnError() {
        Response r = admin.get("Patinet/1");
        assertThat(r.status()).isIn(400, 404);
        assertThat(diagnostics(r)).contains("Patinet");
    }

    @Test
    void idInUrlAndBodyMustMatch() {
        Response r = admin.put("Patient/abc", "{\"resourceType\":\"Patient\",\"id\":\"xyz\"}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(diagnostics(r)).contains("xyz").contains("abc");
        Response none = admin.put("Patient/abc", "{\"resourceType\":\"Patient\"}");
        assertThat(none.status()).isEqualTo(400);
    }

    @Test
    void oversizedBodiesAre413() {
        String big = "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\",\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">"
                + "x".repeat(33 * 1024 * 1024) + "</div>\"}}";
        Response r = admin.post("Patient", big);
        assertThat(r.status()).isEqualTo(413);
        assertThat(diagnostics(r)).contains("kiroku.max-request-size");
    }

    @Test
    void aConditionTheServerCannotEvaluateIsRefusedRatherThanIgnored() {
        Response r = admin.post("Patient", "{\"resourceType\":\"Patient\"}", java.util.Map.of("If-None-Exist", "nonsense=1"));
        assertThat(r.status()).isEqualTo(400);
        assertThat(diagnostics(r)).contains("nonsense");
        Response empty = admin.post("Patient", "{\"resourceType\":\"Patient\"}", java.util.Map.of("If-None-Exist", ""));
        assertThat(empty.status()).isEqualTo(400);
    }

    @Test
    void unexpectedFailuresDoNotLeakInternals() {
        Response r = admin.get("Patient/a-b-c/_history/notanumber");
        assertThat(r.status()).isIn(400, 404);
        assertThat(r.body()).doesNotContain("SQL").doesNotContain("org.postgresql");
    }
}
