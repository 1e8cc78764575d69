package jp.kiroku.devices;

import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.ClientRegistry;

/**
 * The device registry (issue 9): every terminal, server-side integration and IoT device Kiroku knows, with its
 * owner, how it is managed (by the institution; personally owned under an MDM; personally owned and uncontrolled),
 * who is responsible, its OS or firmware version, the manufacturer's security information and its lifecycle. A
 * device that is lost, retired or disposed of loses its credentials at once (IOT-04). The inventory exports as CSV
 * and PDF (checklist 2-①).
 */
@Service
public class Devices {

    public static final Set<String> KINDS = Set.of("terminal", "integration", "iot");
    public static final Set<String> MANAGEMENT = Set.of("managed", "personal-mdm", "personal-uncontrolled");
    public static final Set<String> STATES = Set.of("registered", "active", "lost", "retired", "disposed");
    /** States in which a device keeps no credential. */
    static final Set<String> ENDED = Set.of("lost", "retired", "disposed");

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final AuditTrail audit;
    private final ClientRegistry clients;
    private final Clock clock;

    /** Terminals by credential, for at most kiroku.tokens.active-check-cache (a state change here clears it at once). */
    private final com.github.benmanes.caffeine.cache.Cache<String, Optional<Device>> terminals;

    Devices(JdbcTemplate jdbc, TransactionTemplate tx, AuditTrail audit, ClientRegistry clients, Clock clock,
            jp.kiroku.platform.KirokuProperties props) {
        this.jdbc = jdbc;
        this.tx = tx;
        this.audit = audit;
        this.clients = clients;
        this.clock = clock;
        this.terminals = com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(10_000)
                .expireAfterWrite(props.getTokens().getActiveCheckCache()).build();
    }

    /**
     * Issues a terminal's device credential (replacing any earlier one): {@code <device id>.<secret>}, shown once; only
     * the SHA-256 of the secret is kept. The enrolment page puts it into the terminal's browser as a cookie; apps send
     * it as the X-Kiroku-Device header.
     */
    public String enroll(String id, Agent by) {
        Device d = enrollable(id);
        String secret = jp.kiroku.platform.SecretFiles.randomToken(32);
        jdbc.update("UPDATE device SET credential_hash = ?, credential_at = ?, state = 'active', changed_at = ?,"
                + " changed_by = ? WHERE id = ?", sha256(secret), Timestamp.from(clock.instant()),
                Timestamp.from(clock.instant()), by.id(), id);
        terminals.invalidateAll();
        audit.record(AuditRecord.of(by, "device.enroll", AuditRecord.Outcome.SUCCESS).withDetail("device=" + id
                + " management=" + d.management()));
        return id + "." + secret;
    }

    /**
     * Enrols a terminal by its TLS client certificate instead of a secret (mutual TLS, when TLS ends at Kiroku and
     * server.ssl.client-auth is set): the certificate's SHA-256 is kept; the terminal presents the certificate.
     */
    public String enrollCertificate(String id, java.security.cert.X509Certificate certificate, Agent by) {
        enrollable(id);
        String hash = jp.kiroku.identity.TerminalCheck.certificateHash(certificate); // as requests present it
        try {
            jdbc.update("UPDATE device SET certificate_sha256 = ?, credential_at = ?, state = 'active', changed_at = ?,"
                    + " changed_by = ? WHERE id = ?", hash, Timestamp.from(clock.instant()), Timestamp.from(clock.instant()),
                    by.id(), id);
        } catch (org.springframework.dao.DuplicateKeyException e) {
            throw new IllegalArgumentException("this certificate is enrolled for another device already");
        }
        terminals.invalidateAll();
        audit.record(AuditRecord.of(by, "device.enroll", AuditRecord.Outcome.SUCCESS).withDetail("device=" + id
                + " certificate sha256=" + hash));
        return hash;
    }

    /** A registered terminal that is still in use: what either kind of enrolment needs. */
    private Device enrollable(String id) {
        Device d = find(id).orElseThrow(() -> new IllegalArgumentException("no device " + id));
        require("terminal".equals(d.kind()), "only terminals are enrolled; " + id + " is a " + d.kind());
        require(!ENDED.contains(d.state()), "device " + id + " is " + d.state());
        return d;
    }

