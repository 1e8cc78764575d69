package jp.kiroku.exchange;

import java.util.List;

import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;

/** Reading validation outcomes for JP-CLINS exchange. */
public final class ClinsOutcomes {

    private ClinsOutcomes() {
    }

    /** True when an issue is an error or fatal. */
    public static boolean hasErrors(OperationOutcome outcome) {
        return !errors(outcome).isEmpty();
    }

    /** The error and fatal issues' texts. */
    public static List<String> errors(OperationOutcome outcome) {
        return outcome == null ? List.of() : outcome.getIssue().stream()
                .filter(i -> i.getSeverity() == IssueSeverity.ERROR || i.getSeverity() == IssueSeverity.FATAL)
                .map(i -> i.getDiagnostics() + (i.hasLocation() ? " @ " + i.getLocation().get(0).getValue() : ""))
                .toList();
    }
}
