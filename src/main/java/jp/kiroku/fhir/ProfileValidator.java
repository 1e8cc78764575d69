package jp.kiroku.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.FhirVersionEnum;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.context.support.ValidationSupportContext;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ValidationOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Objects;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.NpmPackageValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.UnknownCodeSystemWarningValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.ElementDefinition;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.StructureDefinition;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.OperationOutcomeIssueComponent;
import org.hl7.fhir.r4.model.Patient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Validates R4 resources against the base specification, the JP Core 1.1.2 profiles and the JP-CLINS 1.5.2 profiles.
 *
 * <p>Building the validator parses thousands of conformance resources (seconds, hundreds of MB), so
 * it is done once, lazily, under a lock; afterwards every caller shares the same {@link FhirValidator},
 * which HAPI documents as thread-safe.
 */
final class ProfileValidator {

    private static final Logger LOG = LoggerFactory.getLogger(ProfileValidator.class);

    /** Bundled in the jar so the application never reads ../shared at run time. */
    static final String JP_CORE_PACKAGE = "classpath:fhir-packages/jp-core.r4-1.1.2.tgz";

    /**
     * JP-CLINS 1.5.2 (package {@code jp-eCSCLINS.r4}, CC BY-ND: shipped unmodified), the 2 documents + 5 information
     * profiles of the national sharing service; it builds on JP Core, so both go into one package support.
     */
    static final String JP_CLINS_PACKAGE = "classpath:fhir-packages/jp-clins.r4-1.5.2-snap.tgz";

    private static final String JP_PATIENT = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient";

    /** JP-CLINS' referral-letter Bundle, whose Observation entries are re-sliced (see {@link #withoutReslice}). */
    static final String E_REFERRAL_BUNDLE = "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eReferral";

    private static final String LOINC = "http://loinc.org";

    private final FhirContext ctx;
    private final ClinsRules clinsRules;
    private final Object buildLock = new Object();
    /** Set once under {@link #buildLock}; volatile so later readers skip the lock. */
    private volatile FhirValidator validator;

    ProfileValidator(FhirContext ctx) {
        this.ctx = Objects.requireNonNull(ctx, "ctx");
        this.clinsRules = new ClinsRules(ctx);
        // The result type (r4 OperationOutcome) and the JP Core package are both R4-only.
        if (ctx.getVersion().getVersion() != FhirVersionEnum.R4) {
            throw new IllegalArgumentException(
                    "ProfileValidator needs an R4 FhirContext, got " + ctx.getVersion().getVersion());
        }
    }

    /**
     * Builds the validator on a daemon thread so the first request does not pay for it. A request
     * arriving meanwhile waits for that build instead of starting a second one. A failure is only
     * logged here; the next {@link #validate} call retries and throws it to its caller.
     */
    void warmUpInBackground() {
        Thread thread = new Thread(() -> {
            try {
                validator();
            } catch (RuntimeException e) {
                LOG.warn("FHIR profile validator warm-up failed; it will be retried on first use", e);
            }
        }, "fhir-profile-validator-warmup");
        thread.setDaemon(true);
        thread.start();
    }

    /** Builds the validator now, on the calling thread (see {@link #warmUpInBackground}). */
    void warmUp() {
        validator();
    }

    /** Validates against base R4 and every profile the resource declares in {@code meta.profile}. */
    OperationOutcome validate(IBaseResource resource) {
        return validate(resource, null);
    }

    /**
     * Validates against base R4, the resource's {@code meta.profile} entries and, when not null,
     * {@code profileUrl}. An unknown profile URL is reported as an error issue.
     */
    OperationOutcome validate(IBaseResource resource, String profileUrl) {
        Objects.requireNonNull(resource, "resource");
        ValidationOptions options = new ValidationOptions().addProfileIfNotBlank(profileUrl);
        OperationOutcome outcome = (OperationOutcome) validator().validateWithResult(resource, options).toOperationOutcome();
        return afterValidation(resource, outcome);
    }

    static final String DISCHARGE_SECTIONS_VS = "http://jpfhir.jp/fhir/eDischargeSummary/ValueSet/document-section";
    static final String SECTION_CS = "http://jpfhir.jp/fhir/clins/CodeSystem/document-section";

