package jp.kiroku.retention;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.crypto.DataKeys;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.search.SearchIndex;
import jp.kiroku.store.Authorship;
import jp.kiroku.store.RecordStore;
import jp.kiroku.store.ResourceKey;
import jp.kiroku.store.StoreException;
import jp.kiroku.store.Write;

/**
 * Disposal (issue 7, item 5; DISP-01..04) as a job for one patient or for every patient past retention, decided by
 * two people: one requests it (a person or the local operator), another person approves it — and the approval executes
 * it, patient by patient, each in its own transaction:
 * <ol>
 * <li>a tombstone version of each of the patient's resources (the record ledger gets one entry per resource, authored
 * by the approver, with the disposal as reason); their index rows, care relations and consent restrictions go;</li>
 * <li>every version that held content is listed in the disposal register ({@code disposed_version}) and removed —
 * the record ledger keeps their hashes, and verification counts them as disposed, not deleted;</li>
 * <li>the patient's data key is destroyed (crypto-shredding: whatever copy remains, in backups or dumps, no longer
 * opens); the access ledger records the event with the SHA-256 of the removed versions' numbers.</li>
 * </ol>
 * A patient no longer past retention, on legal hold, or referred to by another patient's or a shared record is skipped
 * with the reason (DISP-04), and the job goes on. A job interrupted (a crash) continues with {@link #resume}. The
 * result is a disposal certificate (JSON) with what was done, by whom, the keys destroyed, the checks made afterwards,
 * and the date after which no backup of the key store can hold the keys any more.
 */
@Service
public class Disposals {

    /** A disposal job: its patients and, once executed, the certificate. */
    public record Disposal(UUID id, String scope, String facility, String reason, String requestedBy, Instant requestedAt,
                          String approvedBy, Instant approvedAt, String refusedBy, Instant refusedAt, Instant executedAt,
                          String certificate, List<Patient> patients) {
        public String state() {
            return executedAt != null ? "executed" : refusedAt != null ? "refused" : approvedAt != null ? "executing"
                    : "requested";
        }
    }

    /** One patient of a job, and what happened to them. */
    public record Patient(String patientKey, Instant doneAt, String skipped, String keyId, Integer resources,
                          Integer versions, String versionsSha256) {
    }

    /** A request that cannot be made or decided, with the reason to show. */
    public static final class DisposalException extends RuntimeException {
        public DisposalException(String message) {
            super(message);
        }
    }

    private static final tools.jackson.databind.json.JsonMapper JSON = tools.jackson.databind.json.JsonMapper.builder().build();

    private final JdbcTemplate jdbc;
    private final Retention retention;
    private final RecordStore store;
    private final SearchIndex search;
    private final jp.kiroku.access.AccessRows accessRows;
    private final DataKeys keys;
    private final AuditTrail audit;
    private final Clock clock;
    private final TransactionTemplate tx;
    private final Duration keyBackupRetention;
    private final jp.kiroku.ledger.Ledgers ledgers;
    private final jp.kiroku.incidents.OperatingMode mode;

    Disposals(JdbcTemplate jdbc, Retention retention, RecordStore store, SearchIndex search,
              jp.kiroku.access.AccessRows accessRows, DataKeys keys, AuditTrail audit, Clock clock, PlatformTransactionManager transactions,
              KirokuProperties props, jp.kiroku.ledger.Ledgers ledgers, jp.kiroku.incidents.OperatingMode mode) {
        this.jdbc = jdbc;
        this.retention = retention;
        this.store = store;
        this.search = search;
        this.accessRows = accessRows;
        this.keys = keys;
        this.audit = audit;
        this.clock = clock;
        this.tx = new TransactionTemplate(transactions);
        this.keyBackupRetention = props.getKeyBackupRetention();
        this.ledgers = ledgers;
        this.mode = mode;
    }

