package jp.kiroku.fhir;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.StrictErrorHandler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.OperationOutcomeIssueComponent;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

class ProfileValidatorTest {

    /** Relative to the project root (the working directory Maven runs tests in). */
    private static final Path EXAMPLES = Path.of("../shared/data/jpcore/jp-core-1.1.2-examples");
    private static final Path PATIENT_EXAMPLE = EXAMPLES.resolve("Patient-jp-patient-example-1.json");
    private static final String JP_PATIENT = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient";

    private static final FhirContext CTX = FhirContext.forR4();
    private static final List<Long> EXAMPLE_NANOS = Collections.synchronizedList(new ArrayList<>());

    private static ProfileValidator validator;
    private static long warmUpMillis;
    private static long heapBeforeBytes;

    @BeforeAll
    static void buildValidator() {
        heapBeforeBytes = usedHeapAfterGc();
        validator = new ProfileValidator(CTX);
        long start = System.nanoTime();
        validator.warmUpInBackground();
        // Races the warm-up thread for the lazy build: this call must wait for that one build.
        OperationOutcome first = validator.validate(new Patient());
        warmUpMillis = (System.nanoTime() - start) / 1_000_000;
        assertFalse(ProfileValidator.hasErrors(first), () -> describeErrors(first));
    }

    @AfterAll
    static void reportMeasurements() {
        long heapAfter = usedHeapAfterGc();
        double meanMillis = EXAMPLE_NANOS.stream().mapToLong(Long::longValue).average().orElse(0) / 1e6;
        System.out.printf(
                "ProfileValidator: build %d ms; %d example validations, mean %.1f ms; heap used %d MB (%+d MB)%n",
                warmUpMillis, EXAMPLE_NANOS.size(), meanMillis,
                heapAfter >> 20, (heapAfter - heapBeforeBytes) >> 20);
    }

    @TestFactory
    Stream<DynamicTest> everyJpCoreExampleParsesStrictlyAndValidates() throws IOException {
        List<Path> files = exampleFiles();
        assertFalse(files.isEmpty(), "no JSON examples under " + EXAMPLES.toAbsolutePath());
        return files.stream().map(file -> dynamicTest(file.getFileName().toString(), () -> {
            IBaseResource resource = parseStrict(file);
            long start = System.nanoTime();
            OperationOutcome outcome = validator.validate(resource);
            EXAMPLE_NANOS.add(System.nanoTime() - start);
            assertFalse(ProfileValidator.hasErrors(outcome), () -> file.getFileName() + ":\n" + describeErrors(outcome));
        }));
    }

    @Test
    void patientMissingIdentifierValueIsRejectedByJpPatientProfile() throws IOException {
        Patient patient = (Patient) parseStrict(PATIENT_EXAMPLE);
        assertEquals(JP_PATIENT, patient.getMeta().getProfile().get(0).getValue());
        // JP_Patient tightens Patient.identifier.value from 0..1 (base R4) to 1..1.
        patient.getIdentifierFirstRep().setValue(null);

        OperationOutcome outcome = validator.validate(patient);

        assertTrue(ProfileValidator.hasErrors(outcome), "broken Patient was accepted");
        assertTrue(
                errors(outcome).anyMatch(issue -> expressionContains(issue, "Patient.identifier[0]")
                        && issue.getDiagnostics().contains("Patient.identifier.value")
                        && issue.getDiagnostics().contains(JP_PATIENT)),
                () -> "no error naming Patient.identifier[0] / identifier.value:\n" + describeErrors(outcome));

        // The same resource without the profile claim is fine for base R4: the profile made the error.
        patient.getMeta().getProfile().clear();
        OperationOutcome baseOnly = validator.validate(patient);
        assertFalse(ProfileValidator.hasErrors(baseOnly), () -> describeErrors(baseOnly));
    }

    @Test
    void explicitProfileUrlIsAppliedToResourceWithoutMetaProfile() throws IOException {
        Patient patient = (Patient) parseStrict(PATIENT_EXAMPLE);
        patient.getMeta().getProfile().clear();
        patient.getIdentifier().clear(); // JP_Patient: identifier 1..*

        assertFalse(ProfileValidator.hasErrors(validator.validate(patient, null)));

        OperationOutcome outcome = validator.validate(patient, JP_PATIENT);
        assertTrue(
                errors(outcome).anyMatch(issue -> issue.getDiagnostics().contains("Patient.identifier: minimum required = 1")),
                () -> describeErrors(outcome));
    }

