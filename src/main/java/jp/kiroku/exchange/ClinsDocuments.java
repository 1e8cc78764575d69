package jp.kiroku.exchange;

import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiFunction;

import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.utilities.xhtml.XhtmlNode;

import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;

/**
 * The two JP-CLINS documents. The referral letter (診療情報提供書, JP_Bundle_eReferral with JP_Composition_eReferral) as a document Bundle built from
 * a patient's stored data: the Composition first, then the Patient, the author (the Patient's general practitioner),
 * the two organizations (the Patient's managing organization sends, the one named by the caller receives), a purpose
 * Encounter carrying the caller's purpose text, and the patient's conditions, allergies, prescriptions
 * (MedicationRequests) and laboratory results in the structured section (300) as the profile prescribes: 920 紹介元,
 * 910 紹介先, 950 紹介目的, 340 傷病名・主訴, 360 現病歴, 510 アレルギー, 430 投薬指示, 620 検査結果 (titles and displays as the
 * profile fixes them). Every section's narrative is made from the
 * entries' own text. Missing mandatory parts (author, sending or receiving organization, purpose) refuse the export
 * naming them; the Bundle is then validated like any other export.
 *
 * <p>The discharge summary (退院時サマリー, JP_Bundle_eDischargeSummary with JP_Composition_eDischargeSummary) is built
 * from the patient's latest finished inpatient stay: see {@link #discharge}.
 */
@org.springframework.stereotype.Component
public class ClinsDocuments {

    /** The two documents. */
    public enum Type {
        REFERRAL, DISCHARGE
    }

    /** What the caller gives for a referral letter: the receiving organization (and doctor), the purpose. */
    public record Referral(String toOrganization, String toPractitioner, String purpose) {
    }

    static final String BUNDLE_REFERRAL = "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eReferral";
    static final String COMPOSITION_REFERRAL = "http://jpfhir.jp/fhir/eReferral/StructureDefinition/JP_Composition_eReferral";
    static final String SECTION_SYSTEM = "http://jpfhir.jp/fhir/clins/CodeSystem/document-section";
    static final String ECS = "http://jpfhir.jp/fhir/eCS/StructureDefinition/";
    static final Map<String, String> PROFILES = Map.of(
            "Practitioner", ECS + "JP_Practitioner_eCS", "Organization", ECS + "JP_Organization_eCS",
            "Encounter", ECS + "JP_Encounter_eCS", "Condition", ECS + "JP_Condition_eCS",
            "AllergyIntolerance", ECS + "JP_AllergyIntolerance_eCS", "MedicationRequest", ECS + "JP_MedicationRequest_eCS",
            "Observation", ECS + "JP_Observation_LabResult_eCS", "DocumentReference", ECS + "JP_DocumentReference_eCS",
            "CarePlan", ECS + "JP_CarePlan_eCS");
    static final String BUNDLE_DISCHARGE = "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eDischargeSummary";
    static final String COMPOSITION_DISCHARGE =
            "http://jpfhir.jp/fhir/eDischargeSummary/StructureDefinition/JP_Composition_eDischargeSummary";
    static final String DIAGNOSIS_ROLE = "http://terminology.hl7.org/CodeSystem/diagnosis-role";

