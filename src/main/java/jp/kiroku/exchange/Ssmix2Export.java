package jp.kiroku.exchange;

import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.Specimen;
import org.springframework.stereotype.Component;

import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import jp.kiroku.audit.Agent;
import jp.kiroku.fhir.Interactions;
import jp.kiroku.identity.Caller;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.platform.SecretFiles;

/**
 * Writes an SS-MIX2 standardized storage (SHARE-03) of patients' current records, the inverse of {@link Ssmix2Import}:
 * ADT-00 from the Patient, PPR-01 from the Conditions, OMP-01 from the MedicationRequests (one file per order), OML-11
 * from the Observations with a JLAC10 code (one file per specimen, with its Specimen). Each patient's records are read
 * by {@link Interactions#export} as the local operator, which checks and audits the reading as an {@code export} of
 * that patient. The storage's patient id is the Patient's identifier of the institution
 * ({@code urn:oid:1.2.392.100495.20.3.51.1<institution>}); a Patient without one is reported and skipped. Files and
 * folders are created owner-only.
 */
@Component
public class Ssmix2Export {

    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmssSSS");
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyyMMdd");
    private static final String INSTANCE_ID = "http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier";
    /** Windows (CP932) forms of characters that ISO-2022-JP (JIS X 0208) has in their standard form. */
    private static final Map<Character, Character> JIS_FORMS = Map.of('\uFF0D', '\u2212', '\uFF5E', '\u301C',
            '\u2225', '\u2016', '\uFFE0', '\u00A2', '\uFFE1', '\u00A3', '\uFFE2', '\u00AC');

    /**
     * {@code institution}: the 10-digit medical institution number whose patient ids the storage holds;
     * {@code encoding}: ISO-2022-JP (the SS-MIX2 default) or UTF-8.
     */
    public record Options(String institution, Charset encoding) {
        public Options {
            if (institution == null || !institution.matches("[0-9]{10}")) {
                throw new IllegalArgumentException("the institution number must be 10 digits (医療機関コード: prefecture 2, "
                        + "kind 1, number 7), not " + institution);
            }
            if (encoding == null) {
                encoding = Charset.forName("ISO-2022-JP");
            }
            if (!encoding.name().equals("ISO-2022-JP") && !encoding.equals(StandardCharsets.UTF_8)) {
                throw new IllegalArgumentException("the encoding must be ISO-2022-JP (the SS-MIX2 default) or UTF-8, not "
                        + encoding.name());
            }
        }
    }

    /** What was written: the files (relative to the root) per data type, and the patients and messages left out. */
    public record Result(Map<String, Integer> files, List<String> written, List<String> skipped) {
        public String text() {
            StringBuilder b = new StringBuilder();
            b.append("SS-MIX2 export: ").append(written.size()).append(" file(s)\n");
            files.forEach((type, n) -> b.append(String.format("  %-7s %5d%n", type, n)));
            if (!skipped.isEmpty()) {
                b.append(skipped.size()).append(" left out:\n");
                skipped.forEach(s -> b.append("  ").append(s).append('\n'));
            }
            return b.toString();
        }
    }

    private final Interactions fhir;
    private final KirokuProperties props;

    Ssmix2Export(Interactions fhir, KirokuProperties props) {
        this.fhir = fhir;
        this.props = props;
    }

    /**
     * Exports the patients (Patient resource ids; null: every Patient) into {@code root}. Named patients are all read
     * before anything is written, so an unknown one is an error (IllegalArgumentException) with nothing written.
     */
    public Result run(List<String> patientIds, Options options, Path root) {
        Caller operator = new Caller(Agent.localOperator(), List.of("system/*.cruds"));
        Run run = new Run(options, root);
        if (patientIds == null) {
            for (String id : allPatients(operator)) {
                run.patient(gather(operator, id));
            }
        } else {
            List<Data> all = new ArrayList<>();
            for (String id : patientIds) {
                all.add(gather(operator, id));
            }
            all.forEach(run::patient);
        }
        return new Result(new TreeMap<>(run.counts), List.copyOf(run.written), List.copyOf(run.skipped));
    }

