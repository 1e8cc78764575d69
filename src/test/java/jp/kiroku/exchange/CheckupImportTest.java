package jp.kiroku.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import jp.kiroku.audit.Agent;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.NewAccount;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;
import jp.kiroku.support.WebSession;

/**
 * Health-check data import (issue 12, item 2; PHR-03): a health-check centre's CSV and a 健診結果報告書 FHIR document
 * Bundle, over {@code POST /exchange/checkup} with the admin system client — counts from the files themselves, JLAC
 * codes kept on the stored Observations, bad rows named by line with nothing written, re-imports that write nothing,
 * the document kept byte for byte and its results searchable by patient and code; and the patient's portal showing the
 * results with their reference range, trend and out-of-range flag.
 */
@Tag("PHR-03")
class CheckupImportTest extends ServerTest {

    private static final String JLAC10 = "urn:oid:1.2.392.200119.4.504";
    private static final String CHECKUP = "urn:oid:1.2.392.200119.6.1005";
    private static final String PATIENT_SYSTEM = "urn:oid:1.2.392.100495.20.3.51.11311234567";
    private static final String JLAC11_URI = "http://example.jp/fhir/CodeSystem/jlac11";
    private static final String HEADER = "patient_identifier_system,patient_identifier_value,patient_id,patient_name,"
            + "patient_kana,birth_date,gender,exam_date,item_code_system,item_code,item_name,value,unit,reference_low,"
            + "reference_high,interpretation,performer,performer_identifier";

    @Autowired
    Accounts accounts;

    @Test
    void aCsvImportsOnceWithItsCodesBadRowsAreNamedAndThePatientSeesTheResults() {
        String s = UUID.randomUUID().toString().substring(0, 8);
        String mrn = "ck-" + s;
        String known = created("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"既存\",\"given\":[\"一郎\"]}]}");
        String a = PATIENT_SYSTEM + "," + mrn + ",,健診 花子,ケンシン ハナコ,1970-02-03,F,";
        String b = ",," + known + ",,,,,";
        String centre = ",東京健診センター,1311234567";
        List<String> good = List.of(
                a + "2025-05-10,JLAC10,3D046000001906202,HbA1c(NGSP),5.9,%,4.6,6.2,N" + centre,
                a + "2026-05-12,JLAC10,3D046000001906202,HbA1c(NGSP),6.6,%,4.6,6.2,H" + centre,
                a + "2025-05-10,checkup,9N001000000000001,身長,170.2,cm,,," + centre,
                a + "2026-05-12,checkup,9N001000000000001,身長,170.0,cm,,," + centre,
                a + "2026-05-12,checkup,1A020000000190111,尿糖,(-),,,," + centre,
                a + "2026-05-12," + JLAC11_URI + ",3D0460000023220000,HbA1c(JLAC11),6.6,%,4.6,6.2," + centre,
                b + "2026-06-01,JLAC10,3F015000002327101,中性脂肪,180,mg/dL,30,149,H" + centre);
        List<String> bad = List.of(
                a + "2026-13-01,JLAC10,3D046000001906202,HbA1c(NGSP),6.0,%,4.6,6.2," + centre,
                a + "2026-05-12,JLAC10,3D04600,HbA1c(NGSP),6.0,%,4.6,6.2," + centre,
                ",,no-such-" + s + ",,,,,2026-05-12,JLAC10,3D046000001906202,HbA1c(NGSP),6.0,%,4.6,6.2," + centre,
                good.get(0),
                a + "2026-05-12,JLAC11,3D0460000023220000,HbA1c(JLAC11),6.6,%,4.6,6.2," + centre);
        String goodCsv = csv(good);
        List<String> all = new ArrayList<>(good);
        all.addAll(bad);
        String badCsv = csv(all);
        // what the files say, counted here without the importer
        long rows = goodCsv.lines().skip(1).filter(l -> !l.isBlank()).count();
        long rowsOfA = goodCsv.lines().filter(l -> l.contains("," + mrn + ",")).count();
        long hba1cOfA = goodCsv.lines().filter(l -> l.contains("," + mrn + ",") && l.contains(",3D046000001906202,")).count();
        List<Integer> badLines = new ArrayList<>();
        for (int i = good.size(); i < all.size(); i++) {
            badLines.add(i + 2); // the header is line 1
        }

        // one bad row refuses the whole file: every bad row named, nothing written (not even the new patient)
        FhirHttp.Response refused = upload("text/csv", badCsv, false);
        assertThat(refused.status()).as(refused.body()).isEqualTo(422);
        assertThat(lines(refused.body())).isEqualTo(badLines);
        assertThat(refused.body()).contains("exam_date", "17-character JLAC10", "no Patient/no-such-" + s, "as line 2",
                "JLAC11");
        assertThat(patients(mrn)).isEmpty();

        // the good file: every row one Observation, the new patient created, the codes as sent
        FhirHttp.Response first = upload("text/csv", goodCsv, false);
        assertThat(first.status()).as(first.body()).isEqualTo(200);
        assertThat(number(first.body(), "created")).isEqualTo(rows);
        assertThat(number(first.body(), "patientsCreated")).isEqualTo(1);
        List<String> ids = patients(mrn);
        assertThat(ids).hasSize(1);
        String patient = ids.get(0);
        assertThat(observations("patient=" + patient)).hasSize((int) rowsOfA);
        List<Observation> hba1c = observations("patient=" + patient + "&code=" + JLAC10 + "%7C3D046000001906202");
        assertThat(hba1c).hasSize((int) hba1cOfA).allSatisfy(o -> {
            assertThat(o.getCode().getCoding()).extracting(Coding::getSystem, Coding::getCode)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(JLAC10, "3D046000001906202"));
            assertThat(o.getIdentifier()).extracting(i -> i.getSystem()).contains(CheckupImport.RESULT_SYSTEM);
        });
        assertThat(observations("patient=" + patient + "&code=" + JLAC11_URI + "%7C3D0460000023220000")).hasSize(1);
        assertThat(observations("patient=" + known + "&code=" + JLAC10 + "%7C3F015000002327101")).hasSize(1);

