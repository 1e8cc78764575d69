package jp.kiroku.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.PostedBundle;
import jp.kiroku.support.ServerTest;

/**
 * Sorting, includes, chains, _has, compartments, $everything, snapshot paging, POST _search and the output
 * parameters, with expected answers computed from the posted Synthea bundle in plain Java.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SearchFeaturesTest extends ServerTest {

    private static final Path BUNDLE = Path.of("../shared/data/synthea/Alexis_Toy_68cd1181-6359-4047-a77f-a165d7912480.json");

    private PostedBundle posted;
    private Bundle sent;
    private String patientId;
    private Patient patient;

    @BeforeAll
    void postOneSyntheaPatient() throws Exception {
        clientsForTheRunningServer();
        posted = new PostedBundle(admin, BUNDLE);
        sent = posted.sent;
        patientId = posted.patientId;
        patient = posted.patient;
    }

    private <T extends Resource> List<T> sent(Class<T> type) {
        return posted.sent(type);
    }

    private String idOf(Resource r) {
        return posted.idOf(r);
    }

    /** All pages of a search: Type/id of every entry with its search mode, checking no entry repeats. */
    private List<Bundle> pages(String query) {
        List<Bundle> pages = new ArrayList<>();
        Response r = admin.get(query);
        while (true) {
            assertThat(r.status()).as(query + ": " + r.body()).isEqualTo(200);
            Bundle page = r.as(Bundle.class);
            pages.add(page);
            if (page.getLink("next") == null) {
                return pages;
            }
            r = admin.get(page.getLink("next").getUrl());
        }
    }

    private List<String> matchIds(String query) {
        List<String> ids = new ArrayList<>();
        for (Bundle page : pages(query)) {
            page.getEntry().stream().filter(e -> e.getSearch().getMode() == Bundle.SearchEntryMode.MATCH)
                    .forEach(e -> ids.add(e.getResource().getIdElement().getIdPart()));
        }
        assertThat(new HashSet<>(ids)).as("no duplicates across pages of " + query).hasSize(ids.size());
        return ids;
    }

    private static List<String> reversed(List<String> list) {
        List<String> out = new ArrayList<>(list);
        java.util.Collections.reverse(out);
        return out;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    @Test
    void sortByDateFollowsTheData() {
        List<Encounter> encounters = sent(Encounter.class);
        List<String> desc = matchIds("Encounter?patient=" + patientId + "&_sort=-date&_count=5");
        List<Instant> ends = desc.stream().map(id -> encounters.stream().filter(e -> idOf(e).equals(id)).findFirst().orElseThrow())
                .map(e -> e.getPeriod().getEnd().toInstant()).toList();
        assertThat(ends).hasSize(encounters.size()).isSortedAccordingTo(Comparator.reverseOrder());
        List<String> asc = matchIds("Encounter?patient=" + patientId + "&_sort=date");
        List<Instant> starts = asc.stream().map(id -> encounters.stream().filter(e -> idOf(e).equals(id)).findFirst().orElseThrow())
                .map(e -> e.getPeriod().getStart().toInstant()).toList();
        assertThat(starts).hasSize(encounters.size()).isSortedAccordingTo(Comparator.naturalOrder());
    }

    @Test
    void sortByQuantityFollowsTheData() {
        Map<String, List<Observation>> byCode = sent(Observation.class).stream().filter(Observation::hasValueQuantity)
                .collect(Collectors.groupingBy(o -> o.getCode().getCodingFirstRep().getCode()));
        List<Observation> obs = byCode.values().stream().max(Comparator.comparingInt(List::size)).orElseThrow();
        String code = obs.get(0).getCode().getCodingFirstRep().getCode();
        Map<String, java.math.BigDecimal> valueOf = obs.stream().collect(Collectors.toMap(this::idOf,
                o -> o.getValueQuantity().getValue()));
        List<java.math.BigDecimal> asc = matchIds("Observation?patient=" + patientId + "&code=" + code
                + "&_sort=value-quantity&_count=3").stream().map(valueOf::get).toList();
        assertThat(asc).hasSize(obs.size()).isSortedAccordingTo(Comparator.naturalOrder());
        List<java.math.BigDecimal> desc = matchIds("Observation?patient=" + patientId + "&code=" + code
                + "&_sort=-value-quantity").stream().map(valueOf::get).toList();
        assertThat(desc).isSortedAccordingTo(Comparator.reverseOrder());
    }

    /** Included resources obey the token's scopes; $everything needs read access to every type it returns. */
    @Test
    void includesAndEverythingRespectScopes() {
        FhirHttp observationsOnly = clientWith("system/Observation.read");
        Observation obs = sent(Observation.class).get(0);
        Response r = observationsOnly.get("Observation?_id=" + idOf(obs) + "&_include=Observation:patient");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.as(Bundle.class).getEntry()).extracting(e -> e.getResource().fhirType()).containsExactly("Observation");
        Response withAdmin = admin.get("Observation?_id=" + idOf(obs) + "&_include=Observation:patient");
        assertThat(withAdmin.as(Bundle.class).getEntry()).extracting(e -> e.getResource().fhirType())
                .containsExactly("Observation", "Patient");
        assertThat(observationsOnly.get("Patient/" + patientId + "/$everything").status()).isEqualTo(403);
        FhirHttp patientsOnly = clientWith("system/Patient.read");
        assertThat(patientsOnly.get("Patient/" + patientId + "/$everything").status()).isEqualTo(403);
    }

    @Test
    void compositeParametersPairValuesOfTheSameElement() {
        // top level: code-value-quantity, over the code with the most quantities
        Map<String, List<Observation>> byCode = sent(Observation.class).stream().filter(Observation::hasValueQuantity)
                .collect(Collectors.groupingBy(o -> o.getCode().getCodingFirstRep().getCode()));
        List<Observation> obs = byCode.values().stream().max(Comparator.comparingInt(List::size)).orElseThrow();
        String code = obs.get(0).getCode().getCodingFirstRep().getCode();
        List<java.math.BigDecimal> values = obs.stream().map(o -> o.getValueQuantity().getValue()).sorted().toList();
        java.math.BigDecimal m = values.get(values.size() / 2);
        Set<String> expected = obs.stream().filter(o -> o.getValueQuantity().getValue().compareTo(m) > 0).map(this::idOf)
                .collect(Collectors.toSet());
        assertThat(new HashSet<>(matchIds("Observation?code-value-quantity=" + enc("http://loinc.org|" + code + "$gt"
                + m.toPlainString())))).isEqualTo(expected);
        // components: each component's code pairs only with that component's value
        Map<String, java.math.BigDecimal> maxByComponent = new HashMap<>();
        sent(Observation.class).forEach(o -> o.getComponent().stream().filter(c -> c.hasValueQuantity()).forEach(c ->
                maxByComponent.merge(c.getCode().getCodingFirstRep().getCode(), c.getValueQuantity().getValue(),
                        (a, b) -> a.max(b))));
        assertThat(maxByComponent).as("blood pressure components in the bundle").hasSizeGreaterThanOrEqualTo(2);
        for (var e : maxByComponent.entrySet()) {
            java.math.BigDecimal threshold = e.getValue().subtract(java.math.BigDecimal.ONE);
            Set<String> withComponent = sent(Observation.class).stream().filter(o -> o.getComponent().stream()
                    .anyMatch(c -> c.hasValueQuantity() && c.getCode().getCodingFirstRep().getCode().equals(e.getKey())
                            && c.getValueQuantity().getValue().compareTo(threshold) > 0)).map(this::idOf).collect(Collectors.toSet());
            assertThat(new HashSet<>(matchIds("Observation?patient=" + patientId + "&component-code-value-quantity="
                    + enc(e.getKey() + "$gt" + threshold.toPlainString())))).as(e.getKey()).isEqualTo(withComponent).isNotEmpty();
        }
        // the largest value of one component is not found under another component's code
        var sorted = maxByComponent.entrySet().stream().sorted(Map.Entry.comparingByValue()).toList();
        String lower = sorted.get(0).getKey();
        java.math.BigDecimal above = sorted.get(0).getValue();
        assertThat(matchIds("Observation?patient=" + patientId + "&component-code-value-quantity=" + enc(lower + "$gt"
                + above.toPlainString()))).isEmpty();
        assertThat(admin.get("Observation?code-value-quantity=no-dollar").status()).isEqualTo(400);
    }

    @Test
    void sortByStringInMemoryIncludingKanaAndRefusedAboveTheLimit() {
        String marker = "sort" + System.nanoTime();
        Map<String, String> ids = new HashMap<>();
        for (String family : List.of("タナカ", "Baker", "すずき", "adams", "サトウ")) {
            ids.put(family, admin.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family
                    + "\",\"given\":[\"" + marker + "\"]}]}").as(Patient.class).getIdElement().getIdPart());
        }
        List<String> expected = List.of("adams", "Baker", "サトウ", "すずき", "タナカ").stream().map(ids::get).toList();
        assertThat(matchIds("Patient?given=" + marker + "&_sort=family&_count=2")).isEqualTo(expected);
        assertThat(matchIds("Patient?given=" + marker + "&_sort=-family")).isEqualTo(reversed(expected));
        for (int i = 0; i < MAX_STRING_SORT; i++) {
            admin.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"x" + i + "\",\"given\":[\"" + marker + "\"]}]}");
        }
        Response refused = admin.get("Patient?given=" + marker + "&_sort=family");
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.body()).contains("at most " + MAX_STRING_SORT);
        assertThat(admin.get("Patient?given=" + marker + "&_sort=-_lastUpdated").status()).isEqualTo(200);
        assertThat(admin.get("Patient?given=" + marker + "&_sort=gender").status()).isEqualTo(400);
    }

    @Test
    void beyondMaxResultsOnlyTheFirstOnesArePagedWithAWarning() {
        String marker = "many" + System.nanoTime();
        StringBuilder tx = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
        for (int i = 0; i <= MAX_RESULTS; i++) {
            tx.append(i == 0 ? "" : ",").append("{\"resource\":").append(observation(marker, i))
                    .append(",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}");
        }
        assertThat(admin.post("", tx.append("]}").toString()).status()).isEqualTo(200);
        List<Bundle> pages = pages("Observation?code=" + marker + "&_count=50");
        for (Bundle page : pages) {
            assertThat(page.getTotal()).isEqualTo(MAX_RESULTS + 1);
            assertThat(page.getEntry()).filteredOn(e -> e.getSearch().getMode() == Bundle.SearchEntryMode.OUTCOME).hasSize(1)
                    .allSatisfy(e -> assertThat(((org.hl7.fhir.r4.model.OperationOutcome) e.getResource()).getIssueFirstRep()
                            .getDiagnostics()).contains("only the first " + MAX_RESULTS));
        }
        List<String> paged = new ArrayList<>();
        pages.forEach(p -> p.getEntry().stream().filter(e -> e.getSearch().getMode() == Bundle.SearchEntryMode.MATCH)
                .forEach(e -> paged.add(e.getResource().getIdElement().getIdPart())));
        assertThat(paged).hasSize(MAX_RESULTS).doesNotHaveDuplicates();
        Bundle count = admin.get("Observation?code=" + marker + "&_summary=count").as(Bundle.class);
        assertThat(count.getTotal()).isEqualTo(MAX_RESULTS + 1);
        assertThat(count.getEntry()).isEmpty();
    }

    @Test
    void includeRevincludeAndIterate() {
        Observation obs = sent(Observation.class).stream().filter(Observation::hasEncounter).findFirst().orElseThrow();
        Encounter enc = sent(Encounter.class).stream()
                .filter(e -> posted.location(sent.getEntry().stream().filter(x -> x.getResource() == e).findFirst().orElseThrow()
                        .getFullUrl()).equals(posted.location(obs.getEncounter().getReference()))).findFirst().orElseThrow();
        String org = posted.location(enc.getServiceProvider().getReference());
        Bundle b = pages("Observation?_id=" + idOf(obs) + "&_include=Observation:patient&_include=Observation:encounter"
                + "&_include:iterate=Encounter:service-provider").get(0);
        Map<Bundle.SearchEntryMode, Set<String>> byMode = b.getEntry().stream().collect(Collectors.groupingBy(
                e -> e.getSearch().getMode(), Collectors.mapping(e -> e.getResource().fhirType() + "/"
                        + e.getResource().getIdElement().getIdPart(), Collectors.toSet())));
        assertThat(byMode.get(Bundle.SearchEntryMode.MATCH)).containsExactly("Observation/" + idOf(obs));
        assertThat(byMode.get(Bundle.SearchEntryMode.INCLUDE)).containsExactlyInAnyOrder("Patient/" + patientId,
                "Encounter/" + idOf(enc), org);
        assertThat(b.getTotal()).isEqualTo(1); // includes are not counted
        // without :iterate the organization is not reached
        Bundle noIterate = pages("Observation?_id=" + idOf(obs) + "&_include=Observation:encounter"
                + "&_include=Encounter:service-provider").get(0);
        assertThat(noIterate.getEntry()).hasSize(2);
        // _revinclude: the patient with every encounter that points at it
        Set<String> encounters = sent(Encounter.class).stream().map(e -> "Encounter/" + idOf(e)).collect(Collectors.toSet());
        Bundle rev = pages("Patient?_id=" + patientId + "&_revinclude=Encounter:patient").get(0);
        assertThat(rev.getEntry().stream().filter(e -> e.getSearch().getMode() == Bundle.SearchEntryMode.INCLUDE)
                .map(e -> "Encounter/" + e.getResource().getIdElement().getIdPart()).collect(Collectors.toSet())).isEqualTo(encounters);
        assertThat(admin.get("Observation?_include=Observation:nosuch").status()).isEqualTo(400);
    }

    @Test
    void chainedParametersAndHas() {
        String family = patient.getNameFirstRep().getFamily();
        Set<String> encounters = sent(Encounter.class).stream().map(this::idOf).collect(Collectors.toSet());
        Set<String> found = new HashSet<>(matchIds("Encounter?patient.family=" + enc(family) + "&patient._id=" + patientId));
        assertThat(found).isEqualTo(encounters);
        var identifier = patient.getIdentifierFirstRep();
        Set<String> observations = sent(Observation.class).stream().map(this::idOf).collect(Collectors.toSet());
        assertThat(new HashSet<>(matchIds("Observation?subject:Patient.identifier=" + enc(identifier.getSystem() + "|"
                + identifier.getValue()) + "&_count=100"))).isEqualTo(observations);
        assertThat(matchIds("Encounter?patient.family=" + enc(family) + "-no-such&patient._id=" + patientId)).isEmpty();
        // _has: the patient has an Observation with this code, and none with a made-up one
        Coding code = sent(Observation.class).get(0).getCode().getCodingFirstRep();
        assertThat(matchIds("Patient?_id=" + patientId + "&_has:Observation:patient:code=" + enc(code.getSystem() + "|"
                + code.getCode()))).containsExactly(patientId);
        assertThat(matchIds("Patient?_id=" + patientId + "&_has:Observation:patient:code=no-such-code")).isEmpty();
        // identifier:of-type: the type coding and the value of the same identifier
        var typed = patient.getIdentifier().stream().filter(i -> i.getType().hasCoding()).findFirst().orElseThrow();
        var type = typed.getType().getCodingFirstRep();
        assertThat(matchIds("Patient?identifier:of-type=" + enc(type.getSystem() + "|" + type.getCode() + "|" + typed.getValue())))
                .containsExactly(patientId);
        assertThat(matchIds("Patient?identifier:of-type=" + enc(type.getSystem() + "|NOT-" + type.getCode() + "|"
                + typed.getValue()))).isEmpty();
        assertThat(admin.get("Patient?identifier:of-type=" + enc(typed.getValue())).status()).isEqualTo(400);
        Response deep = admin.get("Encounter?patient.organization.name=x", Map.of("Prefer", "handling=strict"));
        assertThat(deep.status()).isEqualTo(400);
    }

    @Test
    void compartmentSearchEqualsTheDataAndPostSearchToo() {
        Coding code = sent(Observation.class).get(0).getCode().getCodingFirstRep();
        Set<String> expected = sent(Observation.class).stream()
                .filter(o -> o.getCode().getCoding().stream().anyMatch(c -> c.getCode().equals(code.getCode())))
                .map(this::idOf).collect(Collectors.toSet());
        assertThat(new HashSet<>(matchIds("Patient/" + patientId + "/Observation?code=" + code.getCode()))).isEqualTo(expected);
        Set<String> all = sent(Observation.class).stream().map(this::idOf).collect(Collectors.toSet());
        assertThat(new HashSet<>(matchIds("Patient/" + patientId + "/Observation?_count=20"))).isEqualTo(all);
        Response notIn = admin.get("Patient/" + patientId + "/Practitioner");
        assertThat(notIn.status()).isEqualTo(400);
        assertThat(notIn.body()).contains("not in the Patient compartment");
        // POST _search: form parameters, same answer
        Response post = admin.send("POST", "Observation/_search", "application/x-www-form-urlencoded",
                "patient=" + patientId + "&code=" + code.getCode());
        assertThat(post.status()).as(post.body()).isEqualTo(200);
        assertThat(post.as(Bundle.class).getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart())
                .collect(Collectors.toSet())).isEqualTo(expected);
        Response postCompartment = admin.send("POST", "Patient/" + patientId + "/Observation/_search",
                "application/x-www-form-urlencoded", "code=" + code.getCode());
        assertThat(postCompartment.status()).as(postCompartment.body()).isEqualTo(200);
        assertThat(postCompartment.as(Bundle.class).getTotal()).isEqualTo(expected.size());
    }

    @Test
    void everythingReturnsTheCompartmentAndWhatItReferencesAcrossPages() {
        // expected from the bundle: the patient, whatever references it, and whatever those reference
        var terser = FhirHttp.CTX.newTerser();
        String patientUrl = sent.getEntry().stream().filter(e -> e.getResource() == patient).findFirst().orElseThrow().getFullUrl();
        Set<String> members = new LinkedHashSet<>();
        members.add(patientUrl);
        for (var e : sent.getEntry()) {
            if (terser.getAllResourceReferences(e.getResource()).stream()
                    .anyMatch(ref -> patientUrl.equals(ref.getResourceReference().getReferenceElement().getValue()))) {
                members.add(e.getFullUrl());
            }
        }
        Set<String> expected = new HashSet<>();
        for (var e : sent.getEntry()) {
            if (members.contains(e.getFullUrl())) {
                expected.add(posted.location(e.getFullUrl()));
                terser.getAllResourceReferences(e.getResource()).forEach(ref -> {
                    String target = posted.location(ref.getResourceReference().getReferenceElement().getValue());
                    if (target != null) {
                        expected.add(target);
                    }
                });
            }
        }
        List<String> found = new ArrayList<>();
        List<Bundle> pages = pages("Patient/" + patientId + "/$everything?_count=50");
        assertThat(pages).hasSizeGreaterThan(1);
        pages.forEach(p -> p.getEntry().forEach(e -> found.add(e.getResource().fhirType() + "/" + e.getResource().getIdElement().getIdPart())));
        assertThat(found).doesNotHaveDuplicates();
        assertThat(new HashSet<>(found)).isEqualTo(expected);
        assertThat(found.get(0)).isEqualTo("Patient/" + patientId);
        assertThat(pages.get(0).getTotal()).isEqualTo(expected.size());
        // _type narrows it
        List<String> onlyEncounters = new ArrayList<>();
        pages("Patient/" + patientId + "/$everything?_type=Encounter").forEach(p -> p.getEntry()
                .forEach(e -> onlyEncounters.add(e.getResource().fhirType())));
        assertThat(onlyEncounters).hasSize(sent(Encounter.class).size()).containsOnly("Encounter");
        assertThat(admin.get("Patient/no-such-patient/$everything").status()).isEqualTo(404);
    }

    /**
     * A record in B's compartment that belongs to A (placed with A, its subject) brings what it references into B's
     * $everything as into A's.
     */
    @Test
    void everythingIncludesWhatARecordPlacedWithAnotherPatientReferences() {
        String a = patientNamed("患者A");
        String b = patientNamed("患者B");
        String doctor = admin.post("Practitioner", "{\"resourceType\":\"Practitioner\",\"name\":[{\"family\":\"医師\"}]}")
                .as(org.hl7.fhir.r4.model.Practitioner.class).getIdElement().getIdPart();
        Response created = admin.post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":"
                + "\"家族歴の聴取\"},\"subject\":{\"reference\":\"Patient/" + a + "\"},\"performer\":[{\"reference\":\"Patient/" + b
                + "\"},{\"reference\":\"Practitioner/" + doctor + "\"}]}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String observation = created.as(Observation.class).getIdElement().getIdPart();
        for (String patient : List.of(a, b)) {
            Set<String> found = new HashSet<>();
            pages("Patient/" + patient + "/$everything").forEach(p -> p.getEntry().forEach(e -> found.add(
                    e.getResource().fhirType() + "/" + e.getResource().getIdElement().getIdPart())));
            // the record and all it refers to: both patients and the practitioner
            assertThat(found).as("everything of " + patient).isEqualTo(Set.of("Patient/" + a, "Patient/" + b,
                    "Observation/" + observation, "Practitioner/" + doctor));
        }
    }

    /**
     * A search naming one patient reads the records placed with that patient and, apart, those that name the patient
     * but are placed with another one. An AllergyIntolerance is placed with its asserter when that is a patient (the
     * asserter comes first in R4's Patient compartment), so these four cover both parts, and a record placed with A
     * that names B must not be found for A.
     */
    @Test
    void aSearchByPatientFindsRecordsPlacedWithAnotherPatientAndOnlyThoseNamingIt() {
        String a = patientNamed("置き場A");
        String b = patientNamed("置き場B");
        Map<String, String> ids = new java.util.LinkedHashMap<>();
        ids.put("a-asserted-by-b", allergy(a, b, "peanut", "2024-05-01"));
        ids.put("a", allergy(a, null, "egg", "2024-06-01"));
        ids.put("a-old", allergy(a, null, "peanut", "2020-01-01"));
        ids.put("b-asserted-by-a", allergy(b, a, "peanut", "2024-07-01"));
        Map<String, Set<String>> expected = new java.util.LinkedHashMap<>();
        expected.put("AllergyIntolerance?patient=" + a, Set.of("a-asserted-by-b", "a", "a-old"));
        expected.put("AllergyIntolerance?patient=" + a + "&date=ge2024-01-01", Set.of("a-asserted-by-b", "a"));
        expected.put("AllergyIntolerance?patient=Patient/" + a + "&code=urn:test%7Cpeanut", Set.of("a-asserted-by-b", "a-old"));
        expected.put("AllergyIntolerance?patient=" + a + "&code:not=urn:test%7Cpeanut", Set.of("a"));
        expected.put("AllergyIntolerance?patient=" + a + "&date=lt2024-06-01&code=peanut", Set.of("a-asserted-by-b", "a-old"));
        expected.put("AllergyIntolerance?patient=" + a + "&verification-status:missing=true", Set.of("a-asserted-by-b", "a",
                "a-old"));
        expected.put("AllergyIntolerance?patient=" + a + "&verification-status:missing=false", Set.of());
        // an unsupported modifier is ignored (lenient handling): it must leave the other conditions' arguments in place
        expected.put("AllergyIntolerance?patient=" + a + "&code:above=peanut&date=ge2024-01-01", Set.of("a-asserted-by-b",
                "a"));
        expected.put("AllergyIntolerance?patient=" + b + "&date=ge2024-01-01", Set.of("b-asserted-by-a"));
        expected.put("AllergyIntolerance?patient=" + b + "&date=lt2024-01-01", Set.of());
        for (Map.Entry<String, Set<String>> e : expected.entrySet()) {
            Set<String> want = e.getValue().stream().map(ids::get).collect(java.util.stream.Collectors.toSet());
            for (String paging : List.of("", "&_count=1")) {
                String query = e.getKey() + paging;
                List<String> found = pages(query).stream().flatMap(p -> p.getEntry().stream())
                        .map(en -> en.getResource().getIdElement().getIdPart()).toList();
                assertThat(found).as(query).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(want);
                assertThat(admin.get(query + "&_summary=count").as(Bundle.class).getTotal()).as(query).isEqualTo(want.size());
            }
        }
    }

    /** A new Patient with this family name; its id. */
    private String patientNamed(String family) {
        return admin.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}")
                .as(Patient.class).getIdElement().getIdPart();
    }

    private String allergy(String patient, String asserter, String code, String recorded) {
        Response r = admin.post("AllergyIntolerance", "{\"resourceType\":\"AllergyIntolerance\",\"patient\":{\"reference\":"
                + "\"Patient/" + patient + "\"}," + (asserter == null ? "" : "\"asserter\":{\"reference\":\"Patient/" + asserter
                + "\"},") + "\"code\":{\"coding\":[{\"system\":\"urn:test\",\"code\":\"" + code + "\"}]},\"recordedDate\":\""
                + recorded + "\"}");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.as(org.hl7.fhir.r4.model.AllergyIntolerance.class).getIdElement().getIdPart();
    }

    @Test
    void pagingThroughASnapshotHasNoDuplicatesOrGapsWhileOthersWrite() {
        String marker = "page" + System.nanoTime();
        List<String> created = observations(marker, 12);
        Bundle first = admin.get("Observation?code=" + marker + "&_count=5").as(Bundle.class);
        assertThat(first.getTotal()).isEqualTo(12);
        List<String> seen = new ArrayList<>();
        first.getEntry().forEach(e -> seen.add(e.getResource().getIdElement().getIdPart()));
        // meanwhile: new matches arrive and an unseen match is updated (newest-first order would move it forward)
        for (int i = 0; i < 3; i++) {
            admin.post("Observation", observation(marker, 100 + i));
        }
        String unseen = created.stream().filter(id -> !seen.contains(id)).findFirst().orElseThrow();
        Observation changed = admin.get("Observation/" + unseen).as(Observation.class);
        changed.setStatus(Observation.ObservationStatus.AMENDED);
        assertThat(admin.put("Observation/" + unseen, FhirHttp.json(changed)).status()).isEqualTo(200);
        Response next = admin.get(first.getLink("next").getUrl());
        while (true) {
            Bundle page = next.as(Bundle.class);
            page.getEntry().forEach(e -> seen.add(e.getResource().getIdElement().getIdPart()));
            if (page.getLink("next") == null) {
                break;
            }
            next = admin.get(page.getLink("next").getUrl());
        }
        assertThat(seen).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(created);
        // previous goes back; another client cannot use this client's snapshot
        Bundle second = admin.get(first.getLink("next").getUrl()).as(Bundle.class);
        assertThat(second.getLink("previous").getUrl()).contains("_offset=0");
        FhirHttp other = clientWith("system/*.read");
        assertThat(other.get(first.getLink("next").getUrl()).status()).isEqualTo(410);
        assertThat(admin.get("Observation?_snapshot=not-a-snapshot").status()).isEqualTo(410);
    }

    /** A first request at an offset: the page's resources are read with the matches, from the rows at its positions. */
    @Test
    void aSearchStartedAtAnOffsetReturnsTheMatchesAtThosePositionsInOrder() {
        String marker = "offset" + System.nanoTime();
        List<String> created = observations(marker, 9);
        List<String> all = ids(admin.get("Observation?code=" + marker + "&_count=50").as(Bundle.class));
        assertThat(all).containsExactlyInAnyOrderElementsOf(created);
        Bundle middle = admin.get("Observation?code=" + marker + "&_offset=3&_count=4").as(Bundle.class);
        assertThat(middle.getTotal()).isEqualTo(9);
        assertThat(ids(middle)).containsExactlyElementsOf(all.subList(3, 7));
        assertThat(ids(admin.get("Observation?code=" + marker + "&_offset=7&_count=4").as(Bundle.class)))
                .containsExactlyElementsOf(all.subList(7, 9));
        assertThat(ids(admin.get("Observation?code=" + marker + "&_offset=9&_count=4").as(Bundle.class))).isEmpty();
    }

    private static List<String> ids(Bundle bundle) {
        return bundle.getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart()).toList();
    }

    /** Creates {@code n} Observations of this code (values 0 to n-1) and returns their ids. */
    private List<String> observations(String code, int n) {
        List<String> created = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            created.add(admin.post("Observation", observation(code, i)).as(Observation.class).getIdElement().getIdPart());
        }
        return created;
    }

    private static String observation(String code, int value) {
        return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"urn:test\",\"code\":\""
                + code + "\"}]},\"valueInteger\":" + value + "}";
    }

    @Test
    void searchesInsideBatchesAndTransactions() {
        Coding code = sent(Observation.class).get(0).getCode().getCodingFirstRep();
        Set<String> expected = sent(Observation.class).stream()
                .filter(o -> o.getCode().getCoding().stream().anyMatch(c -> c.getCode().equals(code.getCode())))
                .map(this::idOf).collect(Collectors.toSet());
        String batch = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"request\":{\"method\":\"GET\","
                + "\"url\":\"Observation?patient=" + patientId + "&code=" + code.getCode() + "\"}},{\"request\":{\"method\":\"GET\","
                + "\"url\":\"Observation?patient=" + patientId + "&nosuch=1\"}}]}";
        Bundle response = admin.post("", batch).as(Bundle.class);
        Bundle first = (Bundle) response.getEntry().get(0).getResource();
        assertThat(response.getEntry().get(0).getResponse().getStatus()).startsWith("200");
        assertThat(first.getType()).isEqualTo(Bundle.BundleType.SEARCHSET);
        assertThat(first.getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart()).collect(Collectors.toSet()))
                .isEqualTo(expected);
        Bundle second = (Bundle) response.getEntry().get(1).getResource();
        assertThat(second.getLink("self").getUrl()).doesNotContain("nosuch"); // ignored, and said so
        // in a transaction, the search runs after the writes and sees them
        String marker = "tx" + System.nanoTime();
        String tx = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"request\":{\"method\":\"GET\","
                + "\"url\":\"Observation?code=" + marker + "\"}},{\"resource\":" + observation(marker, 1)
                + ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}";
        Bundle txResponse = admin.post("", tx).as(Bundle.class);
        assertThat(((Bundle) txResponse.getEntry().get(0).getResource()).getTotal()).isEqualTo(1);
    }

    /** Plain JSON answers are the stored bytes; pretty JSON and XML go through HAPI: all must say the same. */
    @Test
    void storedBytesAndHapiEncodingAgree() {
        Observation obs = sent(Observation.class).get(0);
        String path = "Observation/" + idOf(obs);
        Response stored = admin.get(path);
        Response pretty = admin.get(path + "?_pretty=true");
        Response xml = admin.get(path + "?_format=xml");
        Observation a = stored.as(Observation.class);
        assertThat(a.equalsDeep(pretty.as(Observation.class))).isTrue();
        assertThat(a.equalsDeep(FhirHttp.CTX.newXmlParser().parseResource(Observation.class, xml.body()))).isTrue();
        for (String header : List.of("ETag", "Last-Modified", "Content-Location")) {
            assertThat(stored.header(header)).as(header).isNotNull().isEqualTo(pretty.header(header));
        }
        assertThat(stored.header("Content-Type")).startsWith("application/fhir+json");
        String query = "Observation?patient=" + patientId + "&_count=7&_include=Observation:patient";
        Bundle plain = admin.get(query).as(Bundle.class);
        Bundle viaHapi = admin.get(query + "&_pretty=true").as(Bundle.class);
        assertThat(plain.getTotal()).isEqualTo(viaHapi.getTotal());
        assertThat(plain.getEntry()).hasSameSizeAs(viaHapi.getEntry()).hasSize(8);
        for (int i = 0; i < plain.getEntry().size(); i++) {
            var p = plain.getEntry().get(i);
            var h = viaHapi.getEntry().get(i);
            assertThat(p.getFullUrl()).isEqualTo(h.getFullUrl());
            assertThat(p.getSearch().getMode()).isEqualTo(h.getSearch().getMode());
            assertThat(p.getResource().equalsDeep(h.getResource())).as(p.getFullUrl()).isTrue();
        }
        assertThat(plain.getLink("next").getUrl()).contains("_snapshot=");
    }

    @Test
    void summaryElementsSelfLinkAndMetaParameters() {
        String marker = "meta" + System.nanoTime();
        String profile = "http://hl7.org/fhir/StructureDefinition/Patient"; // claimed profiles are validated: a known one
        String id = admin.post("Patient", "{\"resourceType\":\"Patient\",\"meta\":{\"profile\":[\"" + profile + "\"],"
                + "\"tag\":[{\"system\":\"urn:tags\",\"code\":\"" + marker + "\"}]},\"name\":[{\"family\":\"" + marker
                + "\"}],\"gender\":\"female\"}").as(Patient.class).getIdElement().getIdPart();
        assertThat(matchIds("Patient?_profile=" + enc(profile) + "&family=" + marker)).containsExactly(id);
        // :below and :above compare whole path segments (the index holds keyed hashes of the prefixes that end with '/')
        assertThat(matchIds("Patient?_profile:below=" + enc("http://hl7.org/fhir/StructureDefinition") + "&family=" + marker))
                .containsExactly(id);
        assertThat(matchIds("Patient?_profile:below=" + enc("http://hl7.org/fhir/") + "&family=" + marker)).containsExactly(id);
        assertThat(matchIds("Patient?_profile:below=" + enc(profile) + "&family=" + marker)).containsExactly(id);
        assertThat(matchIds("Patient?_profile:below=" + enc(profile.substring(0, profile.length() - 3)) + "&family=" + marker))
                .isEmpty();
        assertThat(matchIds("Patient?_profile:above=" + enc(profile + "/extra/1") + "&family=" + marker)).containsExactly(id);
        assertThat(matchIds("Patient?_profile:above=" + enc(profile + "x/1") + "&family=" + marker)).isEmpty();
        assertThat(matchIds("Patient?_profile=" + enc(profile + "x") + "&family=" + marker)).isEmpty();
        assertThat(matchIds("Patient?_tag=" + enc("urn:tags|" + marker))).containsExactly(id);
        Bundle count = admin.get("Patient?family=" + marker + "&_summary=count").as(Bundle.class);
        assertThat(count.getTotal()).isEqualTo(1);
        assertThat(count.getEntry()).isEmpty();
        Bundle elements = admin.get("Patient?family=" + marker + "&_elements=gender").as(Bundle.class);
        Patient p = (Patient) elements.getEntryFirstRep().getResource();
        assertThat(p.hasGender()).isTrue();
        assertThat(p.hasName()).isFalse();
        Bundle lenient = admin.get("Patient?family=" + marker + "&nosuch=1").as(Bundle.class);
        assertThat(lenient.getLink("self").getUrl()).contains("family=" + marker).doesNotContain("nosuch");
        assertThat(lenient.getEntry()).hasSize(1);
    }
}