    /** Every Patient's id (a search, paged). */
    private List<String> allPatients(Caller operator) {
        List<String> ids = new ArrayList<>();
        Map<String, List<String>> params = new HashMap<>(Map.of("_count", List.of("1000")));
        while (params != null) {
            Bundle page = fhir.search(operator, "Patient", params);
            page.getEntry().stream().map(Bundle.BundleEntryComponent::getResource).filter(Patient.class::isInstance)
                    .forEach(r -> ids.add(r.getIdElement().getIdPart()));
            params = next(page);
        }
        return ids;
    }

    /** The query of a Bundle's next link, or null on the last page. */
    private static Map<String, List<String>> next(Bundle page) {
        Bundle.BundleLinkComponent link = page.getLink(Bundle.LINK_NEXT);
        if (link == null || !link.hasUrl() || link.getUrl().indexOf('?') < 0) {
            return null;
        }
        Map<String, List<String>> params = new HashMap<>();
        for (String pair : link.getUrl().substring(link.getUrl().indexOf('?') + 1).split("&")) {
            String[] kv = pair.split("=", 2);
            params.computeIfAbsent(java.net.URLDecoder.decode(kv[0], StandardCharsets.UTF_8), k -> new ArrayList<>())
                    .add(kv.length < 2 ? "" : java.net.URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
        }
        return params;
    }

    /** A patient's current records, read (and audited) as an export. */
    private Data gather(Caller operator, String patientId) {
        Data data = new Data();
        Map<String, List<String>> params = new HashMap<>(Map.of("_count", List.of("1000")));
        try {
            while (params != null) {
                Bundle page = fhir.export(operator, patientId, params);
                for (Bundle.BundleEntryComponent e : page.getEntry()) {
                    Resource r = e.getResource();
                    if (r instanceof Patient p && p.getIdElement().getIdPart().equals(patientId)) {
                        data.patient = p;
                    } else if (r != null) {
                        data.others.add(r);
                    }
                }
                params = next(page);
            }
        } catch (ResourceNotFoundException e) {
            throw new IllegalArgumentException("no patient " + patientId + " (give Patient resource ids)");
        }
        if (data.patient == null) {
            throw new IllegalArgumentException("no patient " + patientId + " (give Patient resource ids)");
        }
        return data;
    }

    private static final class Data {
        Patient patient;
        final List<Resource> others = new ArrayList<>();

        <T extends Resource> List<T> of(Class<T> type) {
            return others.stream().filter(type::isInstance).map(type::cast).toList();
        }
    }

    /** One export: where, how, and what was written and left out. */
    private final class Run {
        final Options options;
        final Path root;
        final ZoneId zone = props.getTimeZone();
        final Ssmix2Writer writer;
        final String system;
        final Map<String, Integer> counts = new HashMap<>();
        final List<String> written = new ArrayList<>();
        final List<String> skipped = new ArrayList<>();
        final Instant now = Instant.now();

        Run(Options options, Path root) {
            this.options = options;
            this.root = root;
            this.system = CodeSystems.PATIENT_ID_PREFIX + options.institution();
            this.writer = new Ssmix2Writer(options.institution(), zone,
                    options.encoding().equals(StandardCharsets.UTF_8) ? "UNICODE UTF-8" : "~ISO IR87");
        }

        void patient(Data data) {
            Patient p = data.patient;
            String patientRef = "Patient/" + p.getIdElement().getIdPart();
            String ssmixId = p.getIdentifier().stream().filter(i -> system.equals(i.getSystem()) && i.hasValue())
                    .map(Identifier::getValue).findFirst().orElse(null);
            if (ssmixId == null) {
                skipped.add(patientRef + "\tno identifier " + system + " (this institution's patient id)");
                return;
            }
            if (ssmixId.length() < 6 || !ssmixId.matches("[0-9A-Za-z-]+")) {
                skipped.add(patientRef + "\tpatient id " + ssmixId + " cannot name SS-MIX2 folders (6 or more letters "
                        + "and digits)");
                return;
            }
            write(patientRef, ssmixId, "-", "ADT-00", "-", updated(p), () -> writer.adt(p, ssmixId, updated(p)));

            List<Condition> conditions = data.of(Condition.class).stream().filter(Ssmix2Export::current)
                    .filter(c -> c.getCode().hasCoding() || c.getCode().hasText()).toList();
            if (!conditions.isEmpty()) {
                Instant at = newest(conditions);
                write(patientRef, ssmixId, "-", "PPR-01", "-", at, () -> writer.problems(p, ssmixId, conditions, at));
            }

            Map<String, List<MedicationRequest>> orders = new TreeMap<>();
            data.of(MedicationRequest.class).stream().filter(Ssmix2Export::current)
                    .forEach(r -> orders.computeIfAbsent(orderNumber(r), k -> new ArrayList<>()).add(r));
            orders.forEach((order, requests) -> {
                List<MedicationRequest> sorted = requests.stream().sorted(Comparator.comparing(Ssmix2Export::line)).toList();
                Instant at = newest(sorted);
                MedicationRequest first = sorted.get(0);
                String day = first.hasAuthoredOn() ? day(first.getAuthoredOnElement()) : DAY.format(at.atZone(zone));
                write(patientRef, ssmixId, day, "OMP-01", order, at, () -> writer.prescription(p, ssmixId, order, sorted, at));
            });

            Map<String, Specimen> specimens = new HashMap<>();
            data.of(Specimen.class).forEach(s -> specimens.put("Specimen/" + s.getIdElement().getIdPart(), s));
            Map<String, List<Observation>> results = new LinkedHashMap<>();
            data.of(Observation.class).stream().filter(Ssmix2Export::current)
                    .filter(o -> o.getCode().getCoding().stream().anyMatch(c -> CodeSystems.JLAC10.equals(c.getSystem())))
                    .sorted(Comparator.comparing((Observation o) -> String.valueOf(o.getCode().getCodingFirstRep().getCode()))
                            .thenComparing(o -> o.getIdElement().getIdPart()))
                    .forEach(o -> results.computeIfAbsent(o.hasSpecimen() && specimens.containsKey(o.getSpecimen().getReference())
                            ? o.getSpecimen().getReference() : "Observation/" + o.getIdElement().getIdPart(),
                            k -> new ArrayList<>()).add(o));
            results.forEach((key, observations) -> {
                Specimen specimen = specimens.get(key);
                String order = shortId(key.substring(key.indexOf('/') + 1));
                Instant at = newest(observations);
                Observation first = observations.get(0);
                String day = first.hasEffectiveDateTimeType() ? day(first.getEffectiveDateTimeType())
                        : DAY.format(at.atZone(zone));
                write(patientRef, ssmixId, day, "OML-11", order, at,
                        () -> writer.labResults(p, ssmixId, order, specimen, observations, at));
            });
        }

        /** One file at its place in the layout, owner-only; a message that cannot be built or encoded is reported. */
        void write(String patientRef, String ssmixId, String day, String type, String order, Instant at, Message message) {
            String name = String.join("_", ssmixId, day, type, order, TIMESTAMP.format(at.atZone(zone)), "-", "1");
            String relative = String.join("/", Ssmix2Storage.prefix(ssmixId, 0), Ssmix2Storage.prefix(ssmixId, 3), ssmixId,
                    day, type, name);
            try {
                String built;
                try {
                    built = message.build();
                } catch (RuntimeException e) { // HAPI's word for a value it cannot place: that message is left out
                    throw new Ssmix2Writer.Unwritable("cannot build the HL7 message: " + e.getMessage());
                }
                byte[] bytes = encode(built);
                SecretFiles.write(root.resolve(relative), bytes);
                written.add(relative);
                counts.merge(type, 1, Integer::sum);
            } catch (Ssmix2Writer.Unwritable e) {
                skipped.add(patientRef + " " + type + " " + order + "\t" + e.getMessage());
            }
        }

        private byte[] encode(String text) throws Ssmix2Writer.Unwritable {
            Charset cs = options.encoding();
            if (!cs.equals(StandardCharsets.UTF_8)) {
                StringBuilder b = new StringBuilder(text);
                for (int i = 0; i < b.length(); i++) {
                    Character jis = JIS_FORMS.get(b.charAt(i));
                    if (jis != null) {
                        b.setCharAt(i, jis);
                    }
                }
                text = fullWidthKana(b.toString());
            }
            try {
                var buffer = cs.newEncoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).encode(CharBuffer.wrap(text));
                byte[] bytes = new byte[buffer.remaining()];
                buffer.get(bytes);
                return bytes;
            } catch (CharacterCodingException e) {
                throw new Ssmix2Writer.Unwritable("a character has no " + cs.name() + " form (e.g. a vendor or JIS X 0213 "
                        + "kanji); export with --encoding UTF-8");
            }
        }

        private Instant updated(Resource r) {
            return r.getMeta().hasLastUpdated() ? r.getMeta().getLastUpdated().toInstant() : now;
        }

        private Instant newest(List<? extends Resource> resources) {
            return resources.stream().map(this::updated).max(Comparator.naturalOrder()).orElse(now);
        }

        private String day(BaseDateTimeType t) {
            return writer.ts(t).substring(0, 8);
        }
    }

