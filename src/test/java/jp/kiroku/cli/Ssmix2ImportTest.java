package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Condition;
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
 * SS-MIX2 import (SHARE-03, issue 12 item 5): the synthetic storage in src/test/resources/ssmix2 (see its README)
 * imports with the counts the fixture holds — one Patient per patient folder, a Condition per PRB, a MedicationRequest
 * per RXE of each order's newest valid file, an Observation per OBX with its JLAC10 code and a Specimen per SPM —
 * readable over FHIR; the
 * files that are not SS-MIX2 messages are rejected by name and the rest still imports; ISO-2022-JP and Shift_JIS
 * files are read right; a second import writes nothing (not even new versions); an order cancelled after an import is marked cancelled; bad
 * input is a plain CLI error.
 */
@Tag("SHARE-03")
class Ssmix2ImportTest extends ServerTest {

    static final Path FIXTURE = Path.of("src/test/resources/ssmix2");
    static final String INSTITUTION = "1319999999";
    static final String PATIENT_SYSTEM = "urn:oid:1.2.392.100495.20.3.51.1" + INSTITUTION;
    static final String JLAC10 = "urn:oid:1.2.392.200119.4.504";
    /** The fixture's broken files (README): a name that is not SS-MIX2's, a file that is not HL7, a foreign PID. */
    static final Set<String> MALFORMED = Set.of(
            "000/001/0000012345/20240402/OML-11/notes.txt",
            "000/006/0000067890/20240405/OMP-01/0000067890_20240405_OMP-01_0000000301_20240405093000000_01_1",
            "000/009/0000099999/20240410/OML-11/0000099999_20240410_OML-11_0000000501_20240410160000000_01_1");

    @Autowired
    Ssmix2Import imports;
    @Autowired
    AuditTrail audit;

    /** A storage file as the test reads it, independently of the importer: its name's parts and its segments. */
    record Stored(String relative, String patient, String type, String order, String timestamp, boolean valid,
                  List<String> segments) {
        long count(String segment) {
            return segments.stream().filter(s -> s.startsWith(segment + "|")).count();
        }
    }