    Bundle build(ClinsExport.PatientData data, Type type, String institution, ClinsExport export,
                 BiFunction<String, String, Resource> read, Referral referral) {
        if (type == Type.DISCHARGE) {
            return discharge(data, institution, export, read);
        }
        List<String> missing = new ArrayList<>();
        Reference gp = data.patient.getGeneralPractitioner().stream()
                .filter(r -> "Practitioner".equals(r.getReferenceElement().getResourceType())).findFirst().orElse(null);
        if (gp == null) {
            missing.add("the author: Patient.generalPractitioner (a Practitioner)");
        }
        if (!data.patient.hasManagingOrganization()) {
            missing.add("the sending institution: Patient.managingOrganization");
        }
        if (referral == null || referral.toOrganization() == null || referral.toOrganization().isBlank()) {
            missing.add("the receiving institution: to-organization (an Organization id)");
        }
        if (referral == null || referral.purpose() == null || referral.purpose().isBlank()) {
            missing.add("the purpose of the referral: purpose (text)");
        }
        if (!missing.isEmpty()) {
            throw new UnprocessableEntityException("A referral letter needs " + String.join("; ", missing));
        }
        String patientId = data.patient.getIdElement().getIdPart();
        Practitioner author = (Practitioner) read.apply("Practitioner", gp.getReferenceElement().getIdPart());
        Organization from = (Organization) read.apply("Organization", data.patient.getManagingOrganization().getReferenceElement().getIdPart());
        Organization to = (Organization) read.apply("Organization", referral.toOrganization());
        Practitioner toDoctor = referral.toPractitioner() == null || referral.toPractitioner().isBlank() ? null
                : (Practitioner) read.apply("Practitioner", referral.toPractitioner());

        Bundle b = document(BUNDLE_REFERRAL, export.bundleIdentifier(institution));

        Composition c = composition(b, COMPOSITION_REFERRAL, institution, "57133-1", "診療情報提供書", "OUTPATIENT", "外来文書",
                "診療情報提供書");

        String patientUrl = export.addPatient(b, data.patient);
        c.setSubject(ClinsExport.ref(patientUrl, "Patient"));

        // every included resource: Type/id -> its fullUrl, so references inside the document resolve inside it
        Map<String, String> urls = new LinkedHashMap<>();
        urls.put("Patient/" + patientId, patientUrl);
        List<Resource> included = new ArrayList<>();
        String authorUrl = include(export, author, institution, urls, included, false);
        String fromUrl = include(export, from, institution, urls, included, false);
        String toUrl = include(export, to, institution, urls, included, false);
        String toDoctorUrl = toDoctor == null ? null : include(export, toDoctor, institution, urls, included, false);

        Encounter purpose = new Encounter();
        purpose.setId(UUID.randomUUID().toString());
        purpose.setStatus(Encounter.EncounterStatus.FINISHED);
        purpose.getClass_().setSystem("http://terminology.hl7.org/CodeSystem/v3-ActCode").setCode("AMB").setDisplay("外来");
        purpose.addReasonCode().setText(referral.purpose());
        purpose.setSubject(new Reference("Patient/" + patientId));
        String purposeUrl = include(export, purpose, institution, urls, included, false);

        List<Condition> conditions = data.of(Condition.class);
        List<AllergyIntolerance> allergies = data.of(AllergyIntolerance.class);
        List<MedicationRequest> prescriptions = data.of(MedicationRequest.class).stream().filter(ClinsExport::isPrescription).toList();
        List<Observation> labs = data.of(Observation.class).stream().filter(ClinsExport::isLaboratory).toList();
        List<String> conditionUrls = conditions.stream().map(r -> include(export, r, institution, urls, included, true)).toList();
        List<String> allergyUrls = allergies.stream().map(r -> include(export, r, institution, urls, included, true)).toList();
        List<String> prescriptionUrls = prescriptions.stream().map(r -> include(export, r, institution, urls, included, true)).toList();
        List<String> labUrls = labs.stream().map(r -> include(export, r, institution, urls, included, true)).toList();

        c.addAuthor(ClinsExport.ref(authorUrl, "Practitioner"));
        c.addAuthor(ClinsExport.ref(fromUrl, "Organization"));
        c.setCustodian(ClinsExport.ref(fromUrl, "Organization"));

        section(c.addSection(), "紹介元情報", "920", "紹介元情報セクション", List.of(from.getName(), name(author)))
                .addEntry(ClinsExport.ref(fromUrl, "Organization")).addEntry(ClinsExport.ref(authorUrl, "Practitioner"));
        Composition.SectionComponent toSection = section(c.addSection(), "紹介先情報", "910", "紹介先情報セクション",
                toDoctor == null ? List.of(to.getName()) : List.of(to.getName(), name(toDoctor)));
        toSection.addEntry(ClinsExport.ref(toUrl, "Organization"));
        if (toDoctorUrl != null) {
            toSection.addEntry(ClinsExport.ref(toDoctorUrl, "Practitioner"));
        }
        Composition.SectionComponent structured = c.addSection().setTitle("構造情報");
        structured.getCode().addCoding().setSystem(SECTION_SYSTEM).setCode("300").setDisplay("構造情報セクション");
        section(structured.addSection(), "紹介目的", "950", "紹介目的セクション", List.of(referral.purpose()))
                .addEntry(ClinsExport.ref(purposeUrl, "Encounter"));
        List<String> conditionTexts = conditions.stream().map(x -> text(x.getCode())).toList();
        entries(section(structured.addSection(), "傷病名・主訴", "340", "傷病名・主訴セクション", orNone(conditionTexts)), conditionUrls, "Condition");
        entries(section(structured.addSection(), "現病歴", "360", "現病歴セクション", orNone(conditions.stream()
                .map(x -> text(x.getCode()) + (x.hasOnsetDateTimeType() ? "（" + x.getOnsetDateTimeType().getValueAsString() + "〜）" : ""))
                .toList())), conditionUrls, "Condition");
        if (!allergies.isEmpty()) {
            entries(section(structured.addSection(), "アレルギー・不耐性反応", "510", "アレルギー・不耐性反応セクション",
                    allergies.stream().map(x -> text(x.getCode())).toList()), allergyUrls, "AllergyIntolerance");
        }
        if (!prescriptions.isEmpty()) {
            entries(section(structured.addSection(), "投薬指示", "430", "投薬指示セクション",
                    prescriptions.stream().map(x -> x.hasMedicationCodeableConcept() ? text(x.getMedicationCodeableConcept()) : "処方").toList()),
                    prescriptionUrls, "MedicationRequest");
        }
        if (!labs.isEmpty()) {
            entries(section(structured.addSection(), "検査結果", "620", "検査結果セクション",
                    labs.stream().map(x -> text(x.getCode()) + (x.hasValueQuantity() ? " " + x.getValueQuantity().getValue().toPlainString()
                            + " " + x.getValueQuantity().getUnit() : "")).toList()), labUrls, "Observation");
        }

        finish(b, export, urls, included);
        return b;
    }

