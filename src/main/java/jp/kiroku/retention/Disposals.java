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
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import jp.kiroku.access.CareRelations;
import jp.kiroku.access.ConsentRestrictions;
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
 * Disposal of a patient's records (issue 7, item 5; DISP-01..04), by two people: one requests it (a person or the
 * local operator), another person approves it — and the approval executes it, in one transaction:
 * <ol>
 * <li>a tombstone version of each of the patient's resources (the record ledger gets one entry per resource, authored
 * by the approver, with the disposal as reason); their index rows, care relations and consent restrictions go;</li>
 * <li>every version that held content is listed in the disposal register ({@code disposed_version}) and removed —
 * the record ledger keeps their hashes, and verification counts them as disposed, not deleted;</li>
 * <li>the patient's data key is destroyed (crypto-shredding: whatever copy remains, in backups or dumps, no longer
 * opens); the access ledger records the event with the SHA-256 of the removed versions' numbers.</li>
 * </ol>
 * Only a patient past retention in every category, and not on legal hold, can be disposed of. The result is a
 * disposal certificate (JSON) with what was done, by whom, the key destroyed, the checks made afterwards, and the date
 * after which no backup of the key store can hold the key any more.
 */
@Service
public class Disposals {

    /** A disposal job and, once executed, its result. */
    public record Disposal(UUID id, String patientKey, String reason, String requestedBy, Instant requestedAt,
                          String approvedBy, Instant approvedAt, String refusedBy, Instant refusedAt, Instant executedAt,
                          String keyOwner, String keyId, Integer resources, Integer versions, String versionsSha256,
                          String certificate) {
        public String state() {
            return executedAt != null ? "executed" : refusedAt != null ? "refused" : "requested";
        }
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
    private final CareRelations careRelations;
    private final ConsentRestrictions consents;
    private final DataKeys keys;
    private final AuditTrail audit;
    private final Clock clock;
    private final TransactionTemplate tx;
    private final Duration keyBackupRetention;
    private final jp.kiroku.ledger.Ledgers ledgers;

    Disposals(JdbcTemplate jdbc, Retention retention, RecordStore store, SearchIndex search, CareRelations careRelations,
              ConsentRestrictions consents, DataKeys keys, AuditTrail audit, Clock clock, PlatformTransactionManager transactions,
              KirokuProperties props, jp.kiroku.ledger.Ledgers ledgers) {
        this.jdbc = jdbc;
        this.retention = retention;
        this.store = store;
        this.search = search;
        this.careRelations = careRelations;
        this.consents = consents;
        this.keys = keys;
        this.audit = audit;
        this.clock = clock;
        this.tx = new TransactionTemplate(transactions);
        this.keyBackupRetention = props.getKeyBackupRetention();
        this.ledgers = ledgers;
    }

    /** Asks for the disposal of a patient's records: refused unless every category is past retention and no hold. */
    public Disposal request(String patientKey, String reason, Agent by) {
        if (reason == null || reason.isBlank()) {
            throw new DisposalException("a disposal needs a reason (e.g. \"保存期間満了 2026年度廃棄\")");
        }
        Integer resources = jdbc.queryForObject("SELECT count(*) FROM resource_current WHERE patient_key = ? AND NOT deleted",
                Integer.class, patientKey);
        if (resources == 0) {
            throw new DisposalException("Patient/" + patientKey + " has no records to dispose of");
        }
        if (retention.holds().stream().anyMatch(h -> h.patientKey().equals(patientKey))) {
            throw new DisposalException("Patient/" + patientKey + " is on legal hold: release the hold first");
        }
        Optional<Retention.Expired> expired = retention.expired(clock.instant(), patientKey);
        if (expired.isEmpty()) {
            throw new DisposalException("Patient/" + patientKey + " is not past retention in every category (kiroku"
                    + " retention report lists who is): records cannot be disposed of before their legal period ends");
        }
        if (jdbc.queryForObject("SELECT count(*) FROM disposal WHERE patient_key = ? AND refused_at IS NULL AND executed_at"
                + " IS NULL", Integer.class, patientKey) > 0) {
            throw new DisposalException("a disposal of Patient/" + patientKey + " is already waiting for approval");
        }
        UUID id = UUID.randomUUID();
        jdbc.update("INSERT INTO disposal (id, patient_key, reason, requested_by, requested_at) VALUES (?,?,?,?,?)", id,
                patientKey, reason, name(by), Timestamp.from(clock.instant()));
        audit.record(AuditRecord.of(by, "disposal.request", AuditRecord.Outcome.SUCCESS)
                .on("Patient", patientKey, null, patientKey).withDetail("disposal=" + id + " resources=" + resources));
        return get(id).orElseThrow();
    }

    public List<Disposal> list() {
        return jdbc.query("SELECT * FROM disposal ORDER BY requested_at DESC", ROW);
    }

    public Optional<Disposal> get(UUID id) {
        return jdbc.query("SELECT * FROM disposal WHERE id = ?", ROW, id).stream().findFirst();
    }

    /** A second person refuses the request. */
    public Disposal refuse(UUID id, Agent by) {
        Disposal d = pending(id, by);
        jdbc.update("UPDATE disposal SET refused_by = ?, refused_at = ? WHERE id = ?", name(by), Timestamp.from(clock.instant()), id);
        audit.record(AuditRecord.of(by, "disposal.refuse", AuditRecord.Outcome.SUCCESS)
                .on("Patient", d.patientKey(), null, d.patientKey()).withDetail("disposal=" + id));
        return get(id).orElseThrow();
    }

    /**
     * A second person approves, which executes the disposal (one transaction: if any step fails, nothing is disposed
     * of). Refused when the approver requested it, or when a resource of the patient is referred to by another
     * patient's or a shared record (DISP-04: the referrers are named).
     */
    public Disposal approve(UUID id, Agent by) {
        Disposal d = pending(id, by);
        if (retention.holds().stream().anyMatch(h -> h.patientKey().equals(d.patientKey()))
                || retention.expired(clock.instant(), d.patientKey()).isEmpty()) {
            throw new DisposalException("Patient/" + d.patientKey() + " is on legal hold or no longer past retention"
                    + " (a record was added since the request): refuse this request");
        }
        ledgers.sequenceNow(); // the versions to remove must have their log entries first (the ledger keeps their hashes)
        try {
            tx.executeWithoutResult(t -> execute(d, by));
        } catch (StoreException e) {
            throw new DisposalException("Cannot dispose of Patient/" + d.patientKey() + ": " + e.getMessage()
                    + " — records of other patients or shared records still refer to it; change them first (DISP-04)");
        }
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

    private void execute(Disposal d, Agent by) {
        Instant now = clock.instant();
        String patient = d.patientKey();
        List<ResourceKey> current = jdbc.query("SELECT res_type, res_id FROM resource_current WHERE patient_key = ?"
                + " AND NOT deleted ORDER BY res_type, res_id", (rs, i) -> new ResourceKey(rs.getString(1), rs.getString(2)),
                patient);
        String facility = jdbc.queryForObject("SELECT facility_id FROM resource_current WHERE res_type = 'Patient' AND res_id = ?",
                String.class, patient);
        // 1. tombstones (the record ledger's entries for the disposal), and the derived rows go with the resources
        store.write(current.stream().map(k -> Write.delete(k, null)).toList(),
                new Authorship(by.kind().code(), by.id(), null, null, facility, "disposal " + d.id() + ": " + d.reason()));
        search.replace(current.stream().map(k -> new SearchIndex.Entry(k, patient, null, false)).toList());
        for (ResourceKey k : current) {
            if (CareRelations.carriesRelations(k.type())) {
                careRelations.replace(k, patient, List.of());
            }
            if (ConsentRestrictions.carriesRestrictions(k.type())) {
                consents.replace(k, patient, List.of());
            }
        }
        // 2. the versions that held content: listed in the register, then removed (the trigger allows only those)
        List<Long> seqs = jdbc.queryForList("SELECT seq FROM resource_version WHERE patient_key = ? AND body IS NOT NULL"
                + " ORDER BY seq", Long.class, patient);
        if (jdbc.queryForObject("SELECT count(*) FROM ledger_pending WHERE log = 1 AND source_seq IN (SELECT seq FROM"
                + " resource_version WHERE patient_key = ? AND body IS NOT NULL)", Integer.class, patient) > 0) {
            throw new DisposalException("some of the patient's versions are not in the record ledger yet; approve again"
                    + " in a moment");
        }
        jdbc.batchUpdate("INSERT INTO disposed_version (seq, disposal_id) VALUES (?, ?)", seqs, 1000, (ps, s) -> {
            ps.setLong(1, s);
            ps.setObject(2, d.id());
        });
        // the application's role may not delete versions: the owner's function removes exactly the listed ones
        Integer removed = jdbc.queryForObject("SELECT kiroku_dispose_versions(?)", Integer.class, d.id());
        if (removed == null || removed != seqs.size()) {
            throw new IllegalStateException("disposal " + d.id() + " removed " + removed + " versions, not " + seqs.size());
        }
        String sha = sha256(seqs);
        // 3. the key: whatever copy of the content remains anywhere no longer opens
        String owner = DataKeys.patient(patient);
        String keyId = jdbc.query("SELECT key_id FROM data_key WHERE owner = ?", (rs, i) -> rs.getString(1), owner).stream()
                .findFirst().orElse(null);
        keys.destroy(owner, name(by));
        jdbc.update("UPDATE disposal SET approved_by = ?, approved_at = ?, executed_at = ?, key_owner = ?, key_id = ?::uuid,"
                + " resources = ?, versions = ?, versions_sha256 = ? WHERE id = ?", name(by), Timestamp.from(now),
                Timestamp.from(now), owner, keyId, current.size(), seqs.size(), sha, d.id());
        audit.record(AuditRecord.of(by, "disposal.execute", AuditRecord.Outcome.SUCCESS)
                .on("Patient", patient, null, patient)
                .withDetail("disposal=" + d.id() + " resources=" + current.size() + " versions=" + seqs.size()
                        + " versions_sha256=" + sha + " key=" + keyId));
        jdbc.update("UPDATE disposal SET certificate = ? WHERE id = ?", certificate(get(d.id()).orElseThrow()), d.id());
    }

    /** The certificate, with the checks made after the disposal (in its transaction: what the commit makes true). */
    private String certificate(Disposal d) {
        String patient = d.patientKey();
        Map<String, Object> checks = new LinkedHashMap<>();
        checks.put("dataKeyDestroyed", Boolean.TRUE.equals(jdbc.queryForObject("SELECT wrapped IS NULL AND destroyed_at IS NOT NULL"
                + " FROM data_key WHERE owner = ?", Boolean.class, d.keyOwner())));
        checks.put("recordsLeft", jdbc.queryForObject("SELECT count(*) FROM resource_current WHERE patient_key = ? AND NOT deleted",
                Integer.class, patient));
        checks.put("versionsWithContentLeft", jdbc.queryForObject("SELECT count(*) FROM resource_version WHERE patient_key = ?"
                + " AND body IS NOT NULL", Integer.class, patient));
        int indexRows = 0;
        for (String table : List.of("search_token", "search_string", "search_date", "search_reference", "search_number",
                "search_quantity", "search_uri", "search_composite")) {
            indexRows += jdbc.queryForObject("SELECT count(*) FROM " + table + " WHERE patient_key = ?", Integer.class, patient);
        }
        checks.put("indexRowsLeft", indexRows);
        boolean passed = Boolean.TRUE.equals(checks.get("dataKeyDestroyed")) && (Integer) checks.get("recordsLeft") == 0
                && (Integer) checks.get("versionsWithContentLeft") == 0 && indexRows == 0;
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("certificate", "Kiroku disposal certificate / 廃棄証明書");
        c.put("disposal", d.id().toString());
        c.put("what", Map.of("patient", "Patient/" + patient, "resources", d.resources(), "versionsRemoved", d.versions(),
                "versionsSha256", d.versionsSha256()));
        c.put("reason", d.reason());
        c.put("requestedBy", d.requestedBy());
        c.put("requestedAt", d.requestedAt().toString());
        c.put("approvedBy", d.approvedBy());
        c.put("executedAt", d.executedAt().toString());
        c.put("keysDestroyed", List.of(Map.of("owner", d.keyOwner(), "keyId", String.valueOf(d.keyId()))));
        c.put("verification", Map.of("passed", passed, "checks", checks));
        c.put("noCopyOfTheKeyAfter", d.executedAt().plus(keyBackupRetention).toString());
        c.put("noCopyOfTheKeyAfterNote", "the last key-store backup that can hold the destroyed key expires then"
                + " (kiroku.key-backup-retention); a restore never revives a key listed as destroyed");
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(c);
    }

    /**
     * Checks the disposal register against the access ledger: for every executed disposal, the versions listed match
     * the hash in its disposal record and in its audit event (which the access ledger protects). What is wrong, if
     * anything: a row removed and listed in the register without a matching, ledgered disposal shows here.
     */
    public List<String> registerProblems() {
        List<String> problems = new ArrayList<>();
        Map<UUID, List<Long>> listed = new LinkedHashMap<>();
        jdbc.query("SELECT disposal_id, seq FROM disposed_version ORDER BY disposal_id, seq", rs -> {
            listed.computeIfAbsent(rs.getObject(1, UUID.class), k -> new ArrayList<>()).add(rs.getLong(2));
        });
        for (var e : listed.entrySet()) {
            Optional<Disposal> d = get(e.getKey());
            String sha = sha256(e.getValue());
            if (d.isEmpty() || d.get().executedAt() == null || !sha.equals(d.get().versionsSha256())) {
                problems.add("disposal register: " + e.getValue().size() + " versions listed under " + e.getKey()
                        + " do not match an executed disposal");
                continue;
            }
            Integer events = jdbc.queryForObject("SELECT count(*) FROM audit_log WHERE action = 'disposal.execute' AND detail"
                    + " LIKE ?", Integer.class, "disposal=" + e.getKey() + " %versions_sha256=" + sha + " %");
            if (events == 0) {
                problems.add("disposal register: disposal " + e.getKey() + " has no access-log event with its versions' hash");
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

    private static final RowMapper<Disposal> ROW = (ResultSet rs, int i) -> new Disposal(rs.getObject("id", UUID.class),
            rs.getString("patient_key"), rs.getString("reason"), rs.getString("requested_by"), instant(rs, "requested_at"),
            rs.getString("approved_by"), instant(rs, "approved_at"), rs.getString("refused_by"), instant(rs, "refused_at"),
            instant(rs, "executed_at"), rs.getString("key_owner"), rs.getString("key_id"), (Integer) rs.getObject("resources"),
            (Integer) rs.getObject("versions"), rs.getString("versions_sha256"), rs.getString("certificate"));

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        Timestamp t = rs.getTimestamp(column);
        return t == null ? null : t.toInstant();
    }
}