    /** Asks for the disposal of one patient's records: refused unless every category is past retention and no hold. */
    public Disposal request(String patientKey, String reason, Agent by) {
        requireReason(reason);
        Integer resources = jdbc.queryForObject("SELECT count(*) FROM resource_current WHERE patient_key = ? AND NOT deleted",
                Integer.class, patientKey);
        if (resources == 0) {
            throw new DisposalException("Patient/" + patientKey + " has no records to dispose of");
        }
        String why = notDisposable(patientKey, null);
        if (why != null) {
            throw new DisposalException(why);
        }
        if (!waiting(List.of(patientKey)).isEmpty()) {
            throw new DisposalException("a disposal of Patient/" + patientKey + " is already waiting or under way");
        }
        return create("patient", null, List.of(patientKey), reason, by);
    }

    /**
     * Asks for the disposal of the records made at one facility (e.g. one that closes), for every patient whose records
     * there are past retention and not on hold; patients whose records there are not yet past retention are left out.
     * A patient with records at other facilities keeps them and their key; only the records made here go.
     */
    public Disposal requestFacility(String facility, String reason, Agent by) {
        requireReason(reason);
        List<String> there = jdbc.queryForList("SELECT DISTINCT patient_key FROM resource_current WHERE facility_id = ? AND"
                + " patient_key IS NOT NULL AND NOT deleted ORDER BY 1", String.class, facility);
        List<String> patients = new ArrayList<>(there.stream().filter(p -> notDisposable(p, facility) == null).toList());
        patients.removeAll(waiting(patients));
        if (patients.isEmpty()) {
            throw new DisposalException("no patient's records at facility " + facility + " are past retention (of "
                    + there.size() + " patients with records there), or all are in a job already");
        }
        return create("facility", facility, patients, reason, by);
    }

    /** Asks for the disposal of every patient past retention and not on hold (and not in another job): one job. */
    public Disposal requestPastRetention(String reason, Agent by) {
        requireReason(reason);
        List<String> patients = new ArrayList<>(retention.expired(clock.instant()).stream().map(Retention.Expired::patientKey)
                .toList());
        patients.removeAll(waiting(patients));
        if (patients.isEmpty()) {
            throw new DisposalException("no patient is past retention (kiroku retention report), or all are in a job already");
        }
        return create("past-retention", null, patients, reason, by);
    }

    private static void requireReason(String reason) {
        if (reason == null || reason.isBlank()) {
            throw new DisposalException("a disposal needs a reason (e.g. \"保存期間満了 2026年度廃棄\")");
        }
    }

    /** Why a patient (their records at {@code facility}, when not null) cannot be disposed of now, or null. */
    private String notDisposable(String patientKey, String facility) {
        if (retention.isHeld(patientKey)) {
            return "Patient/" + patientKey + " is on legal hold: release the hold first";
        }
        if ((facility == null ? retention.expired(clock.instant(), patientKey)
                : retention.expiredAt(clock.instant(), patientKey, facility)).isEmpty()) {
            return "Patient/" + patientKey + " is not past retention in every category (kiroku retention report lists"
                    + " who is): records cannot be disposed of before their legal period ends";
        }
        return null;
    }

    /** Those of the patients who are in a job not refused and not finished. */
    private List<String> waiting(List<String> patients) {
        return jdbc.queryForList("SELECT DISTINCT p.patient_key FROM disposal_patient p JOIN disposal d ON d.id = p.disposal_id"
                + " WHERE d.refused_at IS NULL AND d.executed_at IS NULL AND p.patient_key = ANY(?::text[])", String.class,
                (Object) patients.toArray(String[]::new));
    }

    private Disposal create(String scope, String facility, List<String> patients, String reason, Agent by) {
        UUID id = UUID.randomUUID();
        tx.executeWithoutResult(t -> {
            jdbc.update("INSERT INTO disposal (id, scope, facility_id, reason, requested_by, requested_at) VALUES (?,?,?,?,?,?)",
                    id, scope, facility, reason, name(by), Timestamp.from(clock.instant()));
            jdbc.batchUpdate("INSERT INTO disposal_patient (disposal_id, patient_key) VALUES (?, ?)", patients, 1000, (ps, p) -> {
                ps.setObject(1, id);
                ps.setString(2, p);
            });
            audit.record(AuditRecord.of(by, "disposal.request", AuditRecord.Outcome.SUCCESS)
                    .onAll(patients.stream().map(p -> new AuditRecord.Touched("Patient", p, null, p)).toList())
                    .withDetail("disposal=" + id + " scope=" + scope + (facility == null ? "" : " facility=" + facility)
                            + " patients=" + patients.size()));
        });
        return get(id).orElseThrow();
    }

