package jp.kiroku.render;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.ledger.Checkpoint;
import jp.kiroku.ledger.Ledgers;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.store.Placement;
import jp.kiroku.store.RecordStore;
import jp.kiroku.store.ResourceKey;

/**
 * Chart printouts and disclosure exports for operators (READ-01): gathers a patient's records — every version of the
 * whole chart, or the versions recorded in a period, or one resource — with who entered and confirmed each version (one
 * query for all of them), signs a record-ledger checkpoint that covers them, lays them out with {@link ChartPdf}, and
 * audits the printout with every patient and version it holds ({@code print}; a disclosure is an {@code export}).
 * Nothing is filtered by access rights here: the local operator prints everything, as a system administrator would
 * from the database. The web pages gather under the signed-in person's rights ({@link RecordStore#patientVersions}
 * filtered by their view), make the printout with {@link #printout}, lay it out with {@link ChartPdf} and audit it.
 */
@Service
public class Charts {

    private static final Logger log = LoggerFactory.getLogger(Charts.class);
    private static final String RECORD_LOG = "kiroku/record";
    /** The access category JP-CLINS UNINFORMED records are put in (V11), and the label itself. */
    private static final String UNDISCLOSED_CATEGORY = "undisclosed";
    private static final String UNINFORMED = "UNINFORMED";

    /** A printout: the PDF and how many versions it holds. */
    public record Printed(byte[] pdf, int versions) {
    }

    /**
     * A disclosure to the patient: the PDF, the same records as a FHIR {@code collection} Bundle (JSON), how many
     * records are in it and how many were withheld.
     */
    public record Disclosure(byte[] pdf, String bundle, int records, int withheld) {
    }

    private final RecordStore store;
    private final Ledgers ledgers;
    private final AuditTrail audit;
    private final FhirContext ctx;
    private final Clock clock;
    private final ZoneId zone;

    Charts(RecordStore store, Ledgers ledgers, AuditTrail audit, FhirContext ctx, Clock clock, KirokuProperties props) {
        this.store = store;
        this.ledgers = ledgers;
        this.audit = audit;
        this.ctx = ctx;
        this.clock = clock;
        this.zone = props.getTimeZone();
    }

    /**
     * A patient's chart: every version of every record of theirs, or ({@code from}/{@code to}, either may be null,
     * both inclusive days in kiroku.time-zone) the versions <em>recorded</em> in that period (their lastUpdated: what
     * was written when, which every resource type has, unlike clinical dates). An {@link IllegalArgumentException} for
     * no such patient or a period that ends before it starts.
     */
    public Printed chart(String patientId, LocalDate from, LocalDate to, Agent agent) {
        if (from != null && to != null && to.isBefore(from)) {
            throw new IllegalArgumentException("the period ends (" + to + ") before it starts (" + from + ")");
        }
        ChartPrint.Person person = person(patientId, agent, "print");
        Instant start = from == null ? null : from.atStartOfDay(zone).toInstant();
        Instant end = to == null ? null : to.plusDays(1).atStartOfDay(zone).toInstant();
        List<RecordStore.AuthoredVersion> versions = store.patientVersions(patientId, start, end, false);
        String scope = from == null && to == null ? "全記録・全版 (the whole chart, every version)"
                : "記録日時 (recorded) " + (from == null ? "" : from) + " 〜 " + (to == null ? "" : to)
                + " (" + zone.getId() + ")";
        byte[] pdf = print(ChartPrint.Purpose.CHART, person, scope, versions, 0, agent);
        audited(agent, "print", "chart" + (from == null && to == null ? "" : " period") + " versions=" + versions.size(),
                versions, patientId);
        return new Printed(pdf, versions.size());
    }

    /**
     * One resource: its current version, or ({@code allVersions}) every version it has had, deletions included. An
     * {@link IllegalArgumentException} for no such resource.
     */
    public Printed resource(ResourceKey key, boolean allVersions, Agent agent) {
        List<RecordStore.AuthoredVersion> versions = store.versions(key);
        if (versions.isEmpty()) {
            audit.record(AuditRecord.of(agent, "print", AuditRecord.Outcome.FAILED).on(key.type(), key.id(), null, null)
                    .withDetail("resource not found"));
            throw new IllegalArgumentException("no resource " + key.type() + "/" + key.id());
        }
        if (!allVersions) {
            versions = versions.subList(versions.size() - 1, versions.size());
        }
        String patientKey = versions.get(versions.size() - 1).version().patientKey();
        ChartPrint.Person person = patientKey == null ? null : patient(patientKey).orElse(null);
        String scope = key.type() + "/" + key.id() + (allVersions ? " 全版 (every version)" : " 最新版 (current version)");
        byte[] pdf = print(ChartPrint.Purpose.CHART, person, scope, versions, 0, agent);
        audited(agent, "print", "resource" + (allVersions ? " all-versions" : "") + " versions=" + versions.size(),
                versions, patientKey);
        return new Printed(pdf, versions.size());
    }