    /**
     * 退院時サマリー from the patient's latest finished inpatient Encounter (class IMP): admission and discharge details
     * from its period and hospitalization, diagnoses on admission and discharge from {@code Encounter.diagnosis}
     * (roles AD and DD), chief complaint and reason from its {@code reasonCode}/{@code reasonReference}, the hospital
     * course from the DocumentReferences of that encounter, discharge medication from its MedicationRequests and the
     * discharge instructions from its CarePlans. The author is the encounter's first practitioner participant (else
     * the general practitioner), the custodian its service provider (else the managing organization). What the
     * profile requires and the records lack is named in the refusal.
     */
    private Bundle discharge(ClinsExport.PatientData data, String institution, ClinsExport export,
                             BiFunction<String, String, Resource> read) {
        String patientId = data.patient.getIdElement().getIdPart();
        Encounter stay = data.of(Encounter.class).stream()
                .filter(e -> "IMP".equals(e.getClass_().getCode()) && e.getStatus() == Encounter.EncounterStatus.FINISHED)
                .max(java.util.Comparator.comparing(e -> e.getPeriod().hasEnd() ? e.getPeriod().getEnd() : new Date(0)))
                .orElseThrow(() -> new UnprocessableEntityException("A discharge summary needs a finished inpatient stay:"
                        + " an Encounter of Patient/" + patientId + " with class IMP and status finished"));
        String stayKey = "Encounter/" + stay.getIdElement().getIdPart();
        List<String> missing = new ArrayList<>();
        Reference authorRef = stay.getParticipant().stream().map(Encounter.EncounterParticipantComponent::getIndividual)
                .filter(r -> "Practitioner".equals(r.getReferenceElement().getResourceType())).findFirst()
                .orElse(data.patient.getGeneralPractitioner().stream()
                        .filter(r -> "Practitioner".equals(r.getReferenceElement().getResourceType())).findFirst().orElse(null));
        Reference custodianRef = stay.hasServiceProvider() ? stay.getServiceProvider()
                : data.patient.hasManagingOrganization() ? data.patient.getManagingOrganization() : null;
        if (authorRef == null) {
            missing.add("the author: a Practitioner participant of " + stayKey + " or Patient.generalPractitioner");
        }
        if (custodianRef == null) {
            missing.add("the institution: " + stayKey + ".serviceProvider or Patient.managingOrganization");
        }
        if (!stay.getPeriod().hasStart() || !stay.getPeriod().hasEnd()) {
            missing.add("the admission and discharge dates: " + stayKey + ".period.start and .end");
        }
        Map<String, Condition> conditionsById = new LinkedHashMap<>();
        data.of(Condition.class).forEach(c -> conditionsById.put("Condition/" + c.getIdElement().getIdPart(), c));
        List<Condition> onAdmission = diagnoses(stay, "AD", conditionsById);
        List<Condition> onDischarge = diagnoses(stay, "DD", conditionsById);
        if (onDischarge.isEmpty()) {
            missing.add("the diagnoses on discharge: " + stayKey + ".diagnosis with use DD (diagnosis-role) referring to Conditions");
        }
        List<org.hl7.fhir.r4.model.DocumentReference> course = data.of(org.hl7.fhir.r4.model.DocumentReference.class).stream()
                .filter(d -> d.getContext().getEncounter().stream().anyMatch(r -> refersTo(r, stayKey))).toList();
        if (course.isEmpty()) {
            missing.add("the hospital course: a DocumentReference whose context.encounter is " + stayKey);
        }
        if (!missing.isEmpty()) {
            throw new UnprocessableEntityException("A discharge summary needs " + String.join("; ", missing));
        }
        List<MedicationRequest> dischargeMeds = data.of(MedicationRequest.class).stream()
                .filter(m -> refersTo(m.getEncounter(), stayKey)).filter(ClinsExport::isPrescription).toList();
        List<org.hl7.fhir.r4.model.CarePlan> instructions = data.of(org.hl7.fhir.r4.model.CarePlan.class).stream()
                .filter(cp -> refersTo(cp.getEncounter(), stayKey)).toList();
        List<Condition> complaints = stay.getReasonReference().stream()
                .map(r -> conditionsById.get(r.getReferenceElement().toUnqualifiedVersionless().getValue()))
                .filter(java.util.Objects::nonNull).toList();
        List<AllergyIntolerance> allergies = data.of(AllergyIntolerance.class);

        Practitioner author = (Practitioner) read.apply("Practitioner", authorRef.getReferenceElement().getIdPart());
        Organization custodian = (Organization) read.apply("Organization", custodianRef.getReferenceElement().getIdPart());

        Bundle b = document(BUNDLE_DISCHARGE, export.bundleIdentifier(institution));
        Composition c = composition(b, COMPOSITION_DISCHARGE, institution, "18842-5", "退院時サマリー", "DISCHARGE", "退院時文書",
                "退院時サマリー");
        // the event of a discharge summary is the stay itself (no code; start and end required)
        c.getEventFirstRep().getCode().clear();
        c.getEventFirstRep().setPeriod(stay.getPeriod().copy());
        String patientUrl = export.addPatient(b, data.patient);
        c.setSubject(ClinsExport.ref(patientUrl, "Patient"));

        Map<String, String> urls = new LinkedHashMap<>();
        urls.put("Patient/" + patientId, patientUrl);
        List<Resource> included = new ArrayList<>();
        String authorUrl = include(export, author, institution, urls, included, false);
        String custodianUrl = include(export, custodian, institution, urls, included, false);
        String stayUrl = include(export, stay, institution, urls, included, false);
        c.setEncounter(ClinsExport.ref(stayUrl, "Encounter"));
        c.addAuthor(ClinsExport.ref(authorUrl, "Practitioner"));
        c.addAuthor(ClinsExport.ref(custodianUrl, "Organization"));
        c.setCustodian(ClinsExport.ref(custodianUrl, "Organization"));

        java.util.function.Function<List<? extends Resource>, List<String>> urlsOf = list -> list.stream()
                .map(r -> include(export, r, institution, urls, included, true)).toList();
        Composition.SectionComponent structured = c.addSection().setTitle("構造情報");
        structured.getCode().addCoding().setSystem(SECTION_SYSTEM).setCode("300").setDisplay("構造情報セクション");
        String admitted = stay.getPeriod().getStartElement().getValueAsString();
        String discharged = stay.getPeriod().getEndElement().getValueAsString();
        section(structured.addSection(), "入院時詳細", "322", "入院時詳細セクション", List.of("入院日: " + admitted))
                .addEntry(ClinsExport.ref(stayUrl, "Encounter"));
        entries(section(structured.addSection(), "入院時診断", "342", "入院時診断セクション",
                orNone(onAdmission.stream().map(x -> text(x.getCode())).toList())), urlsOf.apply(onAdmission), "Condition");
        if (!allergies.isEmpty()) {
            entries(section(structured.addSection(), "アレルギー・不耐性反応", "510", "アレルギー・不耐性反応セクション",
                    allergies.stream().map(x -> text(x.getCode())).toList()), urlsOf.apply(allergies), "AllergyIntolerance");
        }
        List<String> reasons = stay.getReasonCode().stream().map(ClinsDocuments::text).toList();
        entries(section(structured.addSection(), "主訴", "352", "主訴セクション",
                orNone(reasons.isEmpty() ? complaints.stream().map(x -> text(x.getCode())).toList() : reasons)),
                urlsOf.apply(complaints), "Condition");
        section(structured.addSection(), "入院理由", "312", "入院理由セクション", orNone(reasons))
                .addEntry(ClinsExport.ref(stayUrl, "Encounter"));
        entries(section(structured.addSection(), "現病歴", "362", "現病歴セクション", orNone(onAdmission.stream()
                .map(x -> text(x.getCode()) + (x.hasOnsetDateTimeType() ? "（" + x.getOnsetDateTimeType().getValueAsString() + "〜）" : ""))
                .toList())), urlsOf.apply(onAdmission), "Condition");
        entries(section(structured.addSection(), "入院中経過", "333", "入院中経過セクション",
                course.stream().map(d -> d.hasDescription() ? d.getDescription() : text(d.getType())).toList()),
                urlsOf.apply(course), "DocumentReference");
        section(structured.addSection(), "退院時詳細", "324", "退院時詳細セクション", List.of("退院日: " + discharged
                + (stay.getHospitalization().hasDischargeDisposition() ? "、" + text(stay.getHospitalization().getDischargeDisposition()) : "")))
                .addEntry(ClinsExport.ref(stayUrl, "Encounter"));
        entries(section(structured.addSection(), "退院時診断", "344", "退院時診断セクション",
                onDischarge.stream().map(x -> text(x.getCode())).toList()), urlsOf.apply(onDischarge), "Condition");
        entries(section(structured.addSection(), "退院時投薬指示", "444", "退院時投薬指示セクション",
                orNone(dischargeMeds.stream().map(x -> x.hasMedicationCodeableConcept() ? text(x.getMedicationCodeableConcept()) : "処方").toList())),
                urlsOf.apply(dischargeMeds), "MedicationRequest");
        entries(section(structured.addSection(), "退院時方針指示", "424", "退院時方針指示セクション",
                orNone(instructions.stream().map(cp -> cp.hasDescription() ? cp.getDescription() : cp.getTitle()).toList())),
                urlsOf.apply(instructions), "CarePlan");
        finish(b, export, urls, included);
        return b;
    }

