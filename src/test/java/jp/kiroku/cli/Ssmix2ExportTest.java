package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;

import jp.kiroku.audit.AuditQuery;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.audit.StoredEvent;
import jp.kiroku.exchange.Ssmix2Import;
import jp.kiroku.exchange.Ssmix2Report;
import jp.kiroku.support.ServerTest;

/**
 * SS-MIX2 export (SHARE-03): the fixture storage (src/test/resources/ssmix2) is imported under one institution, its
 * patients exported with {@code kiroku ssmix2 export}, and the exported tree checked — the standardized storage layout
 * and file names, ISO-2022-JP with CR-separated segments, owner-only files, an {@code export} audit event per patient —
 * then imported again under another institution number (new ids) and the FHIR content compared with what the test
 * reads from the fixture files itself (names and kana, birth dates, sex, problem codes, drug codes and doses, JLAC10
 * codes, values, units and flags). A patient without the institution's identifier is left out and reported; an
 * unknown patient and a missing institution are plain CLI errors. ISO-2022-JP gets full-width kana,
 * a character outside JIS X 0208 leaves its message out with a hint to use UTF-8; {@code --all} exports every patient
 * of the institution.
 */
@Tag("SHARE-03")
class Ssmix2ExportTest extends ServerTest {

    static final String SOURCE = "1319999995";
    static final String TARGET = "1319999994";
    static final String PREFIX = "urn:oid:1.2.392.100495.20.3.51.1";
    static final String JLAC10 = "urn:oid:1.2.392.200119.4.504";
    static final String FILE = "([0-9]{3})/([0-9]{3})/([0-9A-Za-z]+)/(-|[0-9]{8})/([A-Z]{3}-[0-9]{2})/"
            + "\\3_\\4_\\5_([^_/]{1,20})_([0-9]{17})_-_1";

    @Autowired
    Ssmix2Import imports;
    @Autowired
    AuditTrail audit;

    /** What the fixture says of one patient, read from its files by this test (not by the importer or exporter). */
    record Expected(List<String> names, String birth, String sex, TreeSet<String> problems, TreeSet<String> drugs,
                    TreeSet<String> results) {
    }

