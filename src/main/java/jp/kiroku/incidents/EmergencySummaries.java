package jp.kiroku.incidents;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.stereotype.Service;

import ca.uhn.fhir.context.FhirContext;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.store.RecordStore;
import jp.kiroku.store.ResourceKey;

/**
 * Emergency summaries for paper-based care (BCP-02): per patient — identity, allergies, active medications, active
 * problems, the newest results — and per ward, one section per current inpatient, as a Japanese PDF; and the downtime
 * export of the same for a standalone viewer ({@link DowntimeFile}). Every summary printed or exported is an access to
 * the records in it and is audited with each patient and resource version. Records not yet told to the patient
 * (JP-CLINS UNINFORMED) are printed, marked so, because the staff caring for the patient must know them; consent
 * restrictions do not hide records here — an emergency summary is an emergency use, like break-glass.
 */
@Service
public class EmergencySummaries {

    /** A downtime export: the sealed file, and how many patients it holds. */
    public record Export(byte[] file, int patients) {
    }

    private final SummaryReader reader;
    private final RecordStore store;
    private final AuditTrail audit;
    private final FhirContext ctx;
    private final Clock clock;
    private final DateTimeFormatter printTime;

    EmergencySummaries(SummaryReader reader, RecordStore store, AuditTrail audit, FhirContext ctx, Clock clock,
                       KirokuProperties props) {
        this.reader = reader;
        this.store = store;
        this.audit = audit;
        this.ctx = ctx;
        this.clock = clock;
        this.printTime = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z").withZone(props.getTimeZone());
    }

    /** One patient's summary as a PDF; an {@link IllegalArgumentException} when there is no such patient (audited). */
    public byte[] patient(String patientId, Agent agent) {
        Summary s = reader.summary(patientId, null).orElseThrow(() -> refused(agent, "Patient", patientId,
                "no patient " + patientId));
        byte[] pdf = SummaryPages.pdf("患者 " + patientId, printTime.format(clock.instant()), List.of(s));
        printed(agent, "print", "emergency-summary patient", List.of(s));
        return pdf;
    }

    /** A ward's summaries (its current inpatients) as one PDF; an {@link IllegalArgumentException} for no such ward. */
    public byte[] ward(String locationId, Agent agent) {
        String name = reader.locationName(locationId).orElseThrow(() -> refused(agent, "Location", locationId,
                "no ward (Location) " + locationId));
        List<Summary> summaries = summaries(reader.inpatients(locationId));
        byte[] pdf = SummaryPages.pdf(name, printTime.format(clock.instant()), summaries);
        printed(agent, "print", "emergency-summary ward=Location/" + locationId, summaries);
        return pdf;
    }

    /**
     * The downtime export of a ward's current inpatients ({@code ward} null: of every current inpatient), sealed under
     * the passphrase; an {@link IllegalArgumentException} for no such ward.
     */
    public Export downtimeExport(String ward, char[] passphrase, Agent agent) {
        String scope = ward == null ? "全入院患者 (all inpatients)" : reader.locationName(ward).orElseThrow(() -> refused(agent,
                "Location", ward, "no ward (Location) " + ward));
        Instant now = clock.instant();
        List<Summary> summaries = summaries(reader.inpatients(ward));
        List<DowntimeFile.Entry> entries = new ArrayList<>();
        for (Summary s : summaries) {
            Summary.Identity p = s.patient();
            entries.add(new DowntimeFile.Entry(p.id(), p.kanji(), p.kana(), p.birthDate(), p.sex(), s.bed(),
                    s.text(printTime.format(now)), SummaryPages.pdf(scope, printTime.format(now), List.of(s)), bundle(s)));
        }
        byte[] file = DowntimeFile.seal(new DowntimeFile.Contents(now, scope, entries), passphrase);
        printed(agent, "export", "downtime-export" + (ward == null ? "" : " ward=Location/" + ward), summaries);
        return new Export(file, entries.size());
    }

    private List<Summary> summaries(List<SummaryReader.Inpatient> inpatients) {
        List<Summary> out = new ArrayList<>();
        for (SummaryReader.Inpatient i : inpatients) {
            reader.summary(i.patientId(), i.bed()).ifPresent(out::add);
        }
        return out;
    }

    /** The summary's resources as they are stored (a collection Bundle), for a viewer that wants more than the text. */
    private String bundle(Summary s) {
        List<ResourceKey> keys = new ArrayList<>(List.of(new ResourceKey("Patient", s.patient().id())));
        s.items().forEach(i -> keys.add(new ResourceKey(i.type(), i.id())));
        Bundle b = new Bundle().setType(Bundle.BundleType.COLLECTION);
        var parser = ctx.newJsonParser();
        store.currentAll(keys).stream().filter(v -> v.body() != null).forEach(v -> b.addEntry()
                .setFullUrl(v.type() + "/" + v.id())
                .setResource((Resource) parser.parseResource(new String(v.body(), StandardCharsets.UTF_8))));
        return parser.encodeResourceToString(b);
    }

    private void printed(Agent agent, String action, String detail, List<Summary> summaries) {
        List<AuditRecord.Touched> touched = new ArrayList<>();
        for (Summary s : summaries) {
            String patient = s.patient().id();
            touched.add(new AuditRecord.Touched("Patient", patient, s.patient().version(), patient));
            s.items().forEach(i -> touched.add(new AuditRecord.Touched(i.type(), i.id(), i.version(), patient)));
        }
        audit.record(AuditRecord.of(agent, action, AuditRecord.Outcome.SUCCESS).onAll(touched)
                .withDetail(detail + " patients=" + summaries.size()));
    }

    private IllegalArgumentException refused(Agent agent, String type, String id, String message) {
        audit.record(AuditRecord.of(agent, "print", AuditRecord.Outcome.FAILED).on(type, id, null, null)
                .withDetail("emergency-summary not found"));
        return new IllegalArgumentException(message);
    }
}