    static List<Stored> fixture() throws IOException {
        List<Stored> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(FIXTURE)) {
            for (Path p : files.filter(Files::isRegularFile).sorted().toList()) {
                String rel = FIXTURE.relativize(p).toString().replace('\\', '/');
                if (MALFORMED.contains(rel) || rel.split("/").length != 6) {
                    continue;
                }
                String[] n = p.getFileName().toString().split("_");
                // segment names are ASCII in every character set the fixture uses
                List<String> segments = List.of(new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1).split("\r"));
                out.add(new Stored(rel, n[0], n[2], n[3], n[4], n[6].equals("1"), segments));
            }
        }
        return out;
    }

    /** Per patient: the newest valid file of each order of the mapped types. */
    static Map<String, List<Stored>> current(List<Stored> fixture) {
        Map<String, Stored> newest = new TreeMap<>();
        for (Stored s : fixture) {
            if (s.valid()) {
                newest.merge(s.patient() + s.type() + s.order(), s,
                        (a, b) -> Comparator.comparing(Stored::timestamp).compare(a, b) >= 0 ? a : b);
            }
        }
        Map<String, List<Stored>> byPatient = new TreeMap<>();
        newest.values().forEach(s -> byPatient.computeIfAbsent(s.patient(), k -> new ArrayList<>()).add(s));
        return byPatient;
    }

    private Bundle search(String query) {
        var r = admin.get(query + (query.contains("?") ? "&" : "?") + "_count=100");
        assertThat(r.status()).as(query + ": " + r.body()).isEqualTo(200);
        return r.as(Bundle.class);
    }

    private <T extends Resource> List<T> found(String query, Class<T> type) {
        return search(query).getEntry().stream().map(Bundle.BundleEntryComponent::getResource).filter(type::isInstance)
                .map(type::cast).toList();
    }

    private Patient patient(String ssmixId) {
        List<Patient> p = found("Patient?identifier=" + URLEncoder.encode(PATIENT_SYSTEM + "|" + ssmixId, StandardCharsets.UTF_8),
                Patient.class);
        assertThat(p).as("Patient " + ssmixId).hasSize(1);
        return p.get(0);
    }

    /** What is stored for the fixture's patients: every resource id, by type (readable over FHIR). */
    private Map<String, List<String>> stored(Map<String, List<Stored>> current) {
        Map<String, List<String>> ids = new TreeMap<>();
        for (String ssmixId : current.keySet()) {
            String pid = patient(ssmixId).getIdElement().getIdPart();
            ids.computeIfAbsent("Patient", k -> new ArrayList<>()).add(pid);
            for (String type : List.of("Condition", "MedicationRequest", "Observation", "Specimen")) {
                found(type + "?subject=Patient/" + pid, Resource.class)
                        .forEach(r -> ids.computeIfAbsent(type, k -> new ArrayList<>()).add(r.getIdElement().getIdPart()));
            }
        }
        ids.values().forEach(list -> list.sort(null));
        return ids;
    }

    @Test
    void theFixtureImportsWithTheCountsItHoldsAndAgainWithoutDuplicates(@TempDir Path tmp) throws Exception {
        List<Stored> fixture = fixture();
        Map<String, List<Stored>> current = current(fixture);
        long conditions = 0;
        long medications = 0;
        long observations = 0;
        long specimens = 0;
        for (List<Stored> files : current.values()) {
            for (Stored s : files) {
                switch (s.type()) {
                    case "PPR-01" -> conditions += s.count("PRB");
                    case "OMP-01" -> medications += s.count("RXE");
                    case "OML-11" -> {
                        observations += s.count("OBX");
                        specimens += s.count("SPM");
                    }
                    default -> {
                    }
                }
            }
        }
        assertThat(current).hasSize(3);
        assertThat(conditions).isEqualTo(4);
        assertThat(medications).isEqualTo(2);
        assertThat(observations).isEqualTo(5);
        assertThat(specimens).isEqualTo(2);

        Path report = Files.createTempDirectory(tmp, "ssmix2-").resolve("report.txt");
        CliRun run = CliRun.kiroku(DATA_DIR, "ssmix2", "import", FIXTURE.toString(), "--institution", INSTITUTION,
                "--report", report.toString());
        assertThat(run.code()).as(run.out() + run.err()).isEqualTo(2); // 2: some messages were rejected
        assertThat(run.err()).contains("importing (files)").doesNotContain("Exception");

        Map<String, List<String>> ids = stored(current);
        assertThat(ids.get("Patient")).as(run.out()).hasSize(current.size());
        assertThat(ids.get("Condition")).as(run.out()).hasSize((int) conditions);
        assertThat(ids.get("MedicationRequest")).as(run.out()).hasSize((int) medications);
        assertThat(ids.get("Observation")).as(run.out()).hasSize((int) observations);
        assertThat(ids.get("Specimen")).as(run.out()).hasSize((int) specimens);

        // every result keeps its JLAC10 code; values, units and flags as sent
        for (Map.Entry<String, List<Stored>> p : current.entrySet()) {
            String pid = patient(p.getKey()).getIdElement().getIdPart();
            for (Stored s : p.getValue()) {
                if (!s.type().equals("OML-11")) {
                    continue;
                }
                for (String obx : s.segments().stream().filter(x -> x.startsWith("OBX|")).toList()) {
                    String code = obx.split("\\|")[3].split("\\^")[0];
                    List<Observation> o = found("Observation?subject=Patient/" + pid + "&code="
                            + URLEncoder.encode(JLAC10 + "|" + code, StandardCharsets.UTF_8), Observation.class);
                    assertThat(o).as(s.relative() + " " + code).hasSize(1);
                }
            }
        }
        String a = patient("0000012345").getIdElement().getIdPart();
        Observation alt = found("Observation?subject=Patient/" + a + "&code="
                + URLEncoder.encode(JLAC10 + "|3B045000002327201", StandardCharsets.UTF_8),
                Observation.class).get(0);
        assertThat(((Quantity) alt.getValue()).getValue()).isEqualByComparingTo("52");
        assertThat(((Quantity) alt.getValue()).getUnit()).isEqualTo("U/L");
        assertThat(alt.getInterpretationFirstRep().getCodingFirstRep().getCode()).isEqualTo("H");
        assertThat(alt.getReferenceRangeFirstRep().getHigh().getValue()).isEqualByComparingTo("45");
        assertThat(alt.getCode().getCoding()).extracting(c -> c.getCode()).contains("3B045000002327201", "A002");
        assertThat(alt.getEffectiveDateTimeType().getValueAsString()).isEqualTo("2024-04-02T09:30:00+09:00");
        var serum = admin.get(alt.getSpecimen().getReference()).as(org.hl7.fhir.r4.model.Specimen.class);
        assertThat(serum.getType().getText()).isEqualTo("血清");

        // written like any FHIR write: audited as transactions of the local operator that name the patient
        List<StoredEvent> events = audit.find(new AuditQuery(a, null, null, null, List.of("transaction"), "success", null, 20));
        assertThat(events).isNotEmpty().allSatisfy(e -> assertThat(e.agentKind()).isEqualTo("operator"));
        assertThat(events.stream().flatMap(e -> e.entities().stream())).anyMatch(e -> e.startsWith("Observation/"))
                .anyMatch(e -> e.startsWith("MedicationRequest/")).anyMatch(e -> e.startsWith("Condition/"));

        // the changed order (two drugs), not its first version; the cancelled order not at all
        List<MedicationRequest> rx = found("MedicationRequest?subject=Patient/" + a, MedicationRequest.class);
        assertThat(rx).extracting(r -> r.getMedicationCodeableConcept().getCodingFirstRep().getCode())
                .containsExactlyInAnyOrder("103835401", "100795402");
        MedicationRequest mucodyne = rx.stream().filter(r -> r.getMedicationCodeableConcept().getCodingFirstRep().getCode()
                .equals("103835401")).findFirst().orElseThrow();
        assertThat(mucodyne.getMedicationCodeableConcept().getCodingFirstRep().getSystem()).isEqualTo("urn:oid:1.2.392.200119.4.403.1");
        assertThat(mucodyne.getDosageInstructionFirstRep().getTiming().getCode().getCodingFirstRep().getCode())
                .isEqualTo("1013044400000000");
        assertThat(mucodyne.getDispenseRequest().getExpectedSupplyDuration().getValue()).isEqualByComparingTo("3");
        assertThat(mucodyne.getDosageInstructionFirstRep().getRoute().getCodingFirstRep().getCode()).isEqualTo("PO");

        // problems with their MEDIS and ICD-10 codes
        List<Condition> problems = found("Condition?subject=Patient/" + a, Condition.class);
        assertThat(problems).extracting(c -> c.getCode().getText()).containsExactlyInAnyOrder("胃炎", "本態性高血圧症");
        assertThat(problems.stream().flatMap(c -> c.getCode().getCoding().stream()).map(c -> c.getSystem() + "|" + c.getCode()))
                .contains("http://medis.or.jp/CodeSystem/master-disease-exCode|20054174", "http://hl7.org/fhir/sid/icd-10|I10");

        // names in kanji and kana, whatever the file's character set: UTF-8, ISO-2022-JP (B), Shift_JIS (C, from its PID)
        assertThat(patient("0000012345").getName()).extracting(n -> n.getText()).containsExactly("架空 花子", "カクウ ハナコ");
        assertThat(patient("0000067890").getName()).extracting(n -> n.getText()).containsExactly("試験 太郎", "シケン タロウ");
        assertThat(patient("0000067890").getBirthDateElement().getValueAsString()).isEqualTo("1955-03-15");
        assertThat(patient("0000099999").getName()).extracting(n -> n.getText()).containsExactly("見本 次郎", "ミホン ジロウ");

        // the report: counts per data type and every rejected file by name, with a reason
        String text = Files.readString(report);
        assertThat(run.out()).contains(text.strip());
        for (String bad : MALFORMED) {
            assertThat(text).containsPattern(java.util.regex.Pattern.quote(bad) + "\t\\S.*");
        }
        assertThat(text).contains("not an HL7 v2 message", "is not the storage folder's", "file name is not");
        assertThat(text).containsPattern("OMP-01 +4 +1 +1 +1 +0 +1")   // found, imported, superseded, cancelled, -, rejected
                .containsPattern("OML-11 +4 +2 +0 +0 +0 +2")
                .containsPattern("ADT-12 +1 +0 +0 +0 +1 +0")
                .contains("1 file(s) outside the standardized storage layout were ignored");

        // again: the same resources, nothing added
        Ssmix2Report again = imports.run(FIXTURE, new Ssmix2Import.Options(null, INSTITUTION), quiet());
        assertThat(again.rejected()).extracting(Ssmix2Report.Rejected::file).containsExactlyInAnyOrderElementsOf(MALFORMED);
        assertThat(stored(current)).isEqualTo(ids);
        assertThat(again.written()).as("nothing changed, nothing written").isEmpty();
        assertThat(again.unchanged()).isEqualTo(ids.values().stream().mapToInt(List::size).sum());
        assertThat(patient("0000067890").getMeta().getVersionId()).isEqualTo("1");
    }

    @Test
    void anOrderCancelledAfterTheImportIsMarkedCancelled(@TempDir Path tmp) throws Exception {
        Path root = Files.createTempDirectory(tmp, "ssmix2-cancel-");
        String order = "000/001/0000012345/20240402/OMP-01/0000012345_20240402_OMP-01_0000000101_20240402101500000_01_";
        try (Stream<Path> files = Files.walk(FIXTURE)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                Path to = root.resolve(FIXTURE.relativize(p).toString());
                Files.createDirectories(to.getParent());
                Files.copy(p, to);
            }
        }
        String other = "1319999998"; // another institution: its own patients and resources
        imports.run(root, new Ssmix2Import.Options(null, other), quiet());
        String pid = found("Patient?identifier=" + URLEncoder.encode("urn:oid:1.2.392.100495.20.3.51.1" + other + "|0000012345",
                StandardCharsets.UTF_8), Patient.class).get(0).getIdElement().getIdPart();
        assertThat(found("MedicationRequest?subject=Patient/" + pid, MedicationRequest.class))
                .extracting(MedicationRequest::getStatus).containsOnly(MedicationRequest.MedicationRequestStatus.ACTIVE).hasSize(2);

        Files.move(root.resolve(order + "1"), root.resolve(order + "0")); // the order is cancelled in the storage
        Ssmix2Report report = imports.run(root, new Ssmix2Import.Options(null, other), quiet());
        assertThat(report.types().get("OMP-01").cancelled()).isEqualTo(3);
        assertThat(report.written()).isEqualTo(Map.of("MedicationRequest", 2)); // the rest is as it was
        assertThat(found("MedicationRequest?subject=Patient/" + pid, MedicationRequest.class))
                .extracting(MedicationRequest::getStatus).containsOnly(MedicationRequest.MedicationRequestStatus.CANCELLED).hasSize(2);
    }

    @Test
    void aCharacterSetGivenForEveryFileRejectsTheFilesNotInIt() {
        Ssmix2Report report = imports.run(FIXTURE, new Ssmix2Import.Options(StandardCharsets.UTF_8, "1319999997"), quiet());
        assertThat(report.rejected()).filteredOn(r -> r.file().endsWith("0000099999_-_PPR-01_-_20240410100000000_-_1"))
                .singleElement().satisfies(r -> assertThat(r.reason()).contains("not valid UTF-8", "--encoding"));
    }

    @Test
    void badInputIsAPlainError() {
        CliRun missing = CliRun.kiroku(DATA_DIR, "ssmix2", "import", "/no/such/storage", "--institution", INSTITUTION);
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("kiroku: not a directory: /no/such/storage").doesNotContain("Exception", "\tat ");
        CliRun number = CliRun.kiroku(DATA_DIR, "ssmix2", "import", FIXTURE.toString(), "--institution", "13-1");
        assertThat(number.code()).isEqualTo(1);
        assertThat(number.err()).contains("10 digits").doesNotContain("Exception", "\tat ");
        CliRun charset = CliRun.kiroku(DATA_DIR, "ssmix2", "import", FIXTURE.toString(), "--institution", INSTITUTION,
                "--encoding", "klingon");
        assertThat(charset.code()).isEqualTo(1);
        assertThat(charset.err()).contains("unknown character set klingon").doesNotContain("Exception", "\tat ");
    }

    static Ssmix2Import.Listener quiet() {
        return new Ssmix2Import.Listener() {
            @Override
            public void files(int total) {
            }

            @Override
            public void done(String dataType) {
            }
        };
    }
}
