package jp.kiroku.devices;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.ServerTest;

/**
 * IoT devices lent to patients (issue 9): a lent device's measurements are refused before the patient consents,
 * stored while the consent stands, refused at once after withdrawal, and the device's credential writes for its own
 * patient only, naming itself only, and reads nothing; returning, losing or retiring the device revokes it; the
 * inventory lists every device; the consent form prints the explanation version the lending names. Devices on older
 * firmware than an important update are flagged (inventory and health) until updated; retiring an integration disables
 * the client it uses.
 */
@Tag("IOT-02")
@Tag("IOT-04")
class DeviceLendingTest extends ServerTest {

    @Autowired
    Devices devices;
    @Autowired
    Lendings lendings;
    @Autowired
    Documents documents;
    @Autowired
    JdbcTemplate jdbc;

    @Test
    void measurementsAreAcceptedOnlyWhileTheConsentStands() {
        String patient = patient("Iot");
        String other = patient("Other");
        Devices.Device bp = iotDevice("Device/bp-" + shortId());
        Lendings.NewLending lent = lendings.lend(bp.id(), patient, Instant.now().plus(30, ChronoUnit.DAYS), "nurse.suzuki",
                null, Agent.localOperator());
        assertThat(lent.lending().consent()).isEqualTo("pending");
        FhirHttp device = anonymous.withToken(FhirHttp.fetchToken(anonymous.root(), lent.lending().clientId(),
                lent.clientSecret(), null));

        Response before = device.post("/Observation", measurement(patient, bp.fhirDevice(), 128));
        assertThat(before.status()).as(before.body()).isEqualTo(403);
        assertThat(before.body()).contains("consent").contains("pending");
        assertThat(denials(lent.lending().clientId())).isEqualTo(1);

        lendings.consent(lent.lending().id(), true, "本人 (山田 花子)", Agent.localOperator());
        Response during = device.post("/Observation", measurement(patient, bp.fhirDevice(), 131));
        assertThat(during.status()).as(during.body()).isEqualTo(201);
        assertThat(admin.get(during.headers().firstValue("Location").orElseThrow()).body()).contains("131");
        assertThat(devices.find(bp.id()).orElseThrow().lastSeen()).isNotNull();

        // its own patient only, naming itself only, and nothing to read
        Response otherPatient = device.post("/Observation", measurement(other, bp.fhirDevice(), 120));
        assertThat(otherPatient.status()).isEqualTo(403);
        assertThat(otherPatient.body()).contains("lent to another patient");
        fhirDevice("Device/someone-else");
        Response otherDevice = device.post("/Observation", measurement(patient, "Device/someone-else", 120));
        assertThat(otherDevice.status()).isEqualTo(403);
        assertThat(otherDevice.body()).contains("not the device that sends it");
        assertThat(device.get("/Observation?patient=" + patient).status()).isEqualTo(403);
        assertThat(device.get("/Patient/" + patient).status()).isEqualTo(403);
        assertThat(device.post("/Condition", "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"Patient/"
                + patient + "\"}}").status()).isEqualTo(403);
        // a system client that is not a lent device writes as its scopes allow: the rule is the lending's
        assertThat(admin.post("/Observation", measurement(other, bp.fhirDevice(), 99)).status()).isEqualTo(201);

        lendings.withdraw(lent.lending().id(), Agent.localOperator());
        Response after = device.post("/Observation", measurement(patient, bp.fhirDevice(), 133));
        assertThat(after.status()).isEqualTo(403);
        assertThat(after.body()).contains("withdrawn");

        lendings.giveBack(lent.lending().id(), Agent.localOperator());
        assertThat(device.post("/Observation", measurement(patient, bp.fhirDevice(), 133)).status())
                .as("the credential is disabled on return").isEqualTo(401);
        assertThatThrownBy(() -> FhirHttp.fetchToken(anonymous.root(), lent.lending().clientId(), lent.clientSecret(), null))
                .hasMessageContaining("token request failed");
    }