    @Test
    void observationWithoutStatusFailsBaseR4() {
        Observation observation = new Observation();
        observation.getCode().setText("体温");

        OperationOutcome outcome = validator.validate(observation);

        assertTrue(ProfileValidator.hasErrors(outcome), "Observation without status was accepted");
        assertTrue(
                errors(outcome).anyMatch(issue -> issue.getDiagnostics().contains("Observation.status")),
                () -> describeErrors(outcome));
    }

    @Test
    void unknownProfileIsAnError() {
        OperationOutcome outcome = validator.validate(new Patient(), "http://example.org/StructureDefinition/no-such-profile");
        assertTrue(ProfileValidator.hasErrors(outcome), "unknown profile was accepted");
    }

    @Test
    void unknownJapaneseCodeSystemIsOnlyAWarning() {
        Observation observation = new Observation();
        observation.setStatus(Observation.ObservationStatus.FINAL);
        observation.getCode().addCoding().setSystem("urn:oid:1.2.392.200119.4.504").setCode("3A0100000002327");

        OperationOutcome outcome = validator.validate(observation);

        assertFalse(ProfileValidator.hasErrors(outcome), () -> describeErrors(outcome));
        assertTrue(outcome.getIssue().stream().anyMatch(issue -> issue.getSeverity() == IssueSeverity.WARNING
                && issue.getDiagnostics().contains("urn:oid:1.2.392.200119.4.504")));
    }

    @Test
    void badCodeFromKnownCodeSystemOnRequiredBindingIsStillAnError() {
        Condition condition = new Condition();
        condition.getSubject().setReference("Patient/p1");
        condition.getClinicalStatus().addCoding()
                .setSystem("http://terminology.hl7.org/CodeSystem/condition-clinical")
                .setCode("bogus");

        OperationOutcome outcome = validator.validate(condition);

        assertTrue(
                errors(outcome).anyMatch(issue -> expressionContains(issue, "Condition.clinicalStatus")),
                () -> "bad required code was accepted:\n" + describeErrors(outcome));
    }

    @Test
    void japaneseLanguageTagOnPreferredBindingIsNotAnError() {
        // Resource.language is bound (preferred) to Common Languages, which lists "ja" but not "ja-JP".
        Patient patient = new Patient();
        patient.setLanguage("ja-JP");

        OperationOutcome outcome = validator.validate(patient);

        assertFalse(ProfileValidator.hasErrors(outcome), () -> describeErrors(outcome));
    }

    @Test
    void concurrentValidationsGiveTheSameVerdicts() throws Exception {
        List<IBaseResource> resources = new ArrayList<>();
        for (Path file : exampleFiles()) {
            resources.add(parseStrict(file));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<OperationOutcome>> futures = new ArrayList<>();
            for (IBaseResource resource : resources) {
                futures.add(pool.submit(() -> validator.validate(resource)));
            }
            for (Future<OperationOutcome> future : futures) {
                OperationOutcome outcome = future.get();
                assertFalse(ProfileValidator.hasErrors(outcome), () -> describeErrors(outcome));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<Path> exampleFiles() throws IOException {
        try (Stream<Path> files = Files.list(EXAMPLES)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().collect(Collectors.toList());
        }
    }

    /** Parsers are not thread-safe, so each parse gets its own. */
    private static IBaseResource parseStrict(Path file) throws IOException {
        IParser parser = CTX.newJsonParser().setParserErrorHandler(new StrictErrorHandler());
        return parser.parseResource(Files.readString(file, UTF_8));
    }

    private static Stream<OperationOutcomeIssueComponent> errors(OperationOutcome outcome) {
        return outcome.getIssue().stream()
                .filter(i -> i.getSeverity() == IssueSeverity.ERROR || i.getSeverity() == IssueSeverity.FATAL);
    }

    private static boolean expressionContains(OperationOutcomeIssueComponent issue, String path) {
        return Stream.concat(issue.getExpression().stream(), issue.getLocation().stream())
                .anyMatch(s -> s.getValue() != null && s.getValue().contains(path));
    }

    private static String describeErrors(OperationOutcome outcome) {
        return errors(outcome)
                .map(i -> "  " + i.getSeverity() + " " + i.getExpression() + " " + i.getDiagnostics())
                .collect(Collectors.joining("\n"));
    }

    private static long usedHeapAfterGc() {
        Runtime rt = Runtime.getRuntime();
        System.gc();
        return rt.totalMemory() - rt.freeMemory();
    }
}