    static String decode(byte[] bytes) {
        for (int i = 0; i + 1 < bytes.length; i++) {
            if (bytes[i] == 0x1B) {
                return new String(bytes, Charset.forName("ISO-2022-JP"));
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            return new String(bytes, Charset.forName("windows-31j"));
        }
    }

    static String[] field(String segment, int n) {
        String[] f = segment.split("\\|", -1);
        return (n < f.length ? f[n] : "").split("\\^", -1);
    }

    static String comp(String segment, int n, int c) {
        String[] f = field(segment, n);
        return c <= f.length ? f[c - 1] : "";
    }

    static Map<String, Expected> expected() throws IOException {
        Map<String, Expected> out = new TreeMap<>();
        for (Map.Entry<String, List<Ssmix2ImportTest.Stored>> p : Ssmix2ImportTest.current(Ssmix2ImportTest.fixture()).entrySet()) {
            Expected e = new Expected(new ArrayList<>(), null, null, new TreeSet<>(), new TreeSet<>(), new TreeSet<>());
            String pid = null;
            for (Ssmix2ImportTest.Stored s : p.getValue()) {
                List<String> segments = List.of(decode(Files.readAllBytes(Ssmix2ImportTest.FIXTURE.resolve(s.relative())))
                        .split("\r"));
                if (pid == null || s.type().equals("ADT-00")) {
                    pid = segments.stream().filter(x -> x.startsWith("PID|")).findFirst().orElseThrow();
                }
                for (String seg : segments) {
                    if (seg.startsWith("PRB|")) {
                        e.problems().add("MDCDX2|" + comp(seg, 3, 1));
                        if (!comp(seg, 10, 1).isEmpty()) {
                            e.problems().add("I10|" + comp(seg, 10, 1));
                        }
                    } else if (seg.startsWith("RXE|")) {
                        e.drugs().add(comp(seg, 2, 1) + " " + comp(seg, 3, 1) + " " + comp(seg, 5, 2));
                    } else if (seg.startsWith("OBX|")) {
                        e.results().add(comp(seg, 3, 1) + " " + comp(seg, 5, 1) + " " + comp(seg, 6, 2) + " " + comp(seg, 8, 1));
                    }
                }
            }
            List<String> names = new ArrayList<>();
            for (String rep : pid.split("\\|", -1)[5].split("~")) {
                String[] c = rep.split("\\^", -1);
                names.add(c[0] + " " + c[1] + " " + c[7]);
            }
            String birth = comp(pid, 7, 1);
            out.put(p.getKey(), new Expected(names, birth.substring(0, 4) + "-" + birth.substring(4, 6) + "-" + birth.substring(6),
                    comp(pid, 8, 1), e.problems(), e.drugs(), e.results()));
        }
        return out;
    }

    /**
     * As ISO-2022-JP carries it: JIS X 0208 has one minus sign, so a full-width hyphen-minus (U+FF0D, Windows' form)
     * comes back as U+2212.
     */
    static Expected jis(Expected e) {
        TreeSet<String> results = new TreeSet<>();
        e.results().forEach(r -> results.add(r.replace('\uFF0D', '\u2212')));
        return new Expected(e.names(), e.birth(), e.sex(), e.problems(), e.drugs(), results);
    }

    private <T extends Resource> List<T> found(String query, Class<T> type) {
        var r = admin.get(query + (query.contains("?") ? "&" : "?") + "_count=100");
        assertThat(r.status()).as(query + ": " + r.body()).isEqualTo(200);
        return r.as(Bundle.class).getEntry().stream().map(Bundle.BundleEntryComponent::getResource).filter(type::isInstance)
                .map(type::cast).toList();
    }

    private Patient patient(String institution, String ssmixId) {
        List<Patient> p = found("Patient?identifier=" + URLEncoder.encode(PREFIX + institution + "|" + ssmixId,
                StandardCharsets.UTF_8), Patient.class);
        assertThat(p).as("Patient " + ssmixId + " of " + institution).hasSize(1);
        return p.get(0);
    }

    /** The same facts as {@link #expected}, from the FHIR resources stored for the patient. */
    private Expected actual(Patient p) {
        String pid = p.getIdElement().getIdPart();
        List<String> names = p.getName().stream().map(n -> n.getFamily() + " " + n.getGivenAsSingleString() + " "
                + switch (n.getExtensionString("http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation")) {
                    case "IDE" -> "I";
                    case "SYL" -> "P";
                    default -> "?";
                }).toList();
        TreeSet<String> problems = new TreeSet<>();
        for (Condition c : found("Condition?subject=Patient/" + pid, Condition.class)) {
            c.getCode().getCoding().forEach(x -> problems.add((x.getSystem().endsWith("icd-10") ? "I10|" : "MDCDX2|") + x.getCode()));
        }
        TreeSet<String> drugs = new TreeSet<>();
        for (MedicationRequest r : found("MedicationRequest?subject=Patient/" + pid, MedicationRequest.class)) {
            Quantity dose = r.getDosageInstructionFirstRep().getDoseAndRateFirstRep().getDoseQuantity();
            drugs.add(r.getMedicationCodeableConcept().getCoding().stream().filter(x -> x.getSystem().equals("urn:oid:1.2.392.200119.4.403.1"))
                    .findFirst().orElseThrow().getCode() + " " + dose.getValue().toPlainString() + " " + dose.getUnit());
        }
        TreeSet<String> results = new TreeSet<>();
        for (Observation o : found("Observation?subject=Patient/" + pid, Observation.class)) {
            String code = o.getCode().getCoding().stream().filter(x -> JLAC10.equals(x.getSystem())).findFirst().orElseThrow().getCode();
            String value = o.getValue() instanceof Quantity q ? q.getValue().toPlainString() + " " + q.getUnit()
                    : o.getValue().primitiveValue() + " ";
            results.add(code + " " + value + " " + o.getInterpretationFirstRep().getCodingFirstRep().getCode());
        }
        String sex = switch (p.getGender()) {
            case MALE -> "M";
            case FEMALE -> "F";
            default -> "?";
        };
        return new Expected(names, p.getBirthDateElement().getValueAsString(), sex, problems, drugs, results);
    }

    @Test
    void theExportedStorageHasTheLayoutAndImportsBackToTheSameRecords(@TempDir Path tmp) throws Exception {
        Map<String, Expected> expected = expected();
        assertThat(expected).hasSize(3);
        Ssmix2Report source = imports.run(Ssmix2ImportTest.FIXTURE, new Ssmix2Import.Options(null, SOURCE), Ssmix2ImportTest.quiet());
        assertThat(source.rejected()).hasSize(Ssmix2ImportTest.MALFORMED.size());
        Map<String, String> ids = new TreeMap<>();
        expected.keySet().forEach(id -> ids.put(id, patient(SOURCE, id).getIdElement().getIdPart()));
        // the imported resources say what the fixture says (so the round trip below compares like with like)
        ids.forEach((ssmixId, pid) -> assertThat(actual(patient(SOURCE, ssmixId))).isEqualTo(expected.get(ssmixId)));

        Path out = Files.createTempDirectory(tmp, "ssmix2-export-").resolve("storage");
        List<String> args = new ArrayList<>(List.of("ssmix2", "export", "--institution", SOURCE, "--out", out.toString()));
        ids.values().forEach(pid -> args.addAll(List.of("--patient", pid)));
        CliRun run = CliRun.kiroku(DATA_DIR, args.toArray(String[]::new));
        assertThat(run.code()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).contains("SS-MIX2 export: 9 file(s)");

        // the layout: <id 1-3>/<id 4-6>/<id>/<day or ->/<type>/<id>_<day>_<type>_<order>_<timestamp>_<department>_1
        List<String> files;
        try (Stream<Path> walk = Files.walk(out)) {
            files = walk.filter(Files::isRegularFile).map(p -> out.relativize(p).toString().replace('\\', '/')).sorted().toList();
        }
        assertThat(files).hasSize(9).allSatisfy(f -> {
            var m = java.util.regex.Pattern.compile(FILE).matcher(f);
            assertThat(m.matches()).as(f).isTrue();
            assertThat(m.group(3)).startsWith(m.group(1) + m.group(2));
            assertThat(m.group(4).equals("-")).as(f).isEqualTo(m.group(5).equals("ADT-00") || m.group(5).equals("PPR-01"));
        });
        Map<String, Long> perType = files.stream().collect(Collectors.groupingBy(f -> f.split("/")[4], TreeMap::new,
                Collectors.counting()));
        assertThat(perType).isEqualTo(Map.of("ADT-00", 3L, "PPR-01", 3L, "OMP-01", 1L, "OML-11", 2L));
        assertThat(files).anyMatch(f -> f.matches("000/001/0000012345/20240402/OMP-01/0000012345_20240402_OMP-01_0000000101_"
                + "[0-9]{17}_-_1"));
        assertThat(files).anyMatch(f -> f.startsWith("000/001/0000012345/20240402/OML-11/0000012345_20240402_OML-11_"));
        assertThat(files).anyMatch(f -> f.startsWith("000/006/0000067890/20240405/OML-11/0000067890_20240405_OML-11_"));
        assertThat(files).anyMatch(f -> f.startsWith("000/009/0000099999/-/ADT-00/0000099999_-_ADT-00_-_"));
        for (String f : files) {
            Path p = out.resolve(f);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p))).as(f).isEqualTo("rw-------");
            byte[] bytes = Files.readAllBytes(p);
            String text = new String(bytes, Charset.forName("ISO-2022-JP"));
            assertThat(text).as(f).startsWith("MSH|^~\\&|").doesNotContain("\n");
            assertThat(text.split("\r")[0].split("\\|")[17]).isEqualTo("~ISO IR87");
            assertThat(text.split("\r")[0].split("\\|")[11]).isEqualTo("2.5");
            assertThat(new String(bytes, StandardCharsets.ISO_8859_1)).as(f).contains("\u001B$B"); // JIS X 0208 text
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("000/001/0000012345"))))
                .isEqualTo("rwx------");

        // each patient's reading is audited as an export by the local operator
        for (String pid : ids.values()) {
            List<StoredEvent> events = audit.find(new AuditQuery(pid, null, null, null, List.of("export"), "success", null, 20));
            assertThat(events).as(pid).isNotEmpty().allSatisfy(e -> assertThat(e.agentKind()).isEqualTo("operator"));
        }

        // imported under another institution: new resources that say what the fixture says
        Ssmix2Report back = imports.run(out, new Ssmix2Import.Options(null, TARGET), Ssmix2ImportTest.quiet());
        assertThat(back.rejected()).as(back.text()).isEmpty();
        assertThat(back.ignored()).isZero();
        for (Map.Entry<String, Expected> e : expected.entrySet()) {
            Patient copy = patient(TARGET, e.getKey());
            assertThat(copy.getIdElement().getIdPart()).isNotEqualTo(ids.get(e.getKey()));
            assertThat(actual(copy)).as(e.getKey()).isEqualTo(jis(e.getValue()));
            assertThat(copy.getName()).extracting(HumanName::getText).allMatch(t -> !t.isBlank());
        }
        // the other fields the mapping carries survive too (a spot check of patient 0000012345's order and result)
        String a = patient(TARGET, "0000012345").getIdElement().getIdPart();
        MedicationRequest mucodyne = found("MedicationRequest?subject=Patient/" + a, MedicationRequest.class).stream()
                .filter(r -> r.getMedicationCodeableConcept().getCodingFirstRep().getCode().equals("103835401")).findFirst()
                .orElseThrow();
        assertThat(mucodyne.getDosageInstructionFirstRep().getTiming().getCode().getCodingFirstRep().getCode())
                .isEqualTo("1013044400000000");
        assertThat(mucodyne.getDispenseRequest().getExpectedSupplyDuration().getValue()).isEqualByComparingTo("3");
        assertThat(mucodyne.getDosageInstructionFirstRep().getRoute().getCodingFirstRep().getCode()).isEqualTo("PO");
        assertThat(mucodyne.getAuthoredOnElement().getValueAsString()).isEqualTo("2024-04-02T10:00:00+09:00");
        Observation alt = found("Observation?subject=Patient/" + a + "&code=" + URLEncoder.encode(JLAC10 + "|3B045000002327201",
                StandardCharsets.UTF_8), Observation.class).get(0);
        assertThat(alt.getReferenceRangeFirstRep().getHigh().getValue()).isEqualByComparingTo("45");
        assertThat(alt.getEffectiveDateTimeType().getValueAsString()).isEqualTo("2024-04-02T09:30:00+09:00");
        assertThat(admin.get(alt.getSpecimen().getReference()).as(org.hl7.fhir.r4.model.Specimen.class).getType().getText())
                .isEqualTo("血清");
    }

    @Test
    void utf8OnRequestAndAPatientWithoutTheInstitutionsIdIsLeftOut(@TempDir Path tmp) throws Exception {
        imports.run(Ssmix2ImportTest.FIXTURE, new Ssmix2Import.Options(null, "1319999993"), Ssmix2ImportTest.quiet());
        String pid = patient("1319999993", "0000067890").getIdElement().getIdPart();
        Path out = Files.createTempDirectory(tmp, "ssmix2-utf8-");
        CliRun utf8 = CliRun.kiroku(DATA_DIR, "ssmix2", "export", "--patient", pid, "--institution", "1319999993",
                "--out", out.toString(), "--encoding", "UTF-8");
        assertThat(utf8.code()).as(utf8.out() + utf8.err()).isZero();
        Path adt;
        try (Stream<Path> walk = Files.walk(out)) {
            adt = walk.filter(p -> p.toString().contains("ADT-00_")).findFirst().orElseThrow();
        }
        String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(Files.readAllBytes(adt))).toString();
        assertThat(text).contains("|UNICODE UTF-8|", "試験^太郎^^^^^L^I~シケン^タロウ^^^^^L^P");

        // --all: every Patient; those of this institution are written, the others (other institutions) left out
        Patient stranger = new Patient();
        stranger.addName().setFamily("他院").addGiven("患者");
        assertThat(admin.post("Patient", jp.kiroku.support.FhirHttp.json(stranger)).status()).isEqualTo(201);
        Path every = Files.createTempDirectory(tmp, "ssmix2-all-");
        CliRun all = CliRun.kiroku(DATA_DIR, "ssmix2", "export", "--all", "--institution", "1319999993", "--out", every.toString());
        assertThat(all.code()).as(all.out() + all.err()).isEqualTo(2);
        assertThat(all.out()).contains("left out:", "no identifier " + PREFIX + "1319999993").doesNotContain("Exception");
        try (Stream<Path> walk = Files.walk(every)) {
            assertThat(walk.filter(p -> p.getFileName().toString().contains("_ADT-00_")).map(p -> p.getFileName().toString()
                    .substring(0, 10)).sorted().toList()).containsExactly("0000012345", "0000067890", "0000099999");
        }

        Path other = Files.createTempDirectory(tmp, "ssmix2-none-");
        CliRun none = CliRun.kiroku(DATA_DIR, "ssmix2", "export", "--patient", pid, "--institution", "1319999992",
                "--out", other.toString());
        assertThat(none.code()).as(none.out() + none.err()).isEqualTo(2);
        assertThat(none.out()).contains("Patient/" + pid, "no identifier " + PREFIX + "1319999992");
        try (Stream<Path> walk = Files.walk(other)) {
            assertThat(walk.filter(Files::isRegularFile)).isEmpty();
        }
    }

    @Test
    void isoTwentyTwoJpGetsFullWidthKanaAndCharactersOutsideJisX0208AreLeftOutWithAHint(@TempDir Path tmp) throws Exception {
        String institution = "1319999991";
        List<String> ids = new ArrayList<>();
        for (String[] p : new String[][] {{"0000055555", "ﾃｽﾄ", "ﾊﾅｺ"}, {"0000055556", "髙橋", "一郎"}}) {
            Patient patient = new Patient();
            patient.addIdentifier().setSystem(PREFIX + institution).setValue(p[0]);
            patient.addName().setFamily(p[1]).addGiven(p[2]);
            patient.setGender(org.hl7.fhir.r4.model.Enumerations.AdministrativeGender.FEMALE);
            var created = admin.post("Patient", jp.kiroku.support.FhirHttp.json(patient));
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            ids.add(created.as(Patient.class).getIdElement().getIdPart());
        }
        Path out = Files.createTempDirectory(tmp, "ssmix2-jis-");
        CliRun jis = CliRun.kiroku(DATA_DIR, "ssmix2", "export", "--patient", ids.get(0), "--patient", ids.get(1),
                "--institution", institution, "--out", out.toString());
        assertThat(jis.code()).as(jis.out() + jis.err()).isEqualTo(2);
        assertThat(jis.out()).contains("Patient/" + ids.get(1) + " ADT-00", "--encoding UTF-8").doesNotContain("Exception");
        List<Path> files;
        try (Stream<Path> walk = Files.walk(out)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        assertThat(files).hasSize(1);
        byte[] bytes = Files.readAllBytes(files.get(0));
        assertThat(new String(bytes, StandardCharsets.ISO_8859_1)).doesNotContain("\u001B(I"); // no JIS X 0201 katakana
        assertThat(new String(bytes, Charset.forName("ISO-2022-JP"))).contains("|テスト^ハナコ^");

        Path utf8 = Files.createTempDirectory(tmp, "ssmix2-jis-utf8-");
        CliRun all = CliRun.kiroku(DATA_DIR, "ssmix2", "export", "--patient", ids.get(0), "--patient", ids.get(1),
                "--institution", institution, "--out", utf8.toString(), "--encoding", "UTF-8");
        assertThat(all.code()).as(all.out() + all.err()).isZero();
        Ssmix2Report back = imports.run(utf8, new Ssmix2Import.Options(null, "1319999990"), Ssmix2ImportTest.quiet());
        assertThat(back.rejected()).as(back.text()).isEmpty();
        assertThat(patient("1319999990", "0000055556").getNameFirstRep().getText()).isEqualTo("髙橋 一郎");
        assertThat(patient("1319999990", "0000055555").getNameFirstRep().getText()).isEqualTo("ﾃｽﾄ ﾊﾅｺ");
    }

    @Test
    void badInputIsAPlainError(@TempDir Path tmp) throws Exception {
        Path out = Files.createTempDirectory(tmp, "ssmix2-bad-");
        CliRun unknown = CliRun.kiroku(DATA_DIR, "ssmix2", "export", "--patient", "no-such-patient", "--institution", SOURCE,
                "--out", out.toString());
        assertThat(unknown.code()).isEqualTo(1);
        assertThat(unknown.err()).contains("kiroku: no patient no-such-patient").doesNotContain("Exception", "\tat ");
        CliRun institution = CliRun.kiroku(DATA_DIR, "ssmix2", "export", "--all", "--out", out.toString());
        assertThat(institution.code()).isNotZero();
        assertThat(institution.err()).contains("--institution").doesNotContain("Exception", "\tat ");
        CliRun digits = CliRun.kiroku(DATA_DIR, "ssmix2", "export", "--all", "--institution", "13-1", "--out", out.toString());
        assertThat(digits.code()).isEqualTo(1);
        assertThat(digits.err()).contains("10 digits").doesNotContain("Exception", "\tat ");
        CliRun neither = CliRun.kiroku(DATA_DIR, "ssmix2", "export", "--institution", SOURCE, "--out", out.toString());
        assertThat(neither.code()).isNotZero();
        assertThat(neither.err()).contains("--patient").doesNotContain("Exception", "\tat ");
        try (Stream<Path> walk = Files.walk(out)) {
            assertThat(walk.filter(Files::isRegularFile)).isEmpty();
        }
    }
}