    private static List<Condition> diagnoses(Encounter stay, String role, Map<String, Condition> conditions) {
        return stay.getDiagnosis().stream()
                .filter(d -> d.getUse().getCoding().stream().anyMatch(x -> DIAGNOSIS_ROLE.equals(x.getSystem()) && role.equals(x.getCode())))
                .map(d -> conditions.get(d.getCondition().getReferenceElement().toUnqualifiedVersionless().getValue()))
                .filter(java.util.Objects::nonNull).toList();
    }

    private static boolean refersTo(Reference r, String key) {
        return r != null && r.hasReference() && key.equals(r.getReferenceElement().toUnqualifiedVersionless().getValue());
    }

    /** An empty document Bundle of the profile: identifier (R2152), timestamp, lastUpdated, language. */
    private static Bundle document(String profile, String identifier) {
        Bundle b = new Bundle().setType(Bundle.BundleType.DOCUMENT);
        b.setId(UUID.randomUUID().toString());
        b.getMeta().addProfile(profile);
        b.getIdentifier().setSystem(ClinsExport.BUNDLE_IDENTIFIER).setValue(identifier);
        b.setTimestamp(new Date());
        b.getMeta().setLastUpdated(b.getTimestamp());
        b.setLanguage("ja");
        return b;
    }