    @Test
    void aLostOrRetiredDeviceLosesItsCredentialAtOnce() {
        String patient = patient("Lost");
        Devices.Device bp = iotDevice(null);
        Lendings.NewLending lent = lendings.lend(bp.id(), patient, null, "nurse.suzuki", null, Agent.localOperator());
        lendings.consent(lent.lending().id(), true, "本人", Agent.localOperator());
        FhirHttp device = anonymous.withToken(FhirHttp.fetchToken(anonymous.root(), lent.lending().clientId(),
                lent.clientSecret(), null));
        assertThat(device.post("/Observation", measurement(patient, null, 140)).status()).isEqualTo(201);

        assertThatThrownBy(() -> devices.setState(bp.id(), "lost", null, Agent.localOperator()))
                .hasMessageContaining("say why");
        devices.setState(bp.id(), "lost", "患者宅で紛失の連絡", Agent.localOperator());
        assertThat(device.post("/Observation", measurement(patient, null, 141)).status()).isEqualTo(401);
        assertThat(lendings.find(lent.lending().id()).orElseThrow().open()).isFalse();
        assertThatThrownBy(() -> lendings.lend(bp.id(), patient, null, "nurse.suzuki", null, Agent.localOperator()))
                .hasMessageContaining("is lost");
    }

    @Test
    @Tag("IOT-01")
    @Tag("IOT-03")
    void theInventoryListsEveryDeviceAndTheConsentFormPrintsTheExplanationShown() throws Exception {
        Devices.Device bp = iotDevice(null);
        Devices.Device pc = devices.register(new Devices.NewDevice(null, "terminal", "病棟3F ノートPC, 12", "PC",
                "facility:main", "managed", null, "sato.hanako", "Windows 11 23H2", null, null), Agent.localOperator());
        assertThatThrownBy(() -> devices.register(new Devices.NewDevice(null, "terminal", "私物スマホ", "phone",
                "person:tanaka", "personal-mdm", null, "tanaka", null, null, null), Agent.localOperator()))
                .hasMessageContaining("MDM attestation");
        String csv = new String(devices.inventoryCsv(), StandardCharsets.UTF_8);
        assertThat(csv.lines().count() - 1).isEqualTo(jdbc.queryForObject("SELECT count(*) FROM device", Long.class));
        assertThat(csv).contains(bp.id() + ",iot,").contains("\"病棟3F ノートPC, 12\"").contains("Windows 11 23H2")
                .contains("https://example.jp/mds/bp-100.pdf");
        assertThat(new String(devices.inventoryPdf(), 0, 5, StandardCharsets.US_ASCII)).isEqualTo("%PDF-");
        assertThat(pc.state()).isEqualTo("registered");

        int v2 = documents.add(new Documents.Document(0, "ja", "説明書 第2版", "新しい説明文", "窓口 03-0000-0000", null, null),
                null, Agent.localOperator());
        Lendings.NewLending lent = lendings.lend(bp.id(), patient("Form"), null, "nurse.suzuki", 1, Agent.localOperator());
        assertThat(lent.lending().documentVersion()).isEqualTo(1).isLessThan(v2);
        byte[] form = lendings.consentForm(lent.lending().id(), "ja");
        assertThat(new String(form, 0, 5, StandardCharsets.US_ASCII)).isEqualTo("%PDF-");
        assertThatThrownBy(() -> lendings.consentForm(lendings.lend(iotDevice(null).id(), patient("Form2"), null, "x", v2,
                Agent.localOperator()).lending().id(), "en")).hasMessageContaining("has no 'en' text");
    }

    @Autowired
    DeviceHealth health;