    public List<Disposal> list() {
        return jdbc.queryForList("SELECT id FROM disposal ORDER BY requested_at DESC", UUID.class).stream()
                .map(id -> get(id).orElseThrow()).toList();
    }

    public Optional<Disposal> get(UUID id) {
        List<Patient> patients = jdbc.query("SELECT * FROM disposal_patient WHERE disposal_id = ? ORDER BY patient_key",
                (rs, i) -> new Patient(rs.getString("patient_key"), instant(rs, "done_at"), rs.getString("skipped"),
                        rs.getString("key_id"), (Integer) rs.getObject("resources"), (Integer) rs.getObject("versions"),
                        rs.getString("versions_sha256")), id);
        return jdbc.query("SELECT * FROM disposal WHERE id = ?", (rs, i) -> new Disposal(rs.getObject("id", UUID.class),
                rs.getString("scope"), rs.getString("facility_id"), rs.getString("reason"), rs.getString("requested_by"),
                instant(rs, "requested_at"),
                rs.getString("approved_by"), instant(rs, "approved_at"), rs.getString("refused_by"), instant(rs, "refused_at"),
                instant(rs, "executed_at"), rs.getString("certificate"), patients), id).stream().findFirst();
    }

    /** A second person refuses the request. */
    public Disposal refuse(UUID id, Agent by) {
        Disposal d = pending(id, by);
        jdbc.update("UPDATE disposal SET refused_by = ?, refused_at = ? WHERE id = ?", name(by), Timestamp.from(clock.instant()), id);
        audit.record(AuditRecord.of(by, "disposal.refuse", AuditRecord.Outcome.SUCCESS).withDetail("disposal=" + id
                + " patients=" + d.patients().size()));
        return get(id).orElseThrow();
    }

    /** A second person approves, which executes the job (see the class comment). Refused for the requester. */
    public Disposal approve(UUID id, Agent by) {
        pending(id, by);
        String refusal = mode.writeRefusal();
        if (refusal != null) {
            throw new DisposalException(refusal);
        }
        Timestamp now = Timestamp.from(clock.instant());
        if (jdbc.update("UPDATE disposal SET approved_by = ?, approved_at = ? WHERE id = ? AND approved_at IS NULL AND"
                + " refused_at IS NULL", name(by), now, id) != 1) {
            throw new DisposalException("disposal " + id + " was decided meanwhile");
        }
        audit.record(AuditRecord.of(by, "disposal.approve", AuditRecord.Outcome.SUCCESS).withDetail("disposal=" + id));
        return run(id, by);
    }

    /** Continues an approved job that was interrupted (the operator, after a crash). */
    public Disposal resume(UUID id, Agent by) {
        Disposal d = get(id).orElseThrow(() -> new DisposalException("no disposal " + id));
        if (!d.state().equals("executing")) {
            throw new DisposalException("disposal " + id + " is " + d.state() + ", not under way");
        }
        return run(id, by);
    }

    private Disposal run(UUID id, Agent by) {
        String refusal = mode.writeRefusal();
        if (refusal != null) {
            throw new DisposalException(refusal);
        }
        Disposal d = get(id).orElseThrow();
        for (Patient p : d.patients()) {
            if (p.doneAt() != null) {
                continue;
            }
            String skipped = notDisposable(p.patientKey(), d.facility());
            if (skipped == null) {
                ledgers.sequenceNow(); // the versions to remove must have their log entries first (the ledger keeps their hashes)
                try {
                    tx.executeWithoutResult(t -> execute(d, p.patientKey(), by));
                } catch (StoreException e) {
                    skipped = "still referred to: " + e.getMessage() + " (DISP-04: change the referring records first)";
                } catch (DisposalException e) {
                    skipped = e.getMessage();
                }
            }
            if (skipped != null) {
                jdbc.update("UPDATE disposal_patient SET done_at = ?, skipped = ? WHERE disposal_id = ? AND patient_key = ?",
                        Timestamp.from(clock.instant()), skipped, id, p.patientKey());
            }
        }
        Disposal done = get(id).orElseThrow();
        jdbc.update("UPDATE disposal SET executed_at = ?, certificate = ? WHERE id = ?", Timestamp.from(clock.instant()),
                certificate(done, clock.instant()), id);
        audit.record(AuditRecord.of(by, "disposal.execute", AuditRecord.Outcome.SUCCESS).withDetail("disposal=" + id
                + " disposed=" + done.patients().stream().filter(x -> x.skipped() == null).count() + " skipped="
                + done.patients().stream().filter(x -> x.skipped() != null).count()));
        return get(id).orElseThrow();
    }