    /** The Composition (first entry) with what both documents share. */
    private static Composition composition(Bundle b, String profile, String institution, String typeCode, String typeDisplay,
                                           String category, String categoryDisplay, String title) {
        Composition c = new Composition();
        c.setId(UUID.randomUUID().toString());
        c.getMeta().addProfile(profile).setLastUpdated(b.getTimestamp());
        c.setLanguage("ja");
        c.addExtension("http://hl7.org/fhir/StructureDefinition/composition-clinicaldocument-versionNumber", new StringType("1.0"));
        c.getIdentifier().setSystem("http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier")
                .setValue(institution + "-" + LocalDate.now(ZoneId.of("Asia/Tokyo")).getYear() + "-" + c.getIdElement().getIdPart());
        c.setStatus(Composition.CompositionStatus.FINAL);
        c.getType().addCoding().setSystem("http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes").setCode(typeCode).setDisplay(typeDisplay);
        c.addCategory().addCoding().setSystem("http://jpfhir.jp/fhir/Common/CodeSystem/doc-subtypecodes").setCode(category).setDisplay(categoryDisplay);
        c.setDate(b.getTimestamp());
        c.setTitle(title);
        c.addEvent().addCode(new CodeableConcept().setText(title + "発行")).getPeriod().setStart(b.getTimestamp());
        b.addEntry().setFullUrl("urn:uuid:" + c.getIdElement().getIdPart()).setResource(c);
        return c;
    }