    /** JP Core's extension for the 7-digit insurance institution code, its 1.1.2 fixed system and JP-CLINS 1.5.2's. */
    static final String ORGANIZATION_NO_EXTENSION =
            "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Organization_InsuranceOrganizationNo";
    static final String ORGANIZATION_NO_JP_CORE_SYSTEM = "urn:oid:1.2.392.100495.20.3.23";
    static final String ORGANIZATION_NO_CLINS_SYSTEM = "http://jpfhir.jp/fhir/core/mhlw/IdSystem/MedicalOrganizationID";
    private static final java.util.regex.Pattern UNKNOWN_SYSTEM = java.util.regex.Pattern.compile(
            "CodeSystem is unknown and can't be validated: (\\S+)");

    /**
     * Kiroku's additions to HAPI's verdict, for JP-CLINS data:
     * <ol>
     * <li>the explicit JP-CLINS checks ({@link ClinsRules}: R1021 institution number, the lab result's local code);</li>
     * <li>warnings about codes from a listed unavailable code system ({@link UnavailableCodeSystems}) say so;</li>
     * <li>the system of JP Core's {@code JP_Organization_InsuranceOrganizationNo} extension, whose fixed value the
     * validator no longer checks ({@link #withoutFixedSystem}): JP Core 1.1.2's system passes, JP-CLINS 1.5.2's is a
     * warning naming the inconsistency, anything else is an error as before.</li>
     * </ol>
     */
    private OperationOutcome afterValidation(IBaseResource resource, OperationOutcome outcome) {
        for (OperationOutcomeIssueComponent issue : outcome.getIssue()) {
            String text = issue.getDiagnostics();
            if (text == null) {
                continue;
            }
            var m = UNKNOWN_SYSTEM.matcher(text);
            if (m.find()) {
                String system = m.group(1);
                UnavailableCodeSystems.describe(system).ifPresent(what -> issue.setDiagnostics(text
                        + " [listed unavailable code system (jpfhir-terminology, not available offline): " + what + "]"));
            }
        }
        if (resource instanceof org.hl7.fhir.r4.model.Resource r) {
            for (org.hl7.fhir.r4.model.Extension ext : ClinsRules.all(r, org.hl7.fhir.r4.model.Extension.class)) {
                if (ORGANIZATION_NO_EXTENSION.equals(ext.getUrl()) && ext.getValue() instanceof org.hl7.fhir.r4.model.Identifier id) {
                    String system = id.getSystem();
                    if (ORGANIZATION_NO_CLINS_SYSTEM.equals(system)) {
                        outcome.addIssue().setSeverity(IssueSeverity.WARNING).setCode(OperationOutcome.IssueType.VALUE)
                                .setDiagnostics("JP_Organization_InsuranceOrganizationNo uses the system " + system
                                        + " as JP-CLINS 1.5.2 does; JP Core 1.1.2 fixes " + ORGANIZATION_NO_JP_CORE_SYSTEM
                                        + " (a known inconsistency between the packages, accepted: docs/exchange.md)");
                    } else if (!ORGANIZATION_NO_JP_CORE_SYSTEM.equals(system)) {
                        outcome.addIssue().setSeverity(IssueSeverity.ERROR).setCode(OperationOutcome.IssueType.VALUE)
                                .setDiagnostics("JP_Organization_InsuranceOrganizationNo: the system '" + system + "' must be "
                                        + ORGANIZATION_NO_JP_CORE_SYSTEM + " (JP Core 1.1.2) or " + ORGANIZATION_NO_CLINS_SYSTEM
                                        + " (JP-CLINS 1.5.2)");
                    }
                }
            }
            if (ClinsRules.appliesTo(r)) {
                clinsRules.check(r).forEach(outcome::addIssue);
            }
        }
        return outcome;
    }

    /** True when any issue has severity error or fatal. */
    static boolean hasErrors(OperationOutcome outcome) {
        if (outcome == null) {
            return false;
        }
        for (OperationOutcomeIssueComponent issue : outcome.getIssue()) {
            if (issue.getSeverity() == IssueSeverity.ERROR || issue.getSeverity() == IssueSeverity.FATAL) {
                return true;
            }
        }
        return false;
    }

    private FhirValidator validator() {
        FhirValidator v = validator;
        if (v == null) {
            synchronized (buildLock) {
                v = validator;
                if (v == null) {
                    long start = System.nanoTime();
                    v = build();
                    validator = v;
                    LOG.info("FHIR profile validator built in {} ms", (System.nanoTime() - start) / 1_000_000);
                }
            }
        }
        return v;
    }