    /** The enrolled terminal a credential belongs to, unless it is lost, retired or disposed of. */
    public Optional<Device> authenticate(String credential) {
        if (credential == null || credential.length() > 200) {
            return Optional.empty();
        }
        if (credential.startsWith(jp.kiroku.identity.TerminalCheck.CERTIFICATE)) {
            return terminals.get(credential, c -> jdbc.query(SELECT + " WHERE d.certificate_sha256 = ?", DEVICE,
                    c.substring(jp.kiroku.identity.TerminalCheck.CERTIFICATE.length())).stream()
                    .filter(d -> "terminal".equals(d.kind()) && !ENDED.contains(d.state())).findFirst());
        }
        return terminals.get(credential, c -> {
            int dot = c.lastIndexOf('.');
            if (dot <= 0) {
                return Optional.empty();
            }
            byte[] hash = sha256(c.substring(dot + 1));
            return find(c.substring(0, dot)).filter(d -> "terminal".equals(d.kind()) && !ENDED.contains(d.state()))
                    .filter(d -> java.security.MessageDigest.isEqual(hash, jdbc.queryForObject(
                            "SELECT credential_hash FROM device WHERE id = ?", byte[].class, d.id())));
        });
    }

    /** Marks the terminal as seen now (at a login). */
    void seen(String id) {
        jdbc.update("UPDATE device SET last_seen = ? WHERE id = ?", Timestamp.from(clock.instant()), id);
    }

    private static byte[] sha256(String s) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A registered device. */
    public record Device(String id, String kind, String name, String type, String owner, String management,
                         String mdmAttestation, String responsible, String osVersion, String mdsSds, String fhirDevice,
                         String state, String stateReason, Instant lastSeen, Instant registeredAt, Instant changedAt,
                         String changedBy, String clientId, String updateDue) {
    }

    /** What registering a device takes; {@code id} may be null (one is made). */
    public record NewDevice(String id, String kind, String name, String type, String owner, String management,
                            String mdmAttestation, String responsible, String osVersion, String mdsSds, String fhirDevice,
                            String clientId) {
        public NewDevice(String id, String kind, String name, String type, String owner, String management,
                         String mdmAttestation, String responsible, String osVersion, String mdsSds, String fhirDevice) {
            this(id, kind, name, type, owner, management, mdmAttestation, responsible, osVersion, mdsSds, fhirDevice, null);
        }
    }

    public Device register(NewDevice d, Agent by) {
        require(KINDS.contains(d.kind()), "kind must be one of " + KINDS + ", not '" + d.kind() + "'");
        require(MANAGEMENT.contains(d.management()), "management must be one of " + MANAGEMENT + ", not '"
                + d.management() + "'");
        require(d.name() != null && !d.name().isBlank(), "a device needs a name");
        require(d.owner() != null && d.owner().matches("(facility|person):.+"),
                "owner must be facility:<id> or person:<username>, not '" + d.owner() + "'");
        require(d.responsible() != null && !d.responsible().isBlank(), "a device needs a responsible person");
        require(!"personal-mdm".equals(d.management()) || (d.mdmAttestation() != null && !d.mdmAttestation().isBlank()),
                "a personally owned device counts as controlled only with an MDM attestation (--mdm-attestation:"
                        + " which MDM controls it, checked by whom)");
        require(!"iot".equals(d.kind()) || d.owner().startsWith("facility:"), "an IoT device lent to patients is"
                + " owned by the facility");
        require(d.fhirDevice() == null || d.fhirDevice().matches("Device/[A-Za-z0-9\\-.]{1,64}"),
                "fhir-device must be a reference Device/<id>");
        require(d.clientId() == null || "integration".equals(d.kind()), "only an integration names the system client it"
                + " uses (--client-id)");
        require(d.clientId() == null || clients.isActive(d.clientId()), "no active client " + d.clientId());
        String id = d.id() != null ? d.id() : "dev-" + jp.kiroku.platform.SecretFiles.randomToken(6).replaceAll("[^A-Za-z0-9]", "x");
        require(id.matches("[A-Za-z0-9\\-]{1,64}"), "a device id has letters, digits and '-' only");
        Timestamp now = Timestamp.from(clock.instant());
        try {
            jdbc.update("INSERT INTO device (id, kind, name, device_type, owner, management, mdm_attestation, responsible,"
                    + " os_version, mds_sds, fhir_device, client_id, state, registered_at, changed_at, changed_by)"
                    + " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'registered',?,?,?)", id, d.kind(), d.name(), d.type(), d.owner(),
                    d.management(), d.mdmAttestation(), d.responsible(), d.osVersion(), d.mdsSds(), d.fhirDevice(),
                    d.clientId(), now, now, by.id());
        } catch (org.springframework.dao.DuplicateKeyException e) {
            throw new IllegalArgumentException("a device with id " + id + " is registered already");
        }
        audit.record(AuditRecord.of(by, "device.register", AuditRecord.Outcome.SUCCESS)
                .withDetail("device=" + id + " kind=" + d.kind() + " management=" + d.management()));
        return find(id).orElseThrow();
    }

