package jp.kiroku.devices;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.ClientRegistry;

/**
 * IoT devices lent to patients (IOT-02): a lending names the device, the patient, the period, the version of the
 * risk explanation shown and who explained it; the device gets a credential of its own that may only create
 * Observations. Its measurements are accepted only while the patient's consent is given and the lending is open and
 * within its period — checked on every write, so a withdrawal stops acceptance at once. Returning the device ends the
 * lending and disables its credential.
 */
@Service
public class Lendings {

    /** Client ids of lent devices' credentials begin with this (other clients' writes skip the lending check). */
    static final String CLIENT_PREFIX = "kiroku-iot-";

    /** Whether a client id is a lent device's credential (its writes are checked against the lending). */
    public static boolean isDeviceClient(String clientId) {
        return clientId != null && clientId.startsWith(CLIENT_PREFIX);
    }

    /** The only thing a lent device may do: create Observations (for its patient, checked per write). */
    public static final String DEVICE_SCOPE = "system/Observation.c";

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final AuditTrail audit;
    private final ClientRegistry clients;
    private final Devices devices;
    private final Clock clock;

    Lendings(JdbcTemplate jdbc, TransactionTemplate tx, AuditTrail audit, ClientRegistry clients, Devices devices, Clock clock) {
        this.jdbc = jdbc;
        this.tx = tx;
        this.audit = audit;
        this.clients = clients;
        this.devices = devices;
        this.clock = clock;
    }

    /** A lending and where its consent stands. */
    public record Lending(String id, String deviceId, String patient, Instant starts, Instant ends, int documentVersion,
                          String explainedBy, String clientId, String consent, Instant consentAt, String consentBy,
                          Instant returnedAt) {
        public boolean open() {
            return returnedAt == null;
        }
    }

    /** A new lending with the device's credential (the secret is shown once, to be put into the device). */
    public record NewLending(Lending lending, String clientSecret) {
    }

    /**
     * Lends an IoT device to a patient: the risks were explained by {@code explainedBy} with document version
     * {@code documentVersion} (the newest when null); the consent is pending until the patient gives it.
     */
    public NewLending lend(String deviceId, String patient, Instant ends, String explainedBy, Integer documentVersion,
                           Agent by) {
        Devices.Device d = devices.find(deviceId).orElseThrow(() -> new IllegalArgumentException("no device " + deviceId));
        Devices.require("iot".equals(d.kind()), "only IoT devices are lent to patients; " + deviceId + " is a " + d.kind());
        Devices.require(!Devices.ENDED.contains(d.state()), "device " + deviceId + " is " + d.state());
        Devices.require(patient != null && patient.matches("[A-Za-z0-9\\-.]{1,64}"), "a patient id (Patient/<id> or <id>)");
        Devices.require(explainedBy != null && !explainedBy.isBlank(), "say who explained the risks (--explained-by)");
        Instant now = clock.instant();
        Devices.require(ends == null || ends.isAfter(now), "the lending must end in the future");
        int version = documentVersion != null ? documentVersion : Documents.newestVersion(jdbc);
        Devices.require(Documents.exists(jdbc, version), "there is no explanation document version " + version);
        String id = UUID.randomUUID().toString();
        ClientRegistry.NewClient client = clients.create("IoT device " + deviceId + " lent to patient " + patient
                + " (lending " + id + ")", CLIENT_PREFIX + id.substring(0, 8) + "-" + deviceId,
                jp.kiroku.platform.SecretFiles.randomToken(32), List.of(DEVICE_SCOPE), by);
        try {
            tx.executeWithoutResult(s -> {
                jdbc.update("INSERT INTO device_lending (id, device_id, patient_key, starts, ends, document_version,"
                        + " explained_by, client_id, consent, created_at, created_by) VALUES (?::uuid,?,?,?,?,?,?,?,"
                        + " 'pending',?,?)", id, deviceId, patient, Timestamp.from(now), ends == null ? null
                        : Timestamp.from(ends), version, explainedBy, client.clientId(), Timestamp.from(now), by.id());
                jdbc.update("UPDATE device SET state = 'active', changed_at = ?, changed_by = ? WHERE id = ?",
                        Timestamp.from(now), by.id(), deviceId);
            });
        } catch (org.springframework.dao.DuplicateKeyException e) {
            clients.disable(client.clientId(), by);
            throw new IllegalArgumentException("device " + deviceId + " is lent already: return it first");
        }
        audit.record(AuditRecord.of(by, "device.lend", AuditRecord.Outcome.SUCCESS).on("Patient", patient, null, patient)
                .withDetail("device=" + deviceId + " lending=" + id + " document=v" + version));
        return new NewLending(find(id).orElseThrow(), client.secret());
    }

