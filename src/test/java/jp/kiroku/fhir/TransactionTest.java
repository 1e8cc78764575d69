package jp.kiroku.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.ServerTest;

/** transaction and batch Bundles: the Synthea sample data lands whole; a failing transaction leaves no trace. */
class TransactionTest extends ServerTest {

    static final Path SYNTHEA = Path.of("../shared/data/synthea");

    @Autowired
    JdbcTemplate jdbc;

    private long versionRows() {
        return jdbc.queryForObject("SELECT count(*) FROM resource_version", Long.class);
    }

    @Test
    void everySyntheaBundleLandsWithReferencesRewrittenToServerIds() throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.list(SYNTHEA)) {
            files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        assertThat(files).hasSize(30);
        for (Path file : files) {
            Bundle sent = FhirHttp.CTX.newJsonParser().parseResource(Bundle.class, Files.readString(file));
            Response r = admin.post("", Files.readString(file));
            assertThat(r.status()).as(file + ": " + r.body().substring(0, Math.min(500, r.body().length()))).isEqualTo(200);
            Bundle response = r.as(Bundle.class);
            assertThat(response.getType()).isEqualTo(Bundle.BundleType.TRANSACTIONRESPONSE);
            assertThat(response.getEntry()).hasSize(sent.getEntry().size());
            assertThat(response.getEntry()).allSatisfy(e -> {
                assertThat(e.getResponse().getStatus()).isEqualTo("201 Created");
                assertThat(e.getResponse().getLocation()).matches("[A-Za-z]+/[0-9a-f-]{36}/_history/1");
            });
            // spot-check: the first Observation's subject now points at the Patient created by this bundle
            int patientIndex = indexOf(sent, "Patient");
            int obsIndex = indexOf(sent, "Observation");
            if (obsIndex >= 0) {
                String patientLocation = response.getEntry().get(patientIndex).getResponse().getLocation();
                String obsLocation = response.getEntry().get(obsIndex).getResponse().getLocation();
                Observation obs = admin.get(obsLocation.replaceFirst("/_history/1$", "")).as(Observation.class);
                Reference subject = obs.getSubject();
                assertThat(subject.getReference()).isEqualTo(patientLocation.replaceFirst("/_history/1$", ""));
                assertThat(admin.get(subject.getReference()).status()).isEqualTo(200);
            }
        }
        // every stored reference resolves to a stored resource
        Long dangling = jdbc.queryForObject("SELECT count(*) FROM resource_reference r LEFT JOIN resource_current c"
                + " ON c.res_type = r.target_type AND c.res_id = r.target_id WHERE c.res_id IS NULL", Long.class);
        assertThat(dangling).isZero();
    }

    private static int indexOf(Bundle b, String type) {
        for (int i = 0; i < b.getEntry().size(); i++) {
            if (b.getEntry().get(i).getResource().fhirType().equals(type)) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void aFailingTransactionStoresNothing() {
        long before = versionRows();
        long auditBefore = jdbc.queryForObject("SELECT count(*) FROM audit_log WHERE outcome='success' AND action IN ('create', 'transaction')", Long.class);
        String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                + "{\"fullUrl\":\"urn:uuid:11111111-1111-1111-1111-111111111111\",\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},"
                + "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"urn:uuid:11111111-1111-1111-1111-111111111111\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}},"
                + "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"y\"},"
                + "\"subject\":{\"reference\":\"Patient/no-such-patient\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}";
        Response r = admin.post("", bundle);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.as(OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("Patient/no-such-patient");
        assertThat(versionRows()).isEqualTo(before);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM audit_log WHERE outcome='success' AND action IN ('create', 'transaction')", Long.class))
                .isEqualTo(auditBefore);
    }

    @Test
    void anUnresolvableUrnUuidIs400NamingIt() {
        long before = versionRows();
        String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                + "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"urn:uuid:22222222-2222-2222-2222-222222222222\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}";
        Response r = admin.post("", bundle);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).contains("urn:uuid:22222222-2222-2222-2222-222222222222").contains("Bundle.entry[0]");
        assertThat(versionRows()).isEqualTo(before);
    }

    @Test
    void referencesMayFormCyclesInsideOneTransaction() {
        String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                + "{\"fullUrl\":\"urn:uuid:a0000000-0000-0000-0000-000000000001\",\"resource\":{\"resourceType\":\"Organization\",\"name\":\"A\","
                + "\"partOf\":{\"reference\":\"urn:uuid:a0000000-0000-0000-0000-000000000002\"}},\"request\":{\"method\":\"POST\",\"url\":\"Organization\"}},"
                + "{\"fullUrl\":\"urn:uuid:a0000000-0000-0000-0000-000000000002\",\"resource\":{\"resourceType\":\"Organization\",\"name\":\"B\","
                + "\"partOf\":{\"reference\":\"urn:uuid:a0000000-0000-0000-0000-000000000001\"}},\"request\":{\"method\":\"POST\",\"url\":\"Organization\"}}]}";
        Response r = admin.post("", bundle);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
    }

    @Test
    void transactionsMixUpdatesDeletesAndReads() {
        String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                + "{\"fullUrl\":\"Patient/tx-mixed\",\"resource\":{\"resourceType\":\"Patient\",\"id\":\"tx-mixed\"},\"request\":{\"method\":\"PUT\",\"url\":\"Patient/tx-mixed\"}},"
                + "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"Patient/tx-mixed\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}},"
                + "{\"request\":{\"method\":\"GET\",\"url\":\"Patient/tx-mixed\"}}]}";
        Response r = admin.post("", bundle);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        Bundle out = r.as(Bundle.class);
        assertThat(out.getEntry().get(2).getResource().getIdElement().getIdPart()).isEqualTo("tx-mixed");
        String del = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                + "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/tx-mixed\"}}]}";
        assertThat(admin.post("", del).status()).isEqualTo(409); // the Observation still refers to it
    }

    @Test
    void aBatchReportsEachEntryOnItsOwn() {
        String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
                + "{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},"
                + "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"Patient/not-there\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}},"
                + "{\"request\":{\"method\":\"GET\",\"url\":\"Patient/not-there\"}}]}";
        Response r = admin.post("", bundle);
        assertThat(r.status()).isEqualTo(200);
        Bundle out = r.as(Bundle.class);
        assertThat(out.getType()).isEqualTo(Bundle.BundleType.BATCHRESPONSE);
        assertThat(out.getEntry().get(0).getResponse().getStatus()).isEqualTo("201 Created");
        assertThat(out.getEntry().get(1).getResponse().getStatus()).startsWith("400");
        assertThat(out.getEntry().get(2).getResponse().getStatus()).startsWith("404");
        String created = out.getEntry().get(0).getResponse().getLocation().replaceFirst("/_history/1$", "");
        assertThat(admin.get(created).status()).isEqualTo(200);
    }

    @Test
    void bundlesOfOtherTypesAreRefused() {
        Response r = admin.post("", "{\"resourceType\":\"Bundle\",\"type\":\"collection\"}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).contains("collection");
    }
}
