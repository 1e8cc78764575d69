package jp.kiroku.search;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.hl7.fhir.r4.model.SearchParameter;
import org.hl7.fhir.utilities.npm.NpmPackage;

import ca.uhn.fhir.context.FhirContext;

/**
 * The SearchParameters of the JP Core package (the same package the validator loads), indexed like R4's own.
 * Three of JP Core 1.1.2's expressions read Coding and Identifier extension values with {@code .as(code)}, which never
 * matches; they are replaced by the expressions their extension definitions imply (recorded in
 * docs/search-design.md), so that the parameters work rather than silently match nothing.
 */
final class PackageSearchParameters {

    static final String JP_CORE = "fhir-packages/jp-core.r4-1.1.2.tgz";

    /** code → corrected expression (JP_Organization_* extensions carry valueCoding / valueIdentifier). */
    static final Map<String, String> CORRECTED = Map.of(
            "jp-insurance-organizationcategory", "Organization.extension.where(url='http://jpfhir.jp/fhir/core/Extension/"
                    + "StructureDefinition/JP_Organization_InsuranceOrganizationCategory').value.as(Coding)",
            "jp-insurance-organizationno", "Organization.extension.where(url='http://jpfhir.jp/fhir/core/Extension/"
                    + "StructureDefinition/JP_Organization_InsuranceOrganizationNo').value.as(Identifier)",
            "jp-prefectureno", "Organization.extension.where(url='http://jpfhir.jp/fhir/core/Extension/"
                    + "StructureDefinition/JP_Organization_PrefectureNo').value.as(Coding)");

    private PackageSearchParameters() {
    }

    /** Active SearchParameters of the package, with corrected expressions where needed. */
    static List<SearchParameter> load(FhirContext ctx) {
        List<SearchParameter> out = new ArrayList<>();
        try (InputStream in = PackageSearchParameters.class.getClassLoader().getResourceAsStream(JP_CORE)) {
            if (in == null) {
                throw new IllegalStateException(JP_CORE + " is missing from the class path");
            }
            NpmPackage pkg = NpmPackage.fromPackage(in);
            for (String file : pkg.listResources("SearchParameter")) {
                try (InputStream r = pkg.loadResource(file)) {
                    SearchParameter sp = ctx.newJsonParser().parseResource(SearchParameter.class, r);
                    if (CORRECTED.containsKey(sp.getCode())) {
                        sp.setExpression(CORRECTED.get(sp.getCode()));
                    }
                    out.add(sp);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read " + JP_CORE + ": " + e.getMessage(), e);
        }
        return out;
    }
}
