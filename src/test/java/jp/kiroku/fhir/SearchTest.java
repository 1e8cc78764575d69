package jp.kiroku.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
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
 * Search answers compared with answers computed in plain Java over the Synthea bundles that were posted (not from the
 * implementation), plus Japanese names, updates and deletes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SearchTest extends ServerTest {

    private static final java.time.ZoneId JST = java.time.ZoneId.of("Asia/Tokyo");
    private static final Path BUNDLE = Path.of("../shared/data/synthea/Abdul_Koepp_e925b0f3-8006-43f6-aa31-94bd215e55e7.json");

    private PostedBundle posted;
    private String patientId;

    @BeforeAll
    void postOneSyntheaPatient() throws Exception {
        clientsForTheRunningServer();
        posted = new PostedBundle(admin, BUNDLE);
        patientId = posted.patientId;
    }

    private List<Observation> sentObservations() {
        return posted.sent(Observation.class);
    }

    private String serverId(Resource r) {
        return posted.idOf(r);
    }

    /** Every id a search returns, following next links, checking there are no duplicates. */
    private List<String> allIds(String query) {
        List<String> ids = new ArrayList<>();
        Response r = admin.get(query);
        while (true) {
            assertThat(r.status()).as(query + ": " + r.body()).isEqualTo(200);
            Bundle page = r.as(Bundle.class);
            page.getEntry().forEach(e -> ids.add(e.getResource().getIdElement().getIdPart()));
            if (page.getLink("next") == null) {
                break;
            }
            r = admin.get(page.getLink("next").getUrl());
        }
        assertThat(new HashSet<>(ids)).as("no duplicates across pages").hasSize(ids.size());
        return ids;
    }

    @Test
    void observationsByPatientMatchTheBundleAcrossPages() {
        Set<String> expected = sentObservations().stream().map(this::serverId).collect(Collectors.toSet());
        assertThat(expected).hasSizeGreaterThan(20);
        List<String> found = allIds("Observation?patient=" + patientId + "&_count=7");
        assertThat(new HashSet<>(found)).isEqualTo(expected);
        assertThat(allIds("Observation?subject=Patient/" + patientId + "&_count=200")).hasSameSizeAs(expected);
        assertThat(allIds("Observation?subject:Patient=" + patientId)).hasSameSizeAs(expected);
        assertThat(admin.get("Observation?patient=" + patientId + "&_count=5").as(Bundle.class).getTotal()).isEqualTo(expected.size());
    }

    @Test
    void observationsByPatientAndLoincCode() {
        Map<String, Long> codes = sentObservations().stream().flatMap(o -> o.getCode().getCoding().stream())
                .filter(c -> "http://loinc.org".equals(c.getSystem())).collect(Collectors.groupingBy(Coding::getCode, Collectors.counting()));
        String code = codes.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        Set<String> expected = sentObservations().stream()
                .filter(o -> o.getCode().getCoding().stream().anyMatch(c -> "http://loinc.org".equals(c.getSystem()) && code.equals(c.getCode())))
                .map(this::serverId).collect(Collectors.toSet());
        assertThat(new HashSet<>(allIds("Observation?patient=" + patientId + "&code=http://loinc.org%7C" + code)))
                .isEqualTo(expected);
        assertThat(new HashSet<>(allIds("Observation?patient=" + patientId + "&code=" + code))).isEqualTo(expected);
        assertThat(allIds("Observation?patient=" + patientId + "&code=http://snomed.info/sct%7C" + code)).isEmpty();
        Set<String> notCode = sentObservations().stream().map(this::serverId).filter(id -> !expected.contains(id))
                .collect(Collectors.toSet());
        assertThat(new HashSet<>(allIds("Observation?patient=" + patientId + "&code:not=http://loinc.org%7C" + code)))
                .isEqualTo(notCode);
    }

    /**
     * A search for one patient keeps its prepared plan across values (SearchIndex#query): run the same shape for every
     * LOINC code of the patient, by patient and by compartment, often enough that every pooled connection reuses it,
     * and each answer must still be that code's observations.
     */
    @Test
    void everyCodeOfThePatientFindsExactlyItsObservationsWithAKeptPlan() {
        Map<String, Set<String>> byCode = new HashMap<>();
        for (Observation o : sentObservations()) {
            o.getCode().getCoding().stream().filter(c -> "http://loinc.org".equals(c.getSystem()))
                    .forEach(c -> byCode.computeIfAbsent(c.getCode(), k -> new HashSet<>()).add(serverId(o)));
        }
        assertThat(byCode).hasSizeGreaterThan(10);
        for (int round = 0; round < 2; round++) {
            for (Map.Entry<String, Set<String>> e : byCode.entrySet()) {
                String code = "http://loinc.org%7C" + e.getKey();
                assertThat(new HashSet<>(allIds("Observation?patient=" + patientId + "&code=" + code))).as(e.getKey())
                        .isEqualTo(e.getValue());
                assertThat(new HashSet<>(allIds("Patient/" + patientId + "/Observation?code=" + code))).as(e.getKey())
                        .isEqualTo(e.getValue());
                String subject = round == 0 ? "subject=Patient/" + patientId : "subject:Patient=" + patientId;
                assertThat(new HashSet<>(allIds("Observation?" + subject + "&code=" + code))).as(e.getKey())
                        .isEqualTo(e.getValue());
            }
        }
        assertThat(allIds("Observation?patient=no-such-patient&code=http://loinc.org%7C" + byCode.keySet().iterator().next()))
                .isEmpty();
        assertThat(allIds("Observation?subject=Group/" + patientId + "&code=http://loinc.org%7C" + byCode.keySet().iterator()
                .next())).isEmpty();
    }

    @Test
    void observationsByDatePrefixesComputedFromTheData() {
        List<Instant> times = sentObservations().stream().filter(Observation::hasEffectiveDateTimeType)
                .map(o -> o.getEffectiveDateTimeType().getValue().toInstant()).sorted().toList();
        Instant middle = times.get(times.size() / 2);
        // a date in a search means that day in the institution's zone (kiroku.time-zone, Asia/Tokyo by default)
        String day = middle.atZone(JST).toLocalDate().toString();
        Instant dayStart = middle.atZone(JST).toLocalDate().atStartOfDay(JST).toInstant();
        Instant dayEnd = dayStart.plusSeconds(86400);
        Map<String, java.util.function.Predicate<Instant>> expectations = Map.of(
                "ge", t -> !t.isBefore(dayStart),
                "gt", t -> !t.isBefore(dayEnd),
                "lt", t -> t.isBefore(dayStart),
                "le", t -> t.isBefore(dayEnd),
                "eq", t -> !t.isBefore(dayStart) && t.isBefore(dayEnd));
        for (var e : expectations.entrySet()) {
            Set<String> expected = sentObservations().stream().filter(Observation::hasEffectiveDateTimeType)
                    .filter(o -> e.getValue().test(o.getEffectiveDateTimeType().getValue().toInstant()))
                    .map(this::serverId).collect(Collectors.toSet());
            assertThat(new HashSet<>(allIds("Observation?patient=" + patientId + "&date=" + e.getKey() + day + "&_count=500")))
                    .as(e.getKey() + day).isEqualTo(expected);
        }
        // a year is a range: the whole year matches eq
        String year = day.substring(0, 4);
        long inYear = times.stream().filter(t -> t.atZone(JST).getYear() == Integer.parseInt(year)).count();
        assertThat(allIds("Observation?patient=" + patientId + "&date=" + year + "&_count=500")).hasSize((int) inYear);
    }

    @Test
    void observationsByValueQuantityComputedFromTheData() {
        Map<String, List<Observation>> byCode = sentObservations().stream().filter(Observation::hasValueQuantity)
                .collect(Collectors.groupingBy(o -> o.getCode().getCodingFirstRep().getCode()));
        List<Observation> obs = byCode.values().stream().max(java.util.Comparator.comparingInt(List::size)).orElseThrow();
        String code = obs.get(0).getCode().getCodingFirstRep().getCode();
        String ucum = obs.get(0).getValueQuantity().getCode();
        List<java.math.BigDecimal> values = obs.stream().map(o -> o.getValueQuantity().getValue()).sorted().toList();
        java.math.BigDecimal m = values.get(values.size() / 2);
        String base = "Observation?patient=" + patientId + "&code=" + code + "&_count=500&value-quantity=";
        Map<String, java.util.function.Predicate<java.math.BigDecimal>> cases = Map.of(
                "gt", v -> v.compareTo(m) > 0, "lt", v -> v.compareTo(m) < 0,
                "ge", v -> v.compareTo(m) >= 0, "le", v -> v.compareTo(m) <= 0);
        for (var c : cases.entrySet()) {
            Set<String> expected = obs.stream().filter(o -> c.getValue().test(o.getValueQuantity().getValue()))
                    .map(this::serverId).collect(Collectors.toSet());
            assertThat(new HashSet<>(allIds(base + c.getKey() + m.toPlainString() + "%7Chttp://unitsofmeasure.org%7C" + ucum)))
                    .as(c.getKey() + m).isEqualTo(expected);
        }
        // eq uses the precision of the searched value: m itself is [m - half unit, m + half unit)
        java.math.BigDecimal half = java.math.BigDecimal.ONE.scaleByPowerOfTen(-m.scale()).divide(java.math.BigDecimal.valueOf(2));
        Set<String> eq = obs.stream().map(o -> o.getValueQuantity().getValue())
                .filter(v -> v.compareTo(m.subtract(half)) >= 0 && v.compareTo(m.add(half)) < 0).count() > 0
                ? obs.stream().filter(o -> o.getValueQuantity().getValue().compareTo(m.subtract(half)) >= 0
                        && o.getValueQuantity().getValue().compareTo(m.add(half)) < 0).map(this::serverId).collect(Collectors.toSet())
                : Set.of();
        assertThat(new HashSet<>(allIds(base + m.toPlainString()))).isEqualTo(eq).isNotEmpty();
        assertThat(allIds(base + "gt" + m.toPlainString() + "%7Chttp://unitsofmeasure.org%7Cno-such-unit")).isEmpty();
    }

    @Test
    void aMorningInJapanIsFoundUnderItsJapaneseDate() {
        String marker = "tz" + System.nanoTime();
        String body = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"urn:test\","
                + "\"code\":\"" + marker + "\"}]},\"effectiveDateTime\":\"2023-05-01T08:00:00+09:00\"}";
        String id = admin.post("Observation", body).as(Observation.class).getIdElement().getIdPart();
        assertThat(allIds("Observation?code=" + marker + "&date=2023-05-01")).containsExactly(id); // 2023-04-30T23:00Z
        assertThat(allIds("Observation?code=" + marker + "&date=2023-04-30")).isEmpty();
        assertThat(allIds("Observation?code=" + marker + "&date=ge2023-05-01T07:59:59%2B09:00")).containsExactly(id);
        assertThat(allIds("Observation?code=" + marker + "&date=lt2023-04-30T23:00:00Z")).isEmpty();
        assertThat(allIds("Observation?code=" + marker + "&date=sa2023-04-30")).containsExactly(id);
        assertThat(allIds("Observation?code=" + marker + "&date=eb2023-05-02")).containsExactly(id);
        assertThat(allIds("Observation?code=" + marker + "&date=ne2023-05-01")).isEmpty();
        assertThat(allIds("Observation?code=" + marker + "&date=ap2023-05-01")).containsExactly(id);
    }

    @Test
    void japaneseNamesMatchAcrossKanaFormsButNotKanji() {
        String[] families = {"ヤマダ", "やまだ", "ﾔﾏﾀﾞ", "山田", "ヤマタ"};
        Map<String, String> ids = new HashMap<>();
        String marker = "検索" + System.nanoTime();
        for (String f : families) {
            Response r = admin.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + f + "\",\"given\":[\"" + marker + "\"]}]}");
            ids.put(f, r.as(Patient.class).getIdElement().getIdPart());
        }
        Set<String> kana = Set.of(ids.get("ヤマダ"), ids.get("やまだ"), ids.get("ﾔﾏﾀﾞ"));
        assertThat(new HashSet<>(allIds("Patient?given=" + marker + "&family=やまだ"))).isEqualTo(kana);
        assertThat(new HashSet<>(allIds("Patient?given=" + marker + "&family=ヤマ"))).containsAll(kana).contains(ids.get("ヤマタ"));
        assertThat(allIds("Patient?given=" + marker + "&family=山")).containsExactly(ids.get("山田"));
        assertThat(allIds("Patient?given=" + marker + "&family:exact=ヤマダ")).containsExactly(ids.get("ヤマダ"));
        assertThat(allIds("Patient?given=" + marker + "&name=yamada")).isEmpty();
    }

    /**
     * A search by names alone starts from one name's matches and keeps its plan: every prefix of every name, twice over
     * (more often than the driver and PostgreSQL need to settle on a kept plan), with and without a second name.
     */
    @Test
    void everyPrefixOfEveryFamilyFindsExactlyItsPatientsWithAKeptPlan() {
        String marker = "k" + System.nanoTime();
        List<String> families = List.of("Sato", "Saito", "Sasaki", "Suzuki", "山田", "山本", "山口").stream()
                .map(f -> marker + f).toList();
        Map<String, String> familyOf = new HashMap<>();
        Map<String, String> givenOf = new HashMap<>();
        for (int i = 0; i < families.size(); i++) {
            String given = i % 2 == 0 ? "太郎" : "花子";
            String id = admin.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + families.get(i)
                    + "\",\"given\":[\"" + given + "\"]}]}").as(Patient.class).getIdElement().getIdPart();
            familyOf.put(id, families.get(i).toLowerCase(java.util.Locale.ROOT));
            givenOf.put(id, given);
        }
        Set<String> prefixes = new java.util.TreeSet<>();
        for (String f : families) {
            for (int end = marker.length() + 1; end <= f.length(); end++) {
                prefixes.add(f.substring(0, end));
            }
        }
        for (int round = 0; round < 2; round++) {
            for (String prefix : prefixes) {
                String lower = prefix.toLowerCase(java.util.Locale.ROOT);
                Set<String> expected = familyOf.entrySet().stream().filter(e -> e.getValue().startsWith(lower))
                        .map(Map.Entry::getKey).collect(Collectors.toSet());
                assertThat(expected).as(prefix).isNotEmpty();
                String asked = prefix.toUpperCase(java.util.Locale.ROOT);
                assertThat(new HashSet<>(allIds("Patient?family=" + asked))).as(asked).isEqualTo(expected);
                Set<String> hanako = expected.stream().filter(id -> givenOf.get(id).equals("花子")).collect(Collectors.toSet());
                assertThat(new HashSet<>(allIds("Patient?family=" + asked + "&given=花"))).as(asked + " 花").isEqualTo(hanako);
            }
            for (String f : families) {
                assertThat(allIds("Patient?family:exact=" + f)).hasSize(1).allMatch(id -> familyOf.get(id).equals(
                        f.toLowerCase(java.util.Locale.ROOT)));
            }
        }
        assertThat(allIds("Patient?family=" + marker + "X")).isEmpty();
    }

    @Test
    void latinNamesAreCaseAndAccentInsensitivePrefixes() {
        String marker = "m" + System.nanoTime();
        String id = admin.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"José\",\"given\":[\"" + marker + "\"]}]}")
                .as(Patient.class).getIdElement().getIdPart();
        assertThat(allIds("Patient?given=" + marker + "&family=jose")).containsExactly(id);
        assertThat(allIds("Patient?given=" + marker + "&family=JO")).containsExactly(id);
        assertThat(allIds("Patient?given=" + marker + "&family=ose")).isEmpty();
        Response contains = admin.get("Patient?family:contains=ose");
        assertThat(contains.status()).isEqualTo(400);
        assertThat(contains.body()).contains("contains");
    }

    @Test
    void onlyTheCurrentVersionMatchesAndDeletedResourcesNever() {
        String marker = "v" + System.nanoTime();
        String id = admin.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"更新前" + marker + "\"}]}")
                .as(Patient.class).getIdElement().getIdPart();
        assertThat(allIds("Patient?family=更新前" + marker)).containsExactly(id);
        admin.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"更新後" + marker + "\"}]}");
        assertThat(allIds("Patient?family=更新前" + marker)).isEmpty();
        assertThat(allIds("Patient?family=更新後" + marker)).containsExactly(id);
        assertThat(allIds("Patient?_id=" + id)).containsExactly(id);
        admin.delete("Patient/" + id);
        assertThat(allIds("Patient?family=更新後" + marker)).isEmpty();
        assertThat(allIds("Patient?_id=" + id)).isEmpty();
    }

    @Test
    void missingLastUpdatedAndSorting() {
        String marker = "s" + System.nanoTime();
        List<String> created = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            created.add(admin.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + marker + "\"}]}")
                    .as(Patient.class).getIdElement().getIdPart());
        }
        assertThat(allIds("Patient?family=" + marker + "&_sort=_lastUpdated")).containsExactlyElementsOf(created);
        assertThat(allIds("Patient?family=" + marker + "&_sort=-_lastUpdated"))
                .containsExactlyElementsOf(reversed(created));
        assertThat(allIds("Patient?family=" + marker + "&birthdate:missing=true")).hasSize(3);
        assertThat(allIds("Patient?family=" + marker + "&birthdate:missing=false")).isEmpty();
        String future = new DateTimeType(java.util.Date.from(Instant.now().plusSeconds(3600))).getValueAsString();
        assertThat(allIds("Patient?family=" + marker + "&_lastUpdated=gt" + future.replace("+", "%2B"))).isEmpty();
        assertThat(allIds("Patient?family=" + marker + "&_lastUpdated=ge2020")).hasSize(3);
        Response bad = admin.get("Patient?birthdate=notadate");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.body()).contains("notadate");
        // lenient handling ignores what it cannot do; strict refuses it, naming it
        assertThat(admin.get("Patient?family=" + marker + "&unknown=x").status()).isEqualTo(200);
        Response strict = admin.get("Patient?family=" + marker + "&_sort=gender", Map.of("Prefer", "handling=strict"));
        assertThat(strict.status()).isEqualTo(400);
        assertThat(strict.body()).contains("gender");
    }

    private static List<String> reversed(List<String> list) {
        List<String> copy = new ArrayList<>(list);
        java.util.Collections.reverse(copy);
        return copy;
    }

    @Test
    void searchNeedsTheSearchScope() {
        assertThat(clientWith("system/Patient.r").get("Patient?family=x").status()).isEqualTo(403);
        assertThat(clientWith("system/Patient.s").get("Patient?family=x").status()).isEqualTo(200);
    }
}