    /** Records the patient's answer: given or refused, signed by the patient or a proxy (name and relation). */
    public Lending consent(String lendingId, boolean given, String signedBy, Agent by) {
        Lending l = open(lendingId);
        Devices.require(signedBy != null && !signedBy.isBlank(), "say who signed (--signed-by: the patient, or a proxy"
                + " and their relation)");
        Devices.require(!"withdrawn".equals(l.consent()), "the consent was withdrawn; lend the device again to ask anew");
        jdbc.update("UPDATE device_lending SET consent = ?, consent_at = ?, consent_by = ? WHERE id = ?::uuid",
                given ? "given" : "refused", Timestamp.from(clock.instant()), signedBy, lendingId);
        audit.record(AuditRecord.of(by, given ? "device.consent" : "device.consent-refused", AuditRecord.Outcome.SUCCESS)
                .on("Patient", l.patient(), null, l.patient()).withDetail("lending=" + lendingId + " device=" + l.deviceId()));
        return find(lendingId).orElseThrow();
    }

    /** The patient withdraws: from this moment no measurement of the device is accepted. */
    public Lending withdraw(String lendingId, Agent by) {
        Lending l = open(lendingId);
        jdbc.update("UPDATE device_lending SET consent = 'withdrawn', consent_at = ? WHERE id = ?::uuid",
                Timestamp.from(clock.instant()), lendingId);
        audit.record(AuditRecord.of(by, "device.consent-withdrawn", AuditRecord.Outcome.SUCCESS)
                .on("Patient", l.patient(), null, l.patient()).withDetail("lending=" + lendingId + " device=" + l.deviceId()));
        return find(lendingId).orElseThrow();
    }

    /** The device comes back: the lending ends and its credential is disabled (erased from the device on return). */
    public Lending giveBack(String lendingId, Agent by) {
        Lending l = open(lendingId);
        tx.executeWithoutResult(s -> {
            jdbc.update("UPDATE device_lending SET returned_at = ? WHERE id = ?::uuid", Timestamp.from(clock.instant()),
                    lendingId);
            jdbc.update("UPDATE device SET state = 'registered', changed_at = ?, changed_by = ? WHERE id = ?",
                    Timestamp.from(clock.instant()), by.id(), l.deviceId());
        });
        clients.disable(l.clientId(), by);
        audit.record(AuditRecord.of(by, "device.return", AuditRecord.Outcome.SUCCESS)
                .on("Patient", l.patient(), null, l.patient()).withDetail("lending=" + lendingId + " device=" + l.deviceId()));
        return find(lendingId).orElseThrow();
    }

    public Optional<Lending> find(String lendingId) {
        if (!lendingId.matches("[0-9a-fA-F\\-]{36}")) {
            return Optional.empty();
        }
        return jdbc.query("SELECT * FROM device_lending WHERE id = ?::uuid", LENDING, lendingId).stream().findFirst();
    }

    public List<Lending> list() {
        return jdbc.query("SELECT * FROM device_lending ORDER BY created_at", LENDING);
    }

    /** The lending a client credential belongs to, if it is a lent device's. */
    public Optional<Lending> ofClient(String clientId) {
        return jdbc.query("SELECT * FROM device_lending WHERE client_id = ?", LENDING, clientId).stream().findFirst();
    }