    @Test
    @Tag("IOT-03")
    void devicesOnOlderFirmwareThanAnImportantUpdateAreFlaggedUntilUpdated() {
        String type = "bp-monitor-" + shortId();
        String a = devices.register(new Devices.NewDevice(null, "iot", "血圧計 A", type, "facility:main", "managed", null,
                "sato.hanako", "fw 2.1.0", null, null), Agent.localOperator()).id();
        String b = devices.register(new Devices.NewDevice(null, "iot", "血圧計 B", type, "facility:main", "managed", null,
                "sato.hanako", "fw 2.2.0", null, null), Agent.localOperator()).id();
        assertThat(devices.find(a).orElseThrow().updateDue()).isNull();
        devices.recommendFirmware(type, "fw 2.2.0", true, "vendor advisory 2026-11", Agent.localOperator());
        assertThat(devices.find(a).orElseThrow().updateDue()).isEqualTo("fw 2.2.0 (important)");
        assertThat(devices.find(b).orElseThrow().updateDue()).as("already on it").isNull();
        assertThat(new String(devices.inventoryCsv(), StandardCharsets.UTF_8)).contains("fw 2.1.0,fw 2.2.0 (important)");
        assertThat(health.health().getDetails().get("importantUpdatesDue").toString()).contains(a).doesNotContain(b);
        assertThat(anonymous.get(anonymous.root() + "/actuator/health").body()).contains("\"devices\":{\"status\":\"UPDATE_DUE\"}");

        devices.setVersion(a, "fw 2.2.0", Agent.localOperator());
        assertThat(devices.find(a).orElseThrow().updateDue()).isNull();
        assertThat(health.health().getDetails().get("importantUpdatesDue").toString()).doesNotContain(a);
        assertThat(anonymous.get(anonymous.root() + "/actuator/health").body()).contains("\"devices\":{\"status\":\"UP\"}");
    }

    @Test
    void retiringAnIntegrationDisablesTheClientItUses() {
        var client = clients.create("lab interface", java.util.List.of("system/Observation.cruds"), Agent.localOperator());
        String token = FhirHttp.fetchToken(anonymous.root(), client.clientId(), client.secret(), null);
        FhirHttp lab = anonymous.withToken(token);
        String patient = patient("Lab");
        String id = devices.register(new Devices.NewDevice(null, "integration", "検査システム連携", "server", "facility:main",
                "managed", null, "sato.hanako", "LIS 5.1", null, null, client.clientId()), Agent.localOperator()).id();
        assertThat(lab.post("/Observation", measurement(patient, null, 90)).status()).isEqualTo(201);
        devices.setState(id, "retired", "検査システム更新", Agent.localOperator());
        assertThat(lab.post("/Observation", measurement(patient, null, 91)).status()).isEqualTo(401);
        assertThatThrownBy(() -> devices.register(new Devices.NewDevice(null, "terminal", "x", null, "facility:main",
                "managed", null, "sato.hanako", null, null, null, client.clientId()), Agent.localOperator()))
                .hasMessageContaining("only an integration");
    }

    private Devices.Device iotDevice(String fhirDevice) {
        if (fhirDevice != null) {
            fhirDevice(fhirDevice);
        }
        return devices.register(new Devices.NewDevice(null, "iot", "血圧計 BP-100", "blood-pressure monitor", "facility:main",
                "managed", null, "sato.hanako", "fw 2.1.0", "https://example.jp/mds/bp-100.pdf", fhirDevice),
                Agent.localOperator());
    }

    /** The FHIR Device resource a measurement names (local references must resolve). */
    private void fhirDevice(String reference) {
        String id = reference.substring("Device/".length());
        assertThat(admin.put("/" + reference, "{\"resourceType\":\"Device\",\"id\":\"" + id + "\"}").status())
                .isBetween(200, 201);
    }

    private long denials(String clientId) {
        return jdbc.queryForObject("SELECT count(*) FROM audit_log WHERE agent_id = ? AND outcome = 'denied'", Long.class,
                clientId);
    }

    private String patient(String family) {
        Response r = admin.post("/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}");
        assertThat(r.status()).isEqualTo(201);
        return r.headers().firstValue("Location").orElseThrow().replaceAll("^.*/Patient/([^/]+)/_history/.*$", "$1");
    }

    private static String measurement(String patient, String device, int systolic) {
        return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
                + "\"code\":\"8480-6\"}]},\"subject\":{\"reference\":\"Patient/" + patient + "\"},"
                + (device == null ? "" : "\"device\":{\"reference\":\"" + device + "\"},")
                + "\"valueQuantity\":{\"value\":" + systolic + ",\"unit\":\"mm[Hg]\"}}";
    }

    private static String shortId() {
        return UUID.randomUUID().toString().substring(0, 8);
    }
}
