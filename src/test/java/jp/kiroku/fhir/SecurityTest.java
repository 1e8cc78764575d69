package jp.kiroku.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.ServerTest;

/** Deny by default: tokens, scopes, public endpoints, disabled clients; and every access is audited. */
class SecurityTest extends ServerTest {

    @Autowired
    JdbcTemplate jdbc;

    @Test
    void withoutATokenOnlyThePublicEndpointsAnswer() {
        assertThat(anonymous.get("metadata").status()).isEqualTo(200);
        assertThat(anonymous.get(anonymous.root() + "/fhir/.well-known/smart-configuration").body()).contains("token_endpoint")
                .contains("\"permission-patient\"").contains("\"context-standalone-patient\"");
        assertThat(anonymous.get(anonymous.root() + "/actuator/health").status()).isEqualTo(200);
        assertThat(anonymous.get(anonymous.root() + "/oauth2/jwks").body()).contains("\"keys\"");
        for (String path : new String[] {"Patient/1", "Patient/_history", "_history", "Observation/1/_history"}) {
            Response r = anonymous.get(path);
            assertThat(r.status()).as(path).isEqualTo(401);
            assertThat(r.header("WWW-Authenticate")).startsWith("Bearer");
            assertThat(r.as(OperationOutcome.class).getIssueFirstRep().getCode()).isEqualTo(OperationOutcome.IssueType.LOGIN);
        }
        assertThat(anonymous.post("Patient", "{\"resourceType\":\"Patient\"}").status()).isEqualTo(401);
        assertThat(anonymous.get(anonymous.root() + "/actuator/env").status()).isIn(401, 404);
    }

    @Test
    void anInvalidTokenIs401() {
        Response r = anonymous.withToken("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl").get("Patient/1");
        assertThat(r.status()).isEqualTo(401);
        String forged = admin.withToken(tamper(FhirHttp.fetchToken(anonymous.root(), ADMIN_ID, ADMIN_SECRET, null))).get("Patient/1").header("WWW-Authenticate");
        assertThat(forged).contains("invalid_token");
    }

    private static String tamper(String jwt) {
        String[] p = jwt.split("\\.");
        String payload = new String(java.util.Base64.getUrlDecoder().decode(p[1])).replace("system/*.*", "system/*.x");
        return p[0] + "." + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(payload.getBytes()) + "." + p[2];
    }

    @Test
    void scopesAreEnforcedPerTypeAndInteraction() {
        FhirHttp reader = clientWith("system/Patient.read");
        String id = admin.post("Patient", "{\"resourceType\":\"Patient\"}").as(org.hl7.fhir.r4.model.Patient.class).getIdElement().getIdPart();
        assertThat(reader.get("Patient/" + id).status()).isEqualTo(200);
        Response write = reader.post("Patient", "{\"resourceType\":\"Patient\"}");
        assertThat(write.status()).isEqualTo(403);
        assertThat(write.as(OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("create").contains("Patient");
        assertThat(reader.get("Observation/" + id).status()).isEqualTo(403);
        assertThat(reader.get("_history").status()).isEqualTo(403);

        FhirHttp v2 = clientWith("system/Observation.cr");
        assertThat(v2.post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"}}").status()).isEqualTo(201);
        assertThat(v2.get("Observation/_history").status()).isEqualTo(403); // type history needs 's'
        assertThat(v2.delete("Observation/whatever").status()).isEqualTo(403);

        // a transaction is refused whole when one entry lacks a scope
        String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                + "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}},"
                + "{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}";
        Response tx = v2.post("", bundle);
        assertThat(tx.status()).isEqualTo(403);
        assertThat(tx.body()).contains("Bundle.entry[1]");
    }

    @Test
    void aDisabledClientsTokensStopWorkingAtOnce() throws Exception {
        var c = clients.create("soon disabled", java.util.List.of("system/*.read"), Agent.localOperator());
        FhirHttp client = anonymous.withToken(FhirHttp.fetchToken(anonymous.root(), c.clientId(), c.secret(), null));
        assertThat(client.get("Patient/_history").status()).isEqualTo(200);
        clients.disable(c.clientId(), Agent.localOperator());
        assertThat(client.get("Patient/_history").status()).isEqualTo(401);
    }

    @Test
    void accessTokensLiveFiveMinutesAndCarryTheClientsScopes() {
        String jwt = FhirHttp.fetchToken(anonymous.root(), ADMIN_ID, ADMIN_SECRET, null);
        String payload = new String(java.util.Base64.getUrlDecoder().decode(jwt.split("\\.")[1]));
        long iat = Long.parseLong(payload.replaceAll(".*\"iat\":(\\d+).*", "$1"));
        long exp = Long.parseLong(payload.replaceAll(".*\"exp\":(\\d+).*", "$1"));
        assertThat(exp - iat).isEqualTo(300);
        assertThat(payload).contains("\"sub\":\"" + ADMIN_ID + "\"").contains("system/*.*");
        // a client gets only scopes it is registered for
        var reader = clients.create("reader", java.util.List.of("system/Patient.read"), jp.kiroku.audit.Agent.localOperator());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> FhirHttp.fetchToken(anonymous.root(), reader.clientId(),
                reader.secret(), "system/*.*")).hasMessageContaining("invalid_scope");
    }

