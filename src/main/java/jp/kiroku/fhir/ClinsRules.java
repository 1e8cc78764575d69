package jp.kiroku.fhir;

import ca.uhn.fhir.context.FhirContext;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CanonicalType;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.hl7.fhir.r4.model.Resource;

/**
 * JP-CLINS checks that the package's StructureDefinitions do not carry as invariants (or carry under another name),
 * done explicitly after HAPI's validation and reported with the rule id in the message:
 * <ul>
 * <li><b>R1021</b> institution number (医療機関番号): every identifier with the system
 * {@code http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no} — the {@code JP_eCS_InstitutionNumber}
 * extension every CLINS resource carries, an Organization's identifier — is 10 digits: prefecture 2 digits (01-47),
 * point table 1 digit (1 medical, 2 unused, 3 dental) and the 7-digit insurance institution code. The package has the
 * same pattern as {@code valid-value-institutionNumberExtension} on the extension and R9012 on JP_Bundle_CLINS, which
 * HAPI evaluates too; this check also covers Organizations and documents and names the rule.</li>
 * <li><b>R1013</b> (insurance member id "保険者番号:記号:番号:枝番") is a FHIRPath invariant of JP_Patient_eCS that HAPI
 * evaluates itself ({@code valid-value-insurance-patientIdentifier}); nothing is added here.</li>
 * <li><b>CLINS-LAB-LOCAL</b>: a JP_Observation_LabResult_eCS result carries the institution's own test code
 * ({@code JP_CLINS_ObsLabResult_LocalCode_CS}); the IG's error example {@code ErrorExample-ObsLabo-eGFR}
 * (「ローカルコードなし」) is about exactly this, while the 1.5.2 snapshot leaves the slice optional.</li>
 * </ul>
 * They run only for resources that declare a JP-CLINS / eCS profile (or Bundles holding such resources).
 */
final class ClinsRules {

    static final String INSTITUTION_NO_SYSTEM = "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
    static final Pattern INSTITUTION_NO = Pattern.compile("^(0[1-9]|[1-3][0-9]|4[0-7])[1-3][0-9]{7}$");
    static final String LAB_RESULT_PROFILE = "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Observation_LabResult_eCS";
    static final String LOCAL_LAB_CODE = "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_LocalCode_CS";

    ClinsRules(FhirContext ctx) {
        // nothing to keep: the checks walk the model classes
    }

    /** True when the resource (or an entry or contained resource) declares a JP-CLINS / eCS profile. */
    static boolean appliesTo(Resource resource) {
        if (declaresClins(resource)) {
            return true;
        }
        if (resource instanceof Bundle b) {
            return b.getEntry().stream().anyMatch(e -> e.getResource() != null && declaresClins(e.getResource()));
        }
        return false;
    }

    private static boolean declaresClins(Resource r) {
        for (CanonicalType p : r.getMeta().getProfile()) {
            String url = p.getValue();
            if (url != null && (url.startsWith("http://jpfhir.jp/fhir/clins/") || url.startsWith("http://jpfhir.jp/fhir/eCS/")
                    || url.startsWith("http://jpfhir.jp/fhir/eReferral/") || url.startsWith("http://jpfhir.jp/fhir/eDischargeSummary/")
                    || url.startsWith("http://jpfhir.jp/fhir/ePCS/"))) {
                return true;
            }
        }
        return false;
    }

    /** The issues these rules find (errors), located by FHIRPath-like paths. */
    List<OperationOutcome.OperationOutcomeIssueComponent> check(Resource resource) {
        List<OperationOutcome.OperationOutcomeIssueComponent> issues = new ArrayList<>();
        for (Identifier id : all(resource, Identifier.class)) {
            if (INSTITUTION_NO_SYSTEM.equals(id.getSystem()) && (id.getValue() == null || !INSTITUTION_NO.matcher(id.getValue()).matches())) {
                issues.add(error("R1021: 医療機関番号 '" + id.getValue() + "' (" + INSTITUTION_NO_SYSTEM + ") must be 10 digits:"
                        + " prefecture 01-47, point table 1|2|3, 7-digit institution code", path(id)));
            }
        }
        List<Resource> observations = new ArrayList<>();
        if (resource instanceof Observation o) {
            observations.add(o);
        } else if (resource instanceof Bundle b) {
            b.getEntry().stream().map(Bundle.BundleEntryComponent::getResource).filter(Observation.class::isInstance)
                    .forEach(observations::add);
        }
        for (Resource r : observations) {
            Observation o = (Observation) r;
            boolean lab = o.getMeta().getProfile().stream().anyMatch(p -> p.getValue() != null
                    && (p.getValue().equals(LAB_RESULT_PROFILE) || p.getValue().startsWith(LAB_RESULT_PROFILE + "|")));
            if (lab && o.getCode().getCoding().stream().noneMatch(c -> LOCAL_LAB_CODE.equals(c.getSystem()))) {
                issues.add(error("CLINS-LAB-LOCAL: a JP_Observation_LabResult_eCS result needs the institution's own test code"
                        + " (code.coding with system " + LOCAL_LAB_CODE + "); Observation/" + o.getIdElement().getIdPart()
                        + " has none", "Observation.code"));
            }
        }
        return issues;
    }

    /** Every element of the type in the tree, extensions, contained and Bundle entry resources included. */
    static <T extends Base> List<T> all(Base root, Class<T> type) {
        List<T> out = new ArrayList<>();
        collect(root, type, out);
        return out;
    }

    private static <T extends Base> void collect(Base element, Class<T> type, List<T> out) {
        if (type.isInstance(element)) {
            out.add(type.cast(element));
        }
        for (org.hl7.fhir.r4.model.Property p : element.children()) {
            for (Base child : p.getValues()) {
                if (child != null) {
                    collect(child, type, out);
                }
            }
        }
    }

    private static String path(Base element) {
        return element.fhirType();
    }

    private static OperationOutcome.OperationOutcomeIssueComponent error(String text, String location) {
        OperationOutcome.OperationOutcomeIssueComponent issue = new OperationOutcome.OperationOutcomeIssueComponent();
        issue.setSeverity(IssueSeverity.ERROR).setCode(IssueType.INVARIANT).setDiagnostics(text);
        issue.addLocation(location);
        return issue;
    }
}