    /**
     * What a patient receives on request (診療情報開示): the current version of each of their records, as a PDF and a
     * FHIR Bundle, without the records not yet told to them (JP-CLINS UNINFORMED, the {@code undisclosed} category),
     * whose number alone the PDF states. Deleted records are not disclosed. An {@link IllegalArgumentException} for no
     * such patient.
     */
    public Disclosure disclosure(String patientId, Agent agent) {
        ChartPrint.Person person = person(patientId, agent, "export");
        List<RecordStore.AuthoredVersion> current = store.patientVersions(patientId, null, null, true);
        Map<ResourceKey, Placement> placements = store.placements(current.stream()
                .map(v -> new ResourceKey(v.version().type(), v.version().id())).toList());
        IParser parser = ctx.newJsonParser();
        List<RecordStore.AuthoredVersion> disclosed = new ArrayList<>();
        Bundle bundle = new Bundle().setType(Bundle.BundleType.COLLECTION);
        bundle.setTimestamp(java.util.Date.from(clock.instant()));
        int withheld = 0;
        for (RecordStore.AuthoredVersion v : current) {
            if (v.version().deleted() || v.version().body() == null) {
                continue;
            }
            Resource r = (Resource) parser.parseResource(new String(v.version().body(), StandardCharsets.UTF_8));
            if (undisclosed(placements.get(new ResourceKey(v.version().type(), v.version().id()))) || labelledUninformed(r)) {
                withheld++;
                continue;
            }
            disclosed.add(v);
            bundle.addEntry().setResource(r);
        }
        byte[] pdf = print(ChartPrint.Purpose.DISCLOSURE, person, "開示時点の最新版 (current versions at disclosure)",
                disclosed, withheld, agent);
        audited(agent, "export", "disclosure records=" + disclosed.size() + " withheld=" + withheld, disclosed, patientId);
        return new Disclosure(pdf, parser.setPrettyPrint(true).encodeResourceToString(bundle), disclosed.size(), withheld);
    }

    /** The patient as printed on every page; a failed, audited {@link IllegalArgumentException} when there is none. */
    private ChartPrint.Person person(String patientId, Agent agent, String action) {
        ChartPrint.Person p = patient(patientId).orElse(null);
        if (p == null) {
            audit.record(AuditRecord.of(agent, action, AuditRecord.Outcome.FAILED).on("Patient", patientId, null, null)
                    .withDetail("patient not found"));
            throw new IllegalArgumentException("no patient " + patientId);
        }
        return p;
    }

    /** A patient as every page identifies them, from their current Patient resource; empty when there is none. */
    public java.util.Optional<ChartPrint.Person> patient(String patientId) {
        return store.current(new ResourceKey("Patient", patientId)).filter(v -> !v.deleted() && v.body() != null)
                .map(v -> FhirText.person(patientId, ctx.newJsonParser().parseResource(Patient.class,
                        new String(v.body(), StandardCharsets.UTF_8))));
    }

    /** Whether a resource is (now) in the category of records not yet told to the patient. */
    private static boolean undisclosed(Placement p) {
        return p != null && UNDISCLOSED_CATEGORY.equals(p.category());
    }

    private static boolean labelledUninformed(Resource r) {
        return r.getMeta().getSecurity().stream().map(Coding::getCode).anyMatch(UNINFORMED::equals);
    }

    private byte[] print(ChartPrint.Purpose purpose, ChartPrint.Person person, String scope,
                         List<RecordStore.AuthoredVersion> versions, int withheld, Agent agent) {
        long started = System.nanoTime();
        ChartPrint print = printout(purpose, person, scope, versions, withheld, agent);
        long gathered = System.nanoTime();
        byte[] pdf = ChartPdf.pdf(print);
        log.debug("Printout of {} versions: checkpoint, ledger indexes and parsing {} ms, layout {} ms ({} bytes)",
                versions.size(), (gathered - started) / 1_000_000, (System.nanoTime() - gathered) / 1_000_000, pdf.length);
        return pdf;
    }