    /** References inside the document to included resources resolve to their fullUrls; the entries are appended. */
    private static void finish(Bundle b, ClinsExport export, Map<String, String> urls, List<Resource> included) {
        List<Resource> repointed = new ArrayList<>(included);
        repointed.add(b.getEntry().get(1).getResource()); // the Patient: its general practitioner, managing organization
        for (Resource r : repointed) {
            for (var info : export.fhirContext().newTerser().getAllResourceReferences(r)) {
                var ref = info.getResourceReference();
                String value = ref.getReferenceElement().getValue();
                if (value != null) {
                    String unversioned = value.contains("/_history/") ? value.substring(0, value.indexOf("/_history/")) : value;
                    String url = urls.get(unversioned);
                    if (url != null) {
                        ref.setReference(url);
                    }
                }
            }
        }
        for (Resource r : included) {
            b.addEntry().setFullUrl(urls.get(r.fhirType() + "/" + r.getIdElement().getIdPart())).setResource(r);
        }
    }

    private static List<String> orNone(List<String> texts) {
        return texts.isEmpty() ? List.of("記載なし") : texts;
    }

    private static String include(ClinsExport export, Resource r, String institution, Map<String, String> urls,
                                  List<Resource> included, boolean clinical) {
        String key = r.fhirType() + "/" + r.getIdElement().getIdPart();
        String existing = urls.get(key);
        if (existing != null) {
            return existing;
        }
        Resource copy = clinical ? export.entryCopy(r, PROFILES.get(r.fhirType()), institution) : plainCopy(r);
        String url = "urn:uuid:" + UUID.nameUUIDFromBytes(key.getBytes(StandardCharsets.UTF_8));
        urls.put(key, url);
        included.add(copy);
        return url;
    }

    /** Practitioners, organizations, the purpose encounter: profiled, Kiroku's meta removed, no institution extension. */
    private static Resource plainCopy(Resource r) {
        Resource copy = r.copy();
        ClinsExport.clean(copy);
        if (!copy.getMeta().hasLastUpdated()) {
            copy.getMeta().setLastUpdated(new Date());
        }
        copy.getMeta().getProfile().clear();
        copy.getMeta().addProfile(PROFILES.get(r.fhirType()));
        return copy;
    }

    private static Composition.SectionComponent section(Composition.SectionComponent s, String title, String code, String display,
                                                        List<String> lines) {
        s.setTitle(title);
        s.getCode().addCoding().setSystem(SECTION_SYSTEM).setCode(code).setDisplay(display);
        XhtmlNode div = new XhtmlNode(org.hl7.fhir.utilities.xhtml.NodeType.Element, "div");
        div.setAttribute("xmlns", "http://www.w3.org/1999/xhtml");
        for (String line : lines) {
            div.addTag("p").addText(line == null ? "" : line);
        }
        s.getText().setStatus(Narrative.NarrativeStatus.ADDITIONAL).setDiv(div);
        return s;
    }

    private static void entries(Composition.SectionComponent s, List<String> urls, String type) {
        urls.forEach(u -> s.addEntry(ClinsExport.ref(u, type)));
    }

    private static String text(CodeableConcept cc) {
        if (cc.hasText()) {
            return cc.getText();
        }
        return cc.getCoding().stream().filter(x -> x.hasDisplay()).map(x -> x.getDisplay()).findFirst()
                .orElse(cc.getCodingFirstRep().getCode());
    }

    private static String name(DomainResource r) {
        if (r instanceof Practitioner p && p.hasName()) {
            return p.getNameFirstRep().hasText() ? p.getNameFirstRep().getText() : p.getNameFirstRep().getNameAsSingleString();
        }
        return r.getIdElement().getIdPart();
    }
}