    private FhirValidator build() {
        NpmPackageValidationSupport jpCore = new NpmPackageValidationSupport(ctx) {
            /**
             * JP-CLINS ships a CodeSystem with the url http://loinc.org, marked complete, holding just its two document
             * codes; taken as LOINC it would make every other LOINC code "unknown" (an error). LOINC is not available
             * offline, so codes from it stay warnings ({@link UnavailableCodeSystems}).
             */
            @Override
            public void addCodeSystem(org.hl7.fhir.instance.model.api.IBaseResource codeSystem) {
                if (codeSystem instanceof org.hl7.fhir.r4.model.CodeSystem cs && LOINC.equals(cs.getUrl())) {
                    return;
                }
                super.addCodeSystem(codeSystem);
            }
        };
        for (String pkg : List.of(JP_CORE_PACKAGE, JP_CLINS_PACKAGE)) {
            try {
                jpCore.loadPackageFromClasspath(pkg);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot load FHIR package " + pkg, e);
            }
        }
        // Asked before the package support, so the validator sees the patched referral Bundle profile (withoutReslice).
        PrePopulatedValidationSupport patches = new PrePopulatedValidationSupport(ctx);
        StructureDefinition referral = (StructureDefinition) jpCore.fetchStructureDefinition(E_REFERRAL_BUNDLE);
        if (referral != null) {
            patches.addStructureDefinition(withoutReslice(referral));
        }
        var sections = (org.hl7.fhir.r4.model.ValueSet) jpCore.fetchValueSet(DISCHARGE_SECTIONS_VS);
        var sectionCodes = (org.hl7.fhir.r4.model.CodeSystem) jpCore.fetchCodeSystem(SECTION_CS);
        if (sections != null && sectionCodes != null) {
            patches.addValueSet(withDischargeSections(sections));
            patches.addCodeSystem(withPresentIllness362(sectionCodes));
        }
        StructureDefinition organizationNo = (StructureDefinition) jpCore.fetchStructureDefinition(ORGANIZATION_NO_EXTENSION);
        if (organizationNo != null) {
            patches.addStructureDefinition(withoutFixedSystem(organizationNo));
        }

        // JP Core data uses code systems that no package here defines (urn:oid:1.2.392..., JLAC10,
        // HOT, MEDIS, LOINC, local systems). Report codes from them as warnings, not errors; codes
        // from systems we do have are still checked by the in-memory terminology service.
        UnknownCodeSystemWarningValidationSupport unknownCodeSystems = new UnknownCodeSystemWarningValidationSupport(ctx);
        unknownCodeSystems.setNonExistentCodeSystemSeverity(IValidationSupport.IssueSeverity.WARNING);

        // Since HAPI 8 the chain caches lookups itself (CachingValidationSupport is deprecated).
        ValidationSupportChain chain = new ValidationSupportChain(
                new DefaultProfileValidationSupport(ctx),
                patches,
                jpCore,
                new CommonLanguagesInMemory(ctx), // must precede CommonCodeSystemsTerminologyService
                new CommonCodeSystemsTerminologyService(ctx),
                new InMemoryTerminologyServerValidationSupport(ctx),
                new SnapshotGeneratingValidationSupport(ctx),
                unknownCodeSystems); // last: it answers only for systems nobody before it supports

        // HAPI defaults kept: an unknown profile is an error; an extension whose definition is not
        // loaded is only reported as information (FHIR's open-world rule, and data from JP-CLINS or
        // vendor systems carries such extensions). Note this includes unknown modifierExtensions.
        FhirInstanceValidator instanceValidator = new FhirInstanceValidator(chain);
        FhirValidator v = ctx.newValidator();
        v.registerValidatorModule(instanceValidator);

        // One throw-away validation while still holding the lock: FhirInstanceValidator creates its
        // worker context lazily and unsynchronised, and the first run parses the base definitions.
        // Doing it here means concurrent first callers wait for one build and never race on it.
        v.validateWithResult(new Patient(), new ValidationOptions().addProfile(JP_PATIENT));
        return v;
    }

    /**
     * JP_Bundle_eReferral re-slices its {@code Bundle.entry:observation} slice ({@code observation/laboratory}); HAPI
     * 8.8's instance validator cannot process a re-slice at the same path and throws "Slice encountered midway through
     * set" for every referral letter. The validator therefore gets an in-memory copy (the shipped package file stays
     * unmodified) without the re-slice: the {@code observation} slice keeps its profile and cardinality, and each
     * laboratory Observation entry is still validated against the profile it declares (JP_Observation_LabResult_eCS).
     */
    static StructureDefinition withoutReslice(StructureDefinition original) {
        StructureDefinition copy = original.copy();
        copy.getSnapshot().getElement().removeIf(e -> e.getId() != null && e.getId().startsWith("Bundle.entry:observation/"));
        copy.getDifferential().getElement().removeIf(e -> e.getId() != null && e.getId().startsWith("Bundle.entry:observation/"));
        for (ElementDefinition e : copy.getSnapshot().getElement()) {
            if ("Bundle.entry:observation".equals(e.getId())) {
                e.setSlicing(null);
            }
        }
        for (ElementDefinition e : copy.getDifferential().getElement()) {
            if ("Bundle.entry:observation".equals(e.getId())) {
                e.setSlicing(null);
            }
        }
        return copy;
    }