    /** Devices with the firmware their type should run when theirs differs (update_due). */
    private static final String SELECT = "SELECT d.*, CASE WHEN f.version IS NOT NULL AND d.os_version IS DISTINCT FROM"
            + " f.version THEN f.version || CASE WHEN f.important THEN ' (important)' ELSE '' END END AS update_due"
            + " FROM device d LEFT JOIN device_firmware f ON f.device_type = d.device_type";

    public Optional<Device> find(String id) {
        return jdbc.query(SELECT + " WHERE d.id = ?", DEVICE, id).stream().findFirst();
    }

    public List<Device> list() {
        return jdbc.query(SELECT + " ORDER BY d.kind, d.id", DEVICE);
    }

    /**
     * Sets the firmware (or OS) version devices of a type should run (IOT-03): devices on another version are listed
     * as due for an update; {@code important} (a security fix) also turns the devices health component to UPDATE_DUE.
     */
    public void recommendFirmware(String type, String version, boolean important, String note, Agent by) {
        require(type != null && !type.isBlank() && version != null && !version.isBlank(), "a device type and a version");
        jdbc.update("INSERT INTO device_firmware (device_type, version, important, note, set_at, set_by) VALUES (?,?,?,?,?,?)"
                + " ON CONFLICT (device_type) DO UPDATE SET version = EXCLUDED.version, important = EXCLUDED.important,"
                + " note = EXCLUDED.note, set_at = EXCLUDED.set_at, set_by = EXCLUDED.set_by", type, version, important, note,
                Timestamp.from(clock.instant()), by.id());
        audit.record(AuditRecord.of(by, "device.firmware", AuditRecord.Outcome.SUCCESS).withDetail("type=" + type
                + " version=" + version + (important ? " important" : "")));
    }

    /** Records the version a device now runs (after an update). */
    public Device setVersion(String id, String version, Agent by) {
        require(find(id).isPresent(), "no device " + id);
        jdbc.update("UPDATE device SET os_version = ?, changed_at = ?, changed_by = ? WHERE id = ?", version,
                Timestamp.from(clock.instant()), by.id(), id);
        audit.record(AuditRecord.of(by, "device.version", AuditRecord.Outcome.SUCCESS).withDetail("device=" + id
                + " version=" + version));
        return find(id).orElseThrow();
    }

    /** Devices in use (not retired, disposed of or lost) that miss an important update. */
    public List<Device> importantUpdatesDue() {
        return list().stream().filter(d -> d.updateDue() != null && d.updateDue().endsWith("(important)")
                && !ENDED.contains(d.state())).toList();
    }

    /**
     * Moves a device through its lifecycle. Lost, retired or disposed of: every open lending of it ends and its
     * credential is disabled in the same step (IOT-04), so its tokens stop within kiroku.tokens.active-check-cache and
     * its measurements are refused at once.
     */
    public Device setState(String id, String state, String reason, Agent by) {
        require(STATES.contains(state), "state must be one of " + STATES + ", not '" + state + "'");
        Device d = find(id).orElseThrow(() -> new IllegalArgumentException("no device " + id));
        require(!"disposed".equals(d.state()), "device " + id + " was disposed of: its record stays as it is");
        require(!ENDED.contains(state) || reason != null && !reason.isBlank(), "say why (--reason) a device is " + state);
        List<String> revoked = tx.execute(s -> {
            jdbc.update("UPDATE device SET state = ?, state_reason = ?, changed_at = ?, changed_by = ? WHERE id = ?", state,
                    reason, Timestamp.from(clock.instant()), by.id(), id);
            if (!ENDED.contains(state)) {
                return List.<String>of();
            }
            // every credential goes: a terminal's cannot come back by a state change, an integration's client goes
            // with its registry entry, a lent device's with its lendings (IOT-04)
            jdbc.update("UPDATE device SET credential_hash = NULL, certificate_sha256 = NULL WHERE id = ?", id);
            List<String> disabled = new java.util.ArrayList<>(endLendings(id, by));
            if (d.clientId() != null && clients.disable(d.clientId(), by)) {
                disabled.add(d.clientId());
            }
            return disabled;
        });
        terminals.invalidateAll();
        audit.record(AuditRecord.of(by, "device.state", AuditRecord.Outcome.SUCCESS)
                .withDetail("device=" + id + " " + d.state() + "->" + state + (revoked.isEmpty() ? ""
                        : " credentials disabled: " + revoked)));
        return find(id).orElseThrow();
    }