    private Disposal pending(UUID id, Agent by) {
        Disposal d = get(id).orElseThrow(() -> new DisposalException("no disposal " + id));
        if (!d.state().equals("requested")) {
            throw new DisposalException("disposal " + id + " is already " + d.state());
        }
        if (d.requestedBy().equals(name(by))) {
            throw new DisposalException("the person who requested a disposal cannot decide it: a second person must");
        }
        if (by.kind() != Agent.Kind.USER) {
            throw new DisposalException("a disposal is decided by a person (an administrator, re-authenticated)");
        }
        return d;
    }

    private void execute(Disposal d, String patient, Agent by) {
        // a facility's job takes only the records made there; the patient's key goes only if nothing of theirs is left
        String only = d.facility();
        String where = "patient_key = ?" + (only == null ? "" : " AND facility_id = ?");
        Object[] args = only == null ? new Object[] {patient} : new Object[] {patient, only};
        List<ResourceKey> current = jdbc.query("SELECT res_type, res_id FROM resource_current WHERE " + where
                + " AND NOT deleted ORDER BY res_type, res_id", (rs, i) -> new ResourceKey(rs.getString(1), rs.getString(2)),
                args);
        // (a resource stays in the facility it was made in: its current pointer says which)
        boolean whole = only == null || jdbc.queryForObject("SELECT count(*) FROM resource_current WHERE patient_key = ? AND"
                + " facility_id <> ? AND EXISTS (SELECT 1 FROM resource_version v WHERE v.res_type = resource_current.res_type"
                + " AND v.res_id = resource_current.res_id AND v.body IS NOT NULL)", Integer.class, patient, only) == 0;
        String facility = only != null ? only : jdbc.query("SELECT facility_id FROM resource_current WHERE res_type ="
                + " 'Patient' AND res_id = ?", (rs, i) -> rs.getString(1), patient).stream().findFirst().orElse(null);
        // 1. tombstones (the record ledger's entries for the disposal), and the derived rows go with the resources
        store.write(current.stream().map(k -> Write.delete(k, null)).toList(),
                new Authorship(by.kind().code(), by.id(), null, null, facility, "disposal " + d.id() + ": " + d.reason()));
        search.replace(current.stream().map(k -> new SearchIndex.Entry(k, patient, null, false)).toList());
        for (ResourceKey k : current) {
            accessRows.replace(k, patient, null, null);
        }
        // 2. the versions that held content: listed in the register, then removed (the owner's function, only those)
        List<Long> seqs = jdbc.queryForList("SELECT v.seq FROM resource_version v JOIN resource_current c ON c.res_type ="
                + " v.res_type AND c.res_id = v.res_id WHERE v.patient_key = ? AND v.body IS NOT NULL AND c.facility_id ="
                + " coalesce(?::text, c.facility_id) ORDER BY v.seq", Long.class, patient, only);
        if (jdbc.queryForObject("SELECT count(*) FROM ledger_pending WHERE log = 1 AND source_seq = ANY(?::bigint[])",
                Integer.class, (Object) seqs.toArray(Long[]::new)) > 0) {
            throw new DisposalException("some of the patient's versions are not in the record ledger yet; run the job"
                    + " again (kiroku dispose resume)");
        }
        jdbc.batchUpdate("INSERT INTO disposed_version (seq, disposal_id, patient_key) VALUES (?, ?, ?)", seqs, 1000, (ps, s) -> {
            ps.setLong(1, s);
            ps.setObject(2, d.id());
            ps.setString(3, patient);
        });
        Integer removed = jdbc.queryForObject("SELECT kiroku_dispose_versions(?, ?)", Integer.class, d.id(), patient);
        if (removed == null || removed != seqs.size()) {
            throw new IllegalStateException("disposal " + d.id() + " removed " + removed + " versions, not " + seqs.size());
        }
        String sha = sha256(seqs);
        // 3. the key: whatever copy of the content remains anywhere no longer opens (kept while records remain elsewhere)
        String owner = DataKeys.patient(patient);
        String keyId = null;
        if (whole) {
            keyId = jdbc.query("SELECT key_id FROM data_key WHERE owner = ?", (rs, i) -> rs.getString(1), owner).stream()
                    .findFirst().orElse(null);
            keys.destroy(owner, name(by));
        }
        jdbc.update("UPDATE disposal_patient SET done_at = ?, key_id = ?::uuid, resources = ?, versions = ?, versions_sha256 = ?"
                + " WHERE disposal_id = ? AND patient_key = ?", Timestamp.from(clock.instant()), keyId, current.size(),
                seqs.size(), sha, d.id(), patient);
        audit.record(AuditRecord.of(by, "disposal.patient", AuditRecord.Outcome.SUCCESS)
                .on("Patient", patient, null, patient)
                .withDetail("disposal=" + d.id() + " resources=" + current.size() + " versions=" + seqs.size()
                        + " versions_sha256=" + sha + " key=" + keyId));
    }