        // the same file again writes nothing; a corrected value becomes a new version of the same Observation
        FhirHttp.Response again = upload("text/csv", goodCsv, false);
        assertThat(again.status()).as(again.body()).isEqualTo(200);
        assertThat(again.body()).contains("\"written\":false");
        assertThat(number(again.body(), "unchanged")).isEqualTo(rows);
        assertThat(number(again.body(), "created")).isZero();
        String corrected = goodCsv.replace(",6.6,%,4.6,6.2,H,", ",6.7,%,4.6,6.2,H,");
        FhirHttp.Response fixed = upload("text/csv", corrected, false);
        assertThat(number(fixed.body(), "updated")).as(fixed.body()).isEqualTo(1);
        assertThat(number(fixed.body(), "unchanged")).isEqualTo(rows - 1);
        assertThat(observations("patient=" + patient)).hasSize((int) rowsOfA);
        assertThat(patients(mrn)).hasSize(1);

        // valid rows only: the good rows (unchanged now) are kept, the bad ones reported, still nothing duplicated
        String badCorrected = badCsv.replace(",6.6,%,4.6,6.2,H,", ",6.7,%,4.6,6.2,H,");
        FhirHttp.Response partial = upload("text/csv", badCorrected, true);
        assertThat(partial.status()).as(partial.body()).isEqualTo(200);
        assertThat(lines(partial.body())).isEqualTo(badLines);
        assertThat(number(partial.body(), "unchanged")).isEqualTo(rows);
        assertThat(observations("patient=" + patient)).hasSize((int) rowsOfA);

        // a token that may not write results cannot import them
        FhirHttp reader = clientWith("system/Observation.rs", "system/Patient.rs");
        FhirHttp.Response forbidden = reader.send("POST", reader.root() + "/exchange/checkup", "text/csv",
                goodCsv.replace(mrn, mrn + "x"));
        assertThat(forbidden.status()).as(forbidden.body()).isEqualTo(403);
        assertThat(patients(mrn + "x")).isEmpty();