    /**
     * The discharge summary's section value set (JP-CLINS 1.5.2) includes the descendants of {@code REF} (the referral
     * letter's sections) and {@code COMMON}, while the discharge summary's own section codes (312, 322, 324, 333, 342,
     * 344, 352, 424, 432, 444, 612, 614, 623, 713), which JP_Composition_eDischargeSummary fixes, are the descendants
     * of {@code DIS}: every correct discharge summary would fail its required binding. The copy also includes DIS.
     */
    static org.hl7.fhir.r4.model.ValueSet withDischargeSections(org.hl7.fhir.r4.model.ValueSet original) {
        var copy = original.copy();
        copy.getCompose().addInclude().setSystem(SECTION_CS).addFilter().setProperty("concept")
                .setOp(org.hl7.fhir.r4.model.ValueSet.FilterOperator.DESCENDENTOF).setValue("DIS");
        return copy;
    }

    /**
     * JP_Composition_eDischargeSummary fixes the present-illness section's code to 362 (「現病歴セクション」), which the
     * section CodeSystem (1.4.0, marked complete) lacks: the copy has it under {@code DIS}, with the profile's own
     * display. Nothing else is added.
     */
    static org.hl7.fhir.r4.model.CodeSystem withPresentIllness362(org.hl7.fhir.r4.model.CodeSystem original) {
        var copy = original.copy();
        for (var concept : copy.getConcept()) {
            if ("DIS".equals(concept.getCode()) && concept.getConcept().stream().noneMatch(c -> "362".equals(c.getCode()))) {
                concept.addConcept().setCode("362").setDisplay("現病歴セクション");
            }
        }
        return copy;
    }

    /**
     * JP Core 1.1.2 fixes the system of {@code JP_Organization_InsuranceOrganizationNo} to
     * {@code urn:oid:1.2.392.100495.20.3.23}; the examples of JP-CLINS 1.5.2 (which depends on JP Core 1.1.2) use
     * {@code http://jpfhir.jp/fhir/core/mhlw/IdSystem/MedicalOrganizationID}. A fixed-value failure inside an
     * Organization makes every profile-discriminated slice that should hold it fail to match (the referral letter's
     * organization entries and Composition sections), so the validator gets a copy without the fixed value and
     * {@link #afterValidation} checks the system itself (either system; the CLINS one with a warning).
     */
    static StructureDefinition withoutFixedSystem(StructureDefinition original) {
        StructureDefinition copy = original.copy();
        for (var list : List.of(copy.getSnapshot().getElement(), copy.getDifferential().getElement())) {
            for (ElementDefinition e : list) {
                if ("Extension.value[x].system".equals(e.getId())) {
                    e.setFixed(null);
                }
            }
        }
        return copy;
    }

    /**
     * Answers only for the "Common Languages" value set, by in-memory expansion.
     *
     * <p>CommonCodeSystemsTerminologyService reports a code outside that enumerated value set as an
     * error whatever the binding strength (hapi-fhir issue 7959), so a valid BCP-47 tag such as
     * "ja-JP" in Resource.language or Attachment.language, whose bindings are only preferred, would
     * fail validation (it does in three JP Core DiagnosticReport examples). The in-memory module
     * reports the miss as "not in value set", which the core validator then grades by binding
     * strength (for a preferred binding: an information issue).
     */
    private static final class CommonLanguagesInMemory extends InMemoryTerminologyServerValidationSupport {
        CommonLanguagesInMemory(FhirContext ctx) {
            super(ctx);
        }

        @Override
        public String getName() {
            return "Common Languages value set (in-memory)";
        }

        @Override
        public boolean isValueSetSupported(ValidationSupportContext context, String valueSetUrl) {
            return CommonCodeSystemsTerminologyService.LANGUAGES_VALUESET_URL.equals(valueSetUrl)
                    && super.isValueSetSupported(context, valueSetUrl);
        }

        @Override
        public boolean isCodeSystemSupported(ValidationSupportContext context, String system) {
            return false;
        }
    }
}
