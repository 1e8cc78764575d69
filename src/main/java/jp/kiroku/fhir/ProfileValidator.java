package jp.kiroku.fhir;

import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.OperationOutcome;

import ca.uhn.fhir.context.FhirContext;

/** Placeholder replaced by the validator implementation. */
final class ProfileValidator {
    ProfileValidator(FhirContext ctx) {
    }

    void warmUpInBackground() {
    }

    OperationOutcome validate(IBaseResource resource) {
        return validate(resource, null);
    }

    OperationOutcome validate(IBaseResource resource, String profileUrl) {
        return new OperationOutcome();
    }

    static boolean hasErrors(OperationOutcome outcome) {
        return outcome.getIssue().stream().anyMatch(i -> i.getSeverity() == OperationOutcome.IssueSeverity.ERROR
                || i.getSeverity() == OperationOutcome.IssueSeverity.FATAL);
    }
}