    /**
     * Half-width katakana (U+FF61-U+FF9F) as full-width: ISO-2022-JP as SS-MIX2 uses it (RFC 1468) has no JIS X 0201
     * katakana, which Java would write with the ESC ( I escape that strict readers refuse.
     */
    static String fullWidthKana(String text) {
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            int j = i;
            while (j < text.length() && text.charAt(j) >= '\uFF61' && text.charAt(j) <= '\uFF9F') {
                j++;
            }
            if (j > i) {
                out.append(java.text.Normalizer.normalize(text.substring(i, j), java.text.Normalizer.Form.NFKC));
                i = j;
            } else {
                out.append(text.charAt(i++));
            }
        }
        return out.toString();
    }

    private interface Message {
        String build() throws Ssmix2Writer.Unwritable;
    }

    /** Records in force: not entered in error, not cancelled. */
    private static boolean current(Resource r) {
        if (r instanceof Condition c) {
            return !"entered-in-error".equals(c.getVerificationStatus().getCodingFirstRep().getCode());
        }
        if (r instanceof MedicationRequest m) {
            return m.getStatus() != MedicationRequest.MedicationRequestStatus.CANCELLED
                    && m.getStatus() != MedicationRequest.MedicationRequestStatus.ENTEREDINERROR;
        }
        if (r instanceof Observation o) {
            return o.getStatus() != Observation.ObservationStatus.CANCELLED
                    && o.getStatus() != Observation.ObservationStatus.ENTEREDINERROR;
        }
        return true;
    }

    /** The order a MedicationRequest belongs to: the SS-MIX2 order it came from, its group, else its own id. */
    private static String orderNumber(MedicationRequest r) {
        for (Identifier i : r.getIdentifier()) {
            if (INSTANCE_ID.equals(i.getSystem()) && i.hasValue() && i.getValue().lastIndexOf('.') > 0) {
                return safe(i.getValue().substring(0, i.getValue().lastIndexOf('.')), r);
            }
        }
        if (r.getGroupIdentifier().hasValue()) {
            return safe(r.getGroupIdentifier().getValue(), r);
        }
        return shortId(r.getIdElement().getIdPart());
    }

    /**
     * An order number from a resource id: the id when it fits HL7's 20-character entity identifiers, else 20 hex digits
     * of its SHA-256 (stable, so an export run again names the same orders).
     */
    static String shortId(String id) {
        if (id.length() <= 20) {
            return id;
        }
        try {
            byte[] sha = java.security.MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(sha).substring(0, 20);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String safe(String order, Resource r) {
        return order.matches("[0-9A-Za-z.-]{1,20}") ? order : shortId(r.getIdElement().getIdPart());
    }

    /** A drug's place in its order (the RP number the import wrote), for the order of the RXE segments. */
    private static int line(MedicationRequest r) {
        for (Identifier i : r.getIdentifier()) {
            if ("urn:oid:1.2.392.100495.20.3.81".equals(i.getSystem()) && i.hasValue() && i.getValue().matches("[0-9]{1,6}")) {
                return Integer.parseInt(i.getValue());
            }
        }
        return Integer.MAX_VALUE;
    }
}