        // the patient's portal: each item with its range, the newest value flagged when outside it, and its trend
        String[] newest = corrected.lines().filter(l -> l.contains("," + mrn + ",") && l.contains(",3D046000001906202,")
                && l.contains("2026-05-12")).findFirst().orElseThrow().split(",", -1);
        List<String> header = Arrays.asList(HEADER.split(","));
        BigDecimal value = new BigDecimal(newest[header.indexOf("value")]);
        BigDecimal low = new BigDecimal(newest[header.indexOf("reference_low")]);
        BigDecimal high = new BigDecimal(newest[header.indexOf("reference_high")]);
        String username = "checkup.pt." + s;
        String otp = accounts.create(new NewAccount(username, "patient", List.of("patient"), "健診 花子",
                PersonLogin.katakana(username), null, LocalDate.of(1970, 2, 3), null, null, null, "Patient/" + patient),
                Agent.localOperator()).oneTimePassword();
        WebSession browser = new WebSession(anonymous.root());
        PersonLogin.firstLogin(browser, username, otp);
        String page = browser.get("/my").body();
        int section = page.indexOf("id=\"checkups\"");
        assertThat(section).as(page).isPositive();
        String row = page.substring(page.indexOf("id=\"checkup-3D046000001906202\""));
        row = row.substring(0, row.indexOf("</tr>"));
        assertThat(row).contains("HbA1c(NGSP)", low.toPlainString() + "–" + high.toPlainString(), value.toPlainString() + " %",
                "<polyline");
        assertThat(row.contains("out-of-range")).isEqualTo(value.compareTo(high) > 0 || value.compareTo(low) < 0);
        assertThat(page.substring(section)).contains("尿糖", "(-)", "身長").doesNotContain("中性脂肪");
        assertThat(page.substring(page.indexOf("id=\"labs\""), section)).as("shown once, in their own section")
                .doesNotContain("HbA1c(NGSP)");
    }

    @Test
    void aCheckupDocumentIsKeptAsSentAndItsResultsAreSearchable() {
        String s = UUID.randomUUID().toString().substring(0, 8);
        Bundle doc = document("doc-" + s, s);
        String json = FhirHttp.json(doc);
        long entries = doc.getEntry().size();
        long observations = doc.getEntry().stream().filter(e -> e.getResource() instanceof Observation).count();

        FhirHttp.Response r = upload("application/fhir+json", json, false);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(number(r.body(), "patientsCreated")).isEqualTo(1);
        // every entry but the patient is a resource of its own, plus the DocumentReference keeping the document
        assertThat(number(r.body(), "created")).isEqualTo(entries - 1 + 1);
        assertThat(r.body()).contains("profile not available offline");
        List<String> ids = patients("doc-" + s);
        assertThat(ids).hasSize(1);
        String patient = ids.get(0);

        assertThat(observations("patient=" + patient)).hasSize((int) observations);
        List<Observation> hba1c = observations("patient=" + patient + "&code=" + CHECKUP + "%7C3D046000001906202");
        assertThat(hba1c).hasSize(1);
        Observation o = hba1c.get(0);
        assertThat(o.getCode().getCoding()).extracting(Coding::getSystem).containsExactly(CHECKUP, JLAC10);
        assertThat(o.getEffectiveDateTimeType().getValueAsString()).as("the examination date of the document")
                .isEqualTo("2026-04-05");
        assertThat(o.getReferenceRangeFirstRep().getHigh().getValue()).isEqualByComparingTo("5.8");
        assertThat(observations("patient=" + patient + "&code=" + JLAC10 + "%7C3D046000001906202")).hasSize(1);
        Observation height = observations("patient=" + patient + "&code=" + CHECKUP + "%7C9N001000000000001").get(0);
        assertThat(admin.get(height.getPerformerFirstRep().getReference()).as(Organization.class).getName())
                .isEqualTo("厚生労働省第一病院");

        Bundle refs = admin.get("DocumentReference?patient=" + patient).as(Bundle.class);
        assertThat(refs.getEntry()).hasSize(1);
        DocumentReference kept = (DocumentReference) refs.getEntryFirstRep().getResource();
        assertThat(new String(kept.getContentFirstRep().getAttachment().getData(), StandardCharsets.UTF_8))
                .as("the document byte for byte").isEqualTo(json);
        assertThat(kept.getMasterIdentifier().getValue()).isEqualTo(doc.getIdentifier().getValue());

        FhirHttp.Response again = upload("application/fhir+json", json, false);
        assertThat(again.body()).as(again.body()).contains("\"written\":false");
        assertThat(observations("patient=" + patient)).hasSize((int) observations);

        // the same document as XML is other bytes under the same identifier: a corrected report, a new version of each
        String xml = FhirHttp.CTX.newXmlParser().encodeResourceToString(doc);
        FhirHttp.Response asXml = upload("application/fhir+xml", xml, false);
        assertThat(asXml.status()).as(asXml.body()).isEqualTo(200);
        assertThat(number(asXml.body(), "updated")).isEqualTo(entries - 1 + 1);
        assertThat(number(asXml.body(), "created") + number(asXml.body(), "patientsCreated")).isZero();
        assertThat(observations("patient=" + patient)).hasSize((int) observations);
        DocumentReference replaced = (DocumentReference) admin.get("DocumentReference?patient=" + patient).as(Bundle.class)
                .getEntryFirstRep().getResource();
        assertThat(replaced.getMeta().getVersionId()).isEqualTo("2");
        assertThat(replaced.getContentFirstRep().getAttachment().getContentType()).isEqualTo("application/fhir+xml");

        // not a document: refused, nothing written
        Bundle collection = document("col-" + s, s).setType(Bundle.BundleType.COLLECTION);
        FhirHttp.Response notDocument = upload("application/fhir+json", FhirHttp.json(collection), false);
        assertThat(notDocument.status()).isEqualTo(422);
        assertThat(patients("col-" + s)).isEmpty();
    }

    /** A small 健診結果報告書: Composition first, the patient, the centre, the visit and two results. */
    private static Bundle document(String patientNumber, String s) {
        Bundle doc = new Bundle().setType(Bundle.BundleType.DOCUMENT);
        doc.getIdentifier().setSystem("http://jpfhir.jp/fhir/core/IdSystem/documentInstance-identifier")
                .setValue("1311234567^2026^" + patientNumber);
        doc.setTimestampElement(new org.hl7.fhir.r4.model.InstantType("2026-04-06T10:00:00+09:00"));
        String p = "urn:uuid:" + UUID.randomUUID();
        String org = "urn:uuid:" + UUID.randomUUID();
        String enc = "urn:uuid:" + UUID.randomUUID();
        Composition c = new Composition().setStatus(Composition.CompositionStatus.FINAL)
                .setType(new CodeableConcept(new Coding("http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes", "53576-5",
                        "検診・健診報告書"))).setSubject(new Reference(p)).setEncounter(new Reference(enc))
                .setTitle("健康診断結果のお知らせ").addAuthor(new Reference(org));
        c.setDateElement(new DateTimeType("2026-04-06T10:00:00+09:00"));
        c.addEvent().getPeriod().setStartElement(new DateTimeType("2026-04-05"));
        Patient patient = new Patient();
        patient.addIdentifier().setSystem(PATIENT_SYSTEM).setValue(patientNumber);
        patient.addName(new HumanName().setFamily("健診").addGiven("太郎" + s));
        patient.setGender(Enumerations.AdministrativeGender.MALE);
        Organization centre = new Organization().setName("厚生労働省第一病院");
        Encounter visit = new Encounter().setStatus(Encounter.EncounterStatus.FINISHED)
                .setClass_(new Coding("http://jpfhir.jp/fhir/eCheckup/CodeSystem/encounter-category", "checkup", "健診"))
                .setSubject(new Reference(p)).setServiceProvider(new Reference(org));
        visit.getPeriod().setStartElement(new DateTimeType("2026-04-05"));
        Observation hba1c = result(p, new Coding(CHECKUP, "3D046000001906202", "ＨｂＡ１ｃ（ＮＧＳＰ）"), "7", "%", "4.3", "5.8");
        hba1c.getCode().addCoding(new Coding(JLAC10, "3D046000001906202", "HbA1c"));
        hba1c.getMeta().addProfile("http://jpfhir.jp/fhir/eCheckup/StructureDefinition/JP_Observation_eCheckupGeneral");
        hba1c.addInterpretation(new CodeableConcept(new Coding(
                "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "H", null)));
        Observation height = result(p, new Coding(CHECKUP, "9N001000000000001", "身長"), "162.3", "cm", null, null);
        centre.setId("centre-1");
        height.addPerformer(new Reference("Organization/centre-1")); // by the entry's Type/id, not its fullUrl
        List<Resource> resources = List.of(c, patient, centre, visit, hba1c, height);
        List<String> urls = List.of("urn:uuid:" + UUID.randomUUID(), p, org, enc, "urn:uuid:" + UUID.randomUUID(),
                "urn:uuid:" + UUID.randomUUID());
        var section = c.addSection().setTitle("健診セクション");
        for (int i = 0; i < resources.size(); i++) {
            doc.addEntry().setFullUrl(urls.get(i)).setResource(resources.get(i));
            if (resources.get(i) instanceof Observation) {
                section.addEntry(new Reference(urls.get(i)));
            }
        }
        return doc;
    }

    private static Observation result(String patient, Coding code, String value, String unit, String low, String high) {
        Observation o = new Observation().setStatus(Observation.ObservationStatus.FINAL).setCode(new CodeableConcept(code))
                .setSubject(new Reference(patient));
        o.setValue(new Quantity().setValue(new BigDecimal(value)).setUnit(unit).setSystem("http://unitsofmeasure.org")
                .setCode(unit));
        if (low != null) {
            o.addReferenceRange().setLow((org.hl7.fhir.r4.model.SimpleQuantity) new org.hl7.fhir.r4.model.SimpleQuantity()
                    .setValue(new BigDecimal(low))).setHigh((org.hl7.fhir.r4.model.SimpleQuantity)
                    new org.hl7.fhir.r4.model.SimpleQuantity().setValue(new BigDecimal(high)));
        }
        return o;
    }

    private static String csv(List<String> rows) {
        return HEADER + "\n" + String.join("\n", rows) + "\n";
    }

    private FhirHttp.Response upload(String contentType, String body, boolean validRowsOnly) {
        return admin.send("POST", admin.root() + "/exchange/checkup" + (validRowsOnly ? "?valid-rows-only=true" : ""),
                contentType, body);
    }

    private List<String> patients(String number) {
        return admin.get("Patient?identifier=" + PATIENT_SYSTEM + "%7C" + number).as(Bundle.class).getEntry().stream()
                .map(e -> e.getResource().getIdElement().getIdPart()).toList();
    }

    private List<Observation> observations(String query) {
        return admin.get("Observation?" + query + "&_count=100").as(Bundle.class).getEntry().stream()
                .map(e -> (Observation) e.getResource()).toList();
    }

    private String created(String resource) {
        var r = admin.post("Patient", resource);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.as(Patient.class).getIdElement().getIdPart();
    }

    private static long number(String json, String field) {
        Matcher m = Pattern.compile("\"" + field + "\":(\\d+)").matcher(json);
        assertThat(m.find()).as(json).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static List<Integer> lines(String json) {
        List<Integer> out = new ArrayList<>();
        Matcher m = Pattern.compile("\"line\":(\\d+)").matcher(json);
        while (m.find()) {
            out.add(Integer.parseInt(m.group(1)));
        }
        return out;
    }
}
