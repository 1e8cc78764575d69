package jp.kiroku.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.ServerTest;

/**
 * JP Core 1.1.2 examples declare their profiles, so the server validates them on write (the package ships inside the
 * jar): every example is accepted, and a deliberately broken copy is refused with 422 naming the fault.
 */
class JpCoreExamplesTest extends ServerTest {

    static final Path EXAMPLES = Path.of("../shared/data/jpcore/jp-core-1.1.2-examples");

    private static List<Resource> examples() throws Exception {
        try (Stream<Path> files = Files.list(EXAMPLES)) {
            return files.filter(f -> f.toString().endsWith(".json")).sorted().map(f -> {
                try {
                    return (Resource) FhirHttp.CTX.newJsonParser().parseResource(Files.readString(f));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList();
        }
    }

    private void putAll(List<Resource> all) {
        Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        for (Resource r : all) {
            String ref = r.fhirType() + "/" + r.getIdElement().getIdPart();
            tx.addEntry().setFullUrl(ref).setResource(r).getRequest().setMethod(Bundle.HTTPVerb.PUT).setUrl(ref);
        }
        Response r = admin.post("", FhirHttp.json(tx));
        assertThat(r.status()).as(r.body().substring(0, Math.min(2000, r.body().length()))).isEqualTo(200);
    }

    private java.util.Set<String> ids(String query) {
        Response r = admin.get(query, java.util.Map.of("Prefer", "handling=strict"));
        assertThat(r.status()).as(query + ": " + r.body()).isEqualTo(200);
        return r.as(Bundle.class).getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart())
                .collect(java.util.stream.Collectors.toSet());
    }

    private static String enc(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** JP Core's SearchParameters, with the expected matches read from the examples' extensions in plain Java. */
    @Test
    void jpCoreSearchParametersFindTheExamples() throws Exception {
        List<Resource> all = examples();
        putAll(all);
        String base = "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/";
        int checked = 0;
        for (Resource r : all) {
            String id = r.getIdElement().getIdPart();
            if (r instanceof org.hl7.fhir.r4.model.Organization o) {
                for (var ext : o.getExtension()) {
                    String param = switch (ext.getUrl().replace(base, "")) {
                        case "JP_Organization_PrefectureNo" -> "jp-prefectureno";
                        case "JP_Organization_InsuranceOrganizationCategory" -> "jp-insurance-organizationcategory";
                        case "JP_Organization_InsuranceOrganizationNo" -> "jp-insurance-organizationno";
                        default -> null;
                    };
                    if (param == null) {
                        continue;
                    }
                    String token = ext.getValue() instanceof org.hl7.fhir.r4.model.Coding c ? c.getSystem() + "|" + c.getCode()
                            : ((org.hl7.fhir.r4.model.Identifier) ext.getValue()).getSystem() + "|"
                            + ((org.hl7.fhir.r4.model.Identifier) ext.getValue()).getValue();
                    assertThat(ids("Organization?" + param + "=" + enc(token))).as(param).contains(id);
                    assertThat(ids("Organization?_id=" + id + "&" + param + "=" + enc(token + "-other"))).isEmpty();
                    checked++;
                }
            }
            if (r instanceof org.hl7.fhir.r4.model.Coverage c) {
                for (var ext : c.getExtension()) {
                    if (ext.getUrl().equals(base + "JP_Coverage_InsuredPersonNumber")) {
                        // full-width digits in the data; the string index folds widths, so ASCII digits find them
                        String ascii = java.text.Normalizer.normalize(ext.getValue().primitiveValue(), java.text.Normalizer.Form.NFKC);
                        assertThat(ids("Coverage?jp-insured-personnumber=" + enc(ascii))).contains(id);
                        checked++;
                    }
                }
            }
        }
        assertThat(checked).as("example extensions checked").isGreaterThanOrEqualTo(4);
        // jp-kana-sort: patients ordered by their kana (SYL) name, as the data says
        List<org.hl7.fhir.r4.model.Patient> patients = new java.util.ArrayList<>(all.stream()
                .filter(r -> r instanceof org.hl7.fhir.r4.model.Patient).map(r -> (org.hl7.fhir.r4.model.Patient) r).toList());
        for (String[] name : new String[][] {{"佐藤 花子", "サトウ ハナコ"}, {"青木 一郎", "アオキ イチロウ"}, {"渡辺 健", "ワタナベ ケン"}}) {
            String body = "{\"resourceType\":\"Patient\",\"name\":[{\"extension\":[{\"url\":\"http://hl7.org/fhir/StructureDefinition/"
                    + "iso21090-EN-representation\",\"valueCode\":\"IDE\"}],\"use\":\"usual\",\"text\":\"" + name[0] + "\"},"
                    + "{\"extension\":[{\"url\":\"http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation\","
                    + "\"valueCode\":\"SYL\"}],\"use\":\"usual\",\"text\":\"" + name[1] + "\"}]}";
            patients.add(admin.post("Patient", body).as(org.hl7.fhir.r4.model.Patient.class));
        }
        java.util.function.Function<org.hl7.fhir.r4.model.Patient, String> kana = p -> p.getName().stream()
                .filter(n -> n.getExtension().stream().anyMatch(e -> "SYL".equals(e.getValue().primitiveValue())))
                .map(org.hl7.fhir.r4.model.HumanName::getText).findFirst().orElse(null);
        List<String> expected = patients.stream().filter(p -> kana.apply(p) != null)
                .sorted(java.util.Comparator.comparing(kana)).map(p -> p.getIdElement().getIdPart()).toList();
        assertThat(expected).hasSizeGreaterThanOrEqualTo(2);
        String idList = String.join(",", expected);
        Response sorted = admin.get("Patient?_id=" + idList + "&_sort=jp-kana-sort");
        assertThat(sorted.as(Bundle.class).getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart()).toList())
                .isEqualTo(expected);
        Response reversed = admin.get("Patient?_id=" + idList + "&_sort=-jp-kana-sort");
        assertThat(reversed.as(Bundle.class).getEntry().get(0).getResource().getIdElement().getIdPart())
                .isEqualTo(expected.get(expected.size() - 1));
    }

    @Test
    void everyExampleIsAcceptedAndStoredUnderItsOwnId() throws Exception {
        List<Resource> all = examples();
        assertThat(all).hasSizeGreaterThan(40);
        // most declare a JP Core profile, so the write path validates them against it
        assertThat(all.stream().filter(r -> r.getMeta().hasProfile()).count()).isGreaterThan(30);
        // one transaction of PUTs: the examples refer to each other by these ids
        Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        for (Resource r : all) {
            String ref = r.fhirType() + "/" + r.getIdElement().getIdPart();
            tx.addEntry().setFullUrl(ref).setResource(r).getRequest().setMethod(Bundle.HTTPVerb.PUT).setUrl(ref);
        }
        Response r = admin.post("", FhirHttp.json(tx));
        assertThat(r.status()).as(r.body().substring(0, Math.min(2000, r.body().length()))).isEqualTo(200);
        for (Resource ex : all) {
            assertThat(admin.get(ex.fhirType() + "/" + ex.getIdElement().getIdPart()).status()).isEqualTo(200);
        }
    }

    @Test
    void aBrokenCopyIsRefusedWithAnOutcomeNamingTheFault() throws Exception {
        Patient patient = (Patient) examples().stream().filter(r -> r instanceof Patient).findFirst().orElseThrow();
        String id = "broken-" + java.util.UUID.randomUUID(); // unique, so that reruns against one database agree
        patient.setId(id);
        patient.getIdentifierFirstRep().setValue(null); // JP_Patient requires identifier.value (1..1)
        Response r = admin.put("Patient/" + id, FhirHttp.json(patient));
        assertThat(r.status()).isEqualTo(422);
        OperationOutcome oo = r.as(OperationOutcome.class);
        assertThat(oo.getIssue()).anySatisfy(i -> {
            assertThat(i.getSeverity()).isEqualTo(OperationOutcome.IssueSeverity.ERROR);
            assertThat(i.getDiagnostics()).contains("Patient.identifier.value");
        });
        assertThat(admin.get("Patient/" + id).status()).isEqualTo(404);

        // $validate says the same without storing anything
        Response v = admin.post("Patient/$validate", FhirHttp.json(patient));
        assertThat(v.status()).isIn(200, 412, 422);
        assertThat(v.body()).contains("Patient.identifier.value");

        // without the profile claim the same resource is valid base R4 and is stored (the profile made the error)
        patient.getMeta().getProfile().clear();
        assertThat(admin.put("Patient/" + id, FhirHttp.json(patient)).status()).isEqualTo(201);
    }
}