    /** Ends every open lending of the device and disables its credentials; the client ids disabled. */
    List<String> endLendings(String deviceId, Agent by) {
        List<String> ids = jdbc.queryForList("SELECT client_id FROM device_lending WHERE device_id = ? AND returned_at IS NULL",
                String.class, deviceId);
        jdbc.update("UPDATE device_lending SET returned_at = ? WHERE device_id = ? AND returned_at IS NULL",
                Timestamp.from(clock.instant()), deviceId);
        for (String client : ids) {
            clients.disable(client, by);
        }
        return ids;
    }

    /** The inventory as CSV (UTF-8 with a byte-order mark, so that spreadsheet programs read the Japanese right). */
    public byte[] inventoryCsv() {
        StringBuilder b = new StringBuilder("\uFEFFid,kind,name,type,owner,management,mdm_attestation,responsible,"
                + "os_version,update_due,mds_sds,fhir_device,client_id,state,state_reason,last_seen,registered_at,changed_at,"
                + "changed_by\r\n");
        for (Device d : list()) {
            b.append(String.join(",", csv(d.id()), csv(d.kind()), csv(d.name()), csv(d.type()), csv(d.owner()),
                    csv(d.management()), csv(d.mdmAttestation()), csv(d.responsible()), csv(d.osVersion()),
                    csv(d.updateDue()), csv(d.mdsSds()), csv(d.fhirDevice()), csv(d.clientId()), csv(d.state()), csv(d.stateReason()), csv(d.lastSeen()), csv(d.registeredAt()),
                    csv(d.changedAt()), csv(d.changedBy()))).append("\r\n");
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The inventory as a PDF document (Japanese font embedded). */
    public byte[] inventoryPdf() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("作成日時 / made at", clock.instant().toString());
        doc.put("台数 / devices", list().size());
        for (Device d : list()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("kind", d.kind());
            row.put("name", d.name());
            row.put("type", d.type());
            row.put("owner", d.owner());
            row.put("management", d.management() + (d.mdmAttestation() == null ? "" : " (" + d.mdmAttestation() + ")"));
            row.put("responsible", d.responsible());
            row.put("os/firmware", d.osVersion() + (d.updateDue() == null ? "" : " → update due: " + d.updateDue()));
            row.put("client", d.clientId());
            row.put("MDS/SDS", d.mdsSds());
            row.put("state", d.state() + (d.stateReason() == null ? "" : " (" + d.stateReason() + ")"));
            row.put("last seen", String.valueOf(d.lastSeen()));
            doc.put(d.id(), row);
        }
        return jp.kiroku.render.Pdf.document("機器台帳 / Device inventory",
                tools.jackson.databind.json.JsonMapper.builder().build().valueToTree(doc));
    }

    private static String csv(Object value) {
        if (value == null) {
            return "";
        }
        String s = value.toString();
        if (s.matches("^[=+\\-@\t\r].*")) {
            s = "'" + s; // a spreadsheet must not run a cell as a formula
        }
        return s.matches(".*[\",\r\n].*") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    private static final org.springframework.jdbc.core.RowMapper<Device> DEVICE = (ResultSet rs, int i) -> new Device(
            rs.getString("id"), rs.getString("kind"), rs.getString("name"), rs.getString("device_type"), rs.getString("owner"),
            rs.getString("management"), rs.getString("mdm_attestation"), rs.getString("responsible"),
            rs.getString("os_version"), rs.getString("mds_sds"), rs.getString("fhir_device"), rs.getString("state"),
            rs.getString("state_reason"), instant(rs, "last_seen"), instant(rs, "registered_at"), instant(rs, "changed_at"),
            rs.getString("changed_by"), rs.getString("client_id"), rs.getString("update_due"));

    static Instant instant(ResultSet rs, String column) throws SQLException {
        Timestamp t = rs.getTimestamp(column);
        return t == null ? null : t.toInstant();
    }
}