    /**
     * Why a write by this client for this patient is refused, or null when it is accepted: a lent device's credential
     * writes only for its patient, while the consent is given, the lending open and within its period, and only
     * naming the device itself (when it has a FHIR Device). Null for clients that are not lent devices.
     */
    public String refusal(String clientId, String patient, String deviceReference) {
        Optional<Lending> found = ofClient(clientId);
        if (found.isEmpty()) {
            return null;
        }
        Lending l = found.get();
        Instant now = clock.instant();
        if (!l.open()) {
            return "device " + l.deviceId() + " was returned: its credential is no longer valid";
        }
        if (!"given".equals(l.consent())) {
            return "the patient's consent to lending device " + l.deviceId() + " is " + l.consent()
                    + ": its measurements are not accepted";
        }
        if (l.ends() != null && now.isAfter(l.ends())) {
            return "the lending of device " + l.deviceId() + " ended at " + l.ends();
        }
        if (patient == null || !patient.equals(l.patient())) {
            return "device " + l.deviceId() + " is lent to another patient: it writes only for its own";
        }
        String own = devices.find(l.deviceId()).map(Devices.Device::fhirDevice).orElse(null);
        if (own != null && deviceReference != null && !deviceReference.equals(own)) {
            return "the measurement names " + deviceReference + ", not the device that sends it (" + own + ")";
        }
        jdbc.update("UPDATE device SET last_seen = ? WHERE id = ?", Timestamp.from(now), l.deviceId());
        return null;
    }

    /** The printable consent form of a lending: the explanation shown, the device, the patient, where to sign. */
    public byte[] consentForm(String lendingId, String lang) {
        Lending l = find(lendingId).orElseThrow(() -> new IllegalArgumentException("no lending " + lendingId));
        Documents.Document doc = Documents.find(jdbc, l.documentVersion(), lang).orElseThrow(() ->
                new IllegalArgumentException("explanation version " + l.documentVersion() + " has no '" + lang + "' text"));
        Devices.Device d = devices.find(l.deviceId()).orElseThrow();
        boolean ja = "ja".equals(lang);
        Map<String, Object> form = new LinkedHashMap<>();
        form.put(ja ? "説明 (第" + doc.version() + "版)" : "Explanation (version " + doc.version() + ")", doc.body());
        form.put(ja ? "連絡先" : "Contact", doc.contact());
        form.put(ja ? "貸与機器" : "Device", d.name() + " (" + d.id() + (d.type() == null ? "" : ", " + d.type()) + ")");
        form.put(ja ? "患者" : "Patient", "Patient/" + l.patient());
        form.put(ja ? "貸与期間" : "Period", l.starts() + " – " + (l.ends() == null ? "" : l.ends()));
        form.put(ja ? "説明者" : "Explained by", l.explainedBy());
        form.put(ja ? "同意" : "Consent", ja ? "上記の説明を受け、機器の貸与と測定値の送信に同意します。　□ 同意する　□ 同意しない"
                : "I was given the explanation above and consent to the lending and to sending measurements.  [ ] yes  [ ] no");
        form.put(ja ? "署名（本人または代理人と続柄）・日付" : "Signature (patient, or proxy and relation), date",
                "______________________________    ____年__月__日");
        return jp.kiroku.render.Pdf.document(doc.title(), tools.jackson.databind.json.JsonMapper.builder().build()
                .valueToTree(form));
    }

    private Lending open(String lendingId) {
        Lending l = find(lendingId).orElseThrow(() -> new IllegalArgumentException("no lending " + lendingId));
        Devices.require(l.open(), "lending " + lendingId + " has ended (the device was returned)");
        return l;
    }

    private static final org.springframework.jdbc.core.RowMapper<Lending> LENDING = (rs, i) -> new Lending(
            rs.getString("id"), rs.getString("device_id"), rs.getString("patient_key"), Devices.instant(rs, "starts"),
            Devices.instant(rs, "ends"), rs.getInt("document_version"), rs.getString("explained_by"),
            rs.getString("client_id"), rs.getString("consent"), Devices.instant(rs, "consent_at"),
            rs.getString("consent_by"), Devices.instant(rs, "returned_at"));
}