    @Test
    @Tag("LOG-01")
    void tokenRequestsWithAWrongSecretFailAndEveryTokenRequestIsAudited() {
        String failed = "SELECT count(*) FROM audit_log WHERE action = 'token.issue' AND outcome = 'failed' AND agent_id = ?";
        String issued = "SELECT count(*) FROM audit_log WHERE action = 'token.issue' AND outcome = 'success' AND agent_id = ?";
        long failedBefore = jdbc.queryForObject(failed, Long.class, ADMIN_ID);
        long issuedBefore = jdbc.queryForObject(issued, Long.class, ADMIN_ID);
        String wrong = "wrong-secret-" + java.util.UUID.randomUUID();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> FhirHttp.fetchToken(anonymous.root(), ADMIN_ID, wrong, null))
                .hasMessageContaining("401");
        assertThat(jdbc.queryForObject(failed, Long.class, ADMIN_ID)).isEqualTo(failedBefore + 1);
        FhirHttp.fetchToken(anonymous.root(), ADMIN_ID, ADMIN_SECRET, null);
        assertThat(jdbc.queryForObject(issued, Long.class, ADMIN_ID)).isEqualTo(issuedBefore + 1);
        // the secret is never recorded, right or wrong
        assertThat(jdbc.queryForObject("SELECT count(*) FROM audit_log WHERE detail LIKE ? OR detail LIKE ?",
                Long.class, "%" + wrong + "%", "%" + ADMIN_SECRET + "%")).isZero();
    }

    @Test
    @Tag("LOG-01")
    void readsWritesAndRefusalsAreAudited() {
        String id = admin.post("Patient", "{\"resourceType\":\"Patient\"}").as(org.hl7.fhir.r4.model.Patient.class).getIdElement().getIdPart();
        admin.get("Patient/" + id);
        clientWith("system/Observation.read").get("Patient/" + id);
        var rows = jdbc.queryForList("SELECT action, outcome, agent_kind, agent_id, array_to_string(patients, ',') AS patient_key,"
                + " source_address, request_id FROM audit_log WHERE entities && ARRAY['Patient', 'Patient/' || ?, 'Patient/' || ? || '/_history/1']"
                + " ORDER BY seq", id, id);
        assertThat(rows).anySatisfy(r -> {
            assertThat(r).containsEntry("action", "create").containsEntry("outcome", "success").containsEntry("agent_id", ADMIN_ID)
                    .containsEntry("patient_key", id);
            assertThat(r.get("source_address")).isEqualTo("127.0.0.1");
            assertThat((String) r.get("request_id")).isNotBlank();
        });
        assertThat(rows).anySatisfy(r -> assertThat(r).containsEntry("action", "read").containsEntry("outcome", "success")
                .containsEntry("patient_key", id));
        assertThat(rows).anySatisfy(r -> assertThat(r).containsEntry("action", "read").containsEntry("outcome", "denied"));
        // a delete is audited in the patient's compartment too
        assertThat(admin.delete("Patient/" + id).status()).isEqualTo(200);
        assertThat(jdbc.queryForObject("SELECT array_to_string(patients, ',') FROM audit_log WHERE action='delete'"
                + " AND entities = ARRAY['Patient/' || ? || '/_history/2']", String.class, id)).isEqualTo(id);
    }

    @Test
    void theCapabilityStatementAdvertisesTheTokenEndpoint() {
        CapabilityStatement cs = anonymous.get("metadata").as(CapabilityStatement.class);
        assertThat(cs.getRestFirstRep().getSecurity().getExtensionByUrl(
                "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris").getExtensionString("token"))
                .endsWith("/oauth2/token");
    }
}
