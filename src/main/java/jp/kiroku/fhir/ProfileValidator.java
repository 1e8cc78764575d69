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
import java.util.Objects;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.NpmPackageValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.UnknownCodeSystemWarningValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.OperationOutcomeIssueComponent;
import org.hl7.fhir.r4.model.Patient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Validates R4 resources against the base specification and the JP Core 1.1.2 profiles.
 *
 * <p>Building the validator parses thousands of conformance resources (seconds, hundreds of MB), so
 * it is done once, lazily, under a lock; afterwards every caller shares the same {@link FhirValidator},
 * which HAPI documents as thread-safe.
 */
final class ProfileValidator {

    private static final Logger LOG = LoggerFactory.getLogger(ProfileValidator.class);

    /** Bundled in the jar so the application never reads ../shared at run time. */
    static final String JP_CORE_PACKAGE = "classpath:fhir-packages/jp-core.r4-1.1.2.tgz";

    private static final String JP_PATIENT = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient";

    private final FhirContext ctx;
    private final Object buildLock = new Object();
    /** Set once under {@link #buildLock}; volatile so later readers skip the lock. */
    private volatile FhirValidator validator;

    ProfileValidator(FhirContext ctx) {
        this.ctx = Objects.requireNonNull(ctx, "ctx");
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
        return (OperationOutcome) validator().validateWithResult(resource, options).toOperationOutcome();
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
        NpmPackageValidationSupport jpCore = new NpmPackageValidationSupport(ctx);
        try {
            jpCore.loadPackageFromClasspath(JP_CORE_PACKAGE);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot load FHIR package " + JP_CORE_PACKAGE, e);
        }

        // JP Core data uses code systems that no package here defines (urn:oid:1.2.392..., JLAC10,
        // HOT, MEDIS, LOINC, local systems). Report codes from them as warnings, not errors; codes
        // from systems we do have are still checked by the in-memory terminology service.
        UnknownCodeSystemWarningValidationSupport unknownCodeSystems = new UnknownCodeSystemWarningValidationSupport(ctx);
        unknownCodeSystems.setNonExistentCodeSystemSeverity(IValidationSupport.IssueSeverity.WARNING);

        // Since HAPI 8 the chain caches lookups itself (CachingValidationSupport is deprecated).
        ValidationSupportChain chain = new ValidationSupportChain(
                new DefaultProfileValidationSupport(ctx),
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