    /** The certificate, with the checks made after the job (over every patient it disposed of). */
    private String certificate(Disposal d, Instant executedAt) {
        List<String> disposed = d.patients().stream().filter(p -> p.skipped() == null).map(Patient::patientKey).toList();
        String[] keysOf = d.patients().stream().filter(p -> p.skipped() == null && p.keyId() != null)
                .map(p -> DataKeys.patient(p.patientKey())).toArray(String[]::new);
        String[] patients = disposed.toArray(String[]::new);
        String at = " AND facility_id = coalesce(?::text, facility_id)"; // a facility's job: only the records made there
        Map<String, Object> checks = new LinkedHashMap<>();
        checks.put("dataKeysStillWrapped", jdbc.queryForObject("SELECT count(*) FROM data_key WHERE owner = ANY(?::text[])"
                + " AND wrapped IS NOT NULL", Integer.class, (Object) keysOf));
        checks.put("recordsLeft", jdbc.queryForObject("SELECT count(*) FROM resource_current WHERE patient_key = ANY(?::text[])"
                + " AND NOT deleted" + at, Integer.class, patients, d.facility()));
        checks.put("versionsWithContentLeft", jdbc.queryForObject("SELECT count(*) FROM resource_version v JOIN resource_current"
                + " c ON c.res_type = v.res_type AND c.res_id = v.res_id WHERE v.patient_key = ANY(?::text[]) AND v.body IS NOT"
                + " NULL AND c.facility_id = coalesce(?::text, c.facility_id)", Integer.class, patients, d.facility()));
        int indexRows = 0;
        for (String table : List.of("search_token", "search_string", "search_date", "search_reference", "search_number",
                "search_quantity", "search_uri", "search_composite")) {
            indexRows += jdbc.queryForObject("SELECT count(*) FROM " + table + " x WHERE x.patient_key = ANY(?::text[])"
                    + " AND EXISTS (SELECT 1 FROM resource_current c WHERE c.res_type = x.res_type AND c.res_id = x.res_id"
                    + " AND c.facility_id = coalesce(?::text, c.facility_id))", Integer.class, patients, d.facility());
        }
        checks.put("indexRowsLeft", indexRows);
        boolean passed = checks.values().stream().allMatch(v -> ((Integer) v) == 0);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("certificate", "Kiroku disposal certificate / 廃棄証明書");
        c.put("disposal", d.id().toString());
        c.put("scope", d.scope());
        if (d.facility() != null) {
            c.put("facility", d.facility());
        }
        c.put("reason", d.reason());
        c.put("requestedBy", d.requestedBy());
        c.put("requestedAt", d.requestedAt().toString());
        c.put("approvedBy", d.approvedBy());
        c.put("approvedAt", d.approvedAt().toString());
        c.put("executedAt", executedAt.toString());
        c.put("disposed", d.patients().stream().filter(p -> p.skipped() == null).map(p -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("patient", "Patient/" + p.patientKey());
            m.put("resources", p.resources());
            m.put("versionsRemoved", p.versions());
            m.put("versionsSha256", p.versionsSha256());
            if (p.keyId() != null) {
                m.put("keyDestroyed", Map.of("owner", DataKeys.patient(p.patientKey()), "keyId", p.keyId()));
            } else {
                m.put("keyKept", "the patient's records at other facilities remain under it; the records removed here"
                        + " are gone from the database, and copies of them elsewhere (backups) expire with the backups");
            }
            return m;
        }).toList());
        c.put("notDisposed", d.patients().stream().filter(p -> p.skipped() != null)
                .map(p -> Map.of("patient", "Patient/" + p.patientKey(), "why", p.skipped())).toList());
        c.put("verification", Map.of("passed", passed, "checks", checks));
        c.put("noCopyOfTheKeysAfter", executedAt.plus(keyBackupRetention).toString());
        c.put("noCopyOfTheKeysAfterNote", "the last key-store backup that can hold a destroyed key expires then"
                + " (kiroku.key-backup-retention); a restore never revives a key listed as destroyed");
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(c);
    }

    /** The certificate of an executed disposal as PDF (the same content as the JSON, Japanese font embedded). */
    public Optional<byte[]> certificatePdf(UUID id) {
        return get(id).map(Disposal::certificate).map(json -> jp.kiroku.render.Pdf.document("廃棄証明書 / Disposal certificate",
                JSON.readTree(json)));
    }

    /**
     * Checks the disposal register against the access ledger: for every patient of every job, the versions listed
     * match the hash in the job's record and in its audit event (which the access ledger protects). What is wrong, if
     * anything: a row removed and listed in the register without a matching, ledgered disposal shows here.
     */
    public List<String> registerProblems() {
        List<String> problems = new ArrayList<>();
        Map<List<Object>, List<Long>> listed = new LinkedHashMap<>();
        jdbc.query("SELECT disposal_id, patient_key, seq FROM disposed_version ORDER BY disposal_id, patient_key, seq", rs -> {
            listed.computeIfAbsent(List.of(rs.getObject(1, UUID.class), rs.getString(2)), k -> new ArrayList<>()).add(rs.getLong(3));
        });
        for (var e : listed.entrySet()) {
            UUID id = (UUID) e.getKey().get(0);
            String patient = (String) e.getKey().get(1);
            String sha = sha256(e.getValue());
            List<String> recorded = jdbc.queryForList("SELECT versions_sha256 FROM disposal_patient WHERE disposal_id = ? AND"
                    + " patient_key = ? AND done_at IS NOT NULL AND skipped IS NULL", String.class, id, patient);
            if (recorded.size() != 1 || !sha.equals(recorded.get(0))) {
                problems.add("disposal register: " + e.getValue().size() + " versions of Patient/" + patient + " listed under "
                        + id + " do not match an executed disposal");
                continue;
            }
            Integer events = jdbc.queryForObject("SELECT count(*) FROM audit_log WHERE action = 'disposal.patient' AND"
                    + " patients @> ARRAY[?]::text[] AND detail LIKE ?", Integer.class, patient,
                    "disposal=" + id + " %versions_sha256=" + sha + " %");
            if (events == 0) {
                problems.add("disposal register: disposal " + id + " of Patient/" + patient + " has no access-log event with"
                        + " its versions' hash");
            }
        }
        return problems;
    }

    private static String sha256(List<Long> seqs) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (long s : seqs) {
                md.update((s + "\n").getBytes(StandardCharsets.US_ASCII));
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String name(Agent a) {
        return a.kind().code() + ":" + a.id();
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        Timestamp t = rs.getTimestamp(column);
        return t == null ? null : t.toInstant();
    }
}