    /**
     * What {@link ChartPdf} lays out, from versions someone has read (for the web pages: already filtered by what the
     * signed-in person may see): each parsed, with its record status, its leaf index, and whether the patient has not
     * been told of it; the patient first, then by type and id, each resource's versions oldest first (as its history
     * reads); and the record-ledger checkpoint, signed now if the ledger grew, so that it covers them. Not audited:
     * whoever prints it audits what was printed ({@code print}, or {@code export}, with every version).
     */
    public ChartPrint printout(ChartPrint.Purpose purpose, ChartPrint.Person patient, String scope,
                               List<RecordStore.AuthoredVersion> versions, int withheld, Agent printedBy) {
        ChartPrint.LedgerCheckpoint checkpoint = checkpoint(); // after the versions were read: it covers them
        Map<Long, Long> indexes = ledgers.leafIndexes(RECORD_LOG, versions.stream().map(RecordStore.AuthoredVersion::seq).toList());
        Map<ResourceKey, Placement> placements = store.placements(versions.stream()
                .map(v -> new ResourceKey(v.version().type(), v.version().id())).distinct().toList());
        IParser parser = ctx.newJsonParser();
        List<ChartPrint.Entry> entries = new ArrayList<>(versions.size());
        for (RecordStore.AuthoredVersion v : versions) {
            var sv = v.version();
            var a = v.authored();
            Resource r = sv.deleted() || sv.body() == null ? null
                    : (Resource) parser.parseResource(new String(sv.body(), StandardCharsets.UTF_8));
            ChartPrint.Status status = a.confirmedBy() != null ? ChartPrint.Status.CONFIRMED
                    : a.onBehalfOf() != null ? ChartPrint.Status.UNAPPROVED : ChartPrint.Status.DRAFT;
            entries.add(new ChartPrint.Entry(sv.type(), sv.id(), sv.versionId(), sv.lastUpdated(), r, status,
                    a.authorKind(), a.authorId(), a.onBehalfOf(), a.confirmedBy(), a.confirmedAt(), indexes.get(v.seq()),
                    (r != null && labelledUninformed(r)) || undisclosed(placements.get(new ResourceKey(sv.type(), sv.id())))));
        }
        entries.sort(Comparator.comparing((ChartPrint.Entry e) -> !e.type().equals("Patient"))
                .thenComparing(ChartPrint.Entry::type).thenComparing(ChartPrint.Entry::id)
                .thenComparingInt(ChartPrint.Entry::version));
        return new ChartPrint(purpose, patient, scope, entries, withheld, checkpoint,
                printedBy.id() + " (" + printedBy.kind().code() + ")", clock.instant(), zone);
    }

    /**
     * The record ledger's checkpoint, signed now if it grew (after sequencing what is queued); null, with a warning,
     * when none can be signed (the clock is not trusted): the printout is still needed for care.
     */
    private ChartPrint.LedgerCheckpoint checkpoint() {
        try {
            Checkpoint c = ledgers.checkpoint(ledgers.checkpointNow().get(RECORD_LOG));
            return new ChartPrint.LedgerCheckpoint(c.origin(), c.size(), c.rootHash(), c.timestamp());
        } catch (IllegalStateException e) {
            log.warn("Printing without a ledger checkpoint: {}", e.getMessage());
            return null;
        }
    }

    private void audited(Agent agent, String action, String detail, List<RecordStore.AuthoredVersion> versions,
                         String patient) {
        List<AuditRecord.Touched> touched = new ArrayList<>();
        for (RecordStore.AuthoredVersion v : versions) {
            touched.add(new AuditRecord.Touched(v.version().type(), v.version().id(), v.version().versionId(),
                    v.version().patientKey() == null ? patient : v.version().patientKey()));
        }
        if (touched.isEmpty() && patient != null) {
            touched.add(new AuditRecord.Touched("Patient", patient, null, patient));
        }
        audit.record(AuditRecord.of(agent, action, AuditRecord.Outcome.SUCCESS).onAll(touched).withDetail(detail));
    }
}
