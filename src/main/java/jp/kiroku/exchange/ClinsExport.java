package jp.kiroku.exchange;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Year;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.stereotype.Component;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import jp.kiroku.fhir.Interactions;
import jp.kiroku.identity.Caller;

/**
 * A patient's data as JP-CLINS Bundles (SHARE-02), built from the stored resources the caller may read (read through
 * {@link Interactions#export}: the same checks as a read, audited as {@code export}) and validated against the JP-CLINS
 * package before it is returned; an invalid result is refused (422) with the validator's outcome, which names what the
 * stored data lacks (e.g. R9013C: a Condition without onsetDateTime). Codes from the listed unavailable code systems
 * ({@code fhir.UnavailableCodeSystems}) are warnings in that outcome, never errors and never faked.
 *
 * <p>The 5 information types are sent as JP_Bundle_CLINS collections, one per resource type (the profile's R02142 allows
 * exactly one {@code BundleResourceType_CS} tag): conditions (傷病名), allergies (アレルギー, incl. drug
 * contraindications) and laboratory results (検査, incl. infection tests). Each has the Patient first (JP_Patient_eCS),
 * then the resources with their JP-CLINS profile and the issuing institution's number (JP_eCS_InstitutionNumber).
 * Prescriptions go into the documents ({@link #document}).
 *
 * <p>The institution number (医療機関番号, 10 digits) comes from the data: the Patient's institution-local id system
 * {@code urn:oid:1.2.392.100495.20.3.51.1<number>} or the managing Organization's identifier
 * {@code http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no}; with neither, the export is refused
 * naming both.
 */
@Component
public class ClinsExport {

    /** What to export. */
    public enum Kind {
        CONDITIONS("Condition", "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Condition_eCS"),
        ALLERGIES("AllergyIntolerance", "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_AllergyIntolerance_eCS"),
        LABS("Observation", "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Observation_LabResult_eCS");

        final String type;
        final String profile;

        Kind(String type, String profile) {
            this.type = type;
            this.profile = profile;
        }
    }

    public static final String BUNDLE_CLINS = "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS";
    public static final String PATIENT_ECS = "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Patient_eCS";
    static final String RESOURCE_TYPE_TAG = "http://jpfhir.jp/fhir/clins/CodeSystem/BundleResourceType_CS";
    static final String BUNDLE_IDENTIFIER = "http://jpfhir.jp/fhir/clins/bundle-identifier";
    static final String INSTITUTION_EXTENSION = "http://jpfhir.jp/fhir/clins/Extension/StructureDefinition/JP_eCS_InstitutionNumber";
    static final String INSTITUTION_SYSTEM = "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
    static final String INSURANCE_MEMBER_ID = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";
    static final String KIROKU_TAGS = "http://kiroku.jp/";
    /** The types JP_eCS_InstitutionNumber may be used on (its context in the package). */
    static final java.util.Set<String> INSTITUTION_NUMBERED = java.util.Set.of("MedicationRequest", "AllergyIntolerance",
            "Condition", "Patient", "Observation");

    /** A JP-CLINS Bundle and the validator's outcome for it (warnings only: an error refuses the export). */
    public record Exported(Bundle bundle, OperationOutcome outcome) {
    }

    private final Interactions interactions;
    private final FhirContext ctx;
    private final ClinsDocuments documents;
    private final Clock clock = Clock.systemUTC();

    ClinsExport(Interactions interactions, FhirContext ctx, ClinsDocuments documents) {
        this.interactions = interactions;
        this.ctx = ctx;
        this.documents = documents;
    }

    /** A stored (imported) JP-CLINS Bundle, as it was received: a read, with a read's checks and audit. */
    public Bundle stored(Caller caller, String bundleId) {
        return (Bundle) interactions.read(caller, "Bundle", bundleId);
    }

    /** The patient's readable data, by type, as stored (current versions). */
    PatientData gather(Caller caller, String patientId) {
        Map<String, List<String>> params = new LinkedHashMap<>();
        params.put("_count", List.of("1000"));
        Bundle all = interactions.export(caller, patientId, params);
        PatientData data = new PatientData();
        for (Bundle.BundleEntryComponent e : all.getEntry()) {
            Resource r = e.getResource();
            if (r == null) {
                continue;
            }
            if (r instanceof Patient p && p.getIdElement().getIdPart().equals(patientId)) {
                data.patient = p;
            } else {
                data.others.add(r);
            }
        }
        if (data.patient == null) {
            throw new ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException("Patient/" + patientId + " is not known");
        }
        return data;
    }

    static final class PatientData {
        Patient patient;
        final List<Resource> others = new ArrayList<>();

        <T extends Resource> List<T> of(Class<T> type) {
            return others.stream().filter(type::isInstance).map(type::cast).toList();
        }
    }

    /** One JP_Bundle_CLINS collection of the patient's resources of that kind; 422 if it would not validate. */
    public Exported information(Caller caller, String patientId, Kind kind) {
        PatientData data = gather(caller, patientId);
        return information(data, kind, institutionNumber(data));
    }

    /** The three information Bundles that have content (JP-CLINS wants at least one resource in each). */
    public List<Exported> information(Caller caller, String patientId) {
        PatientData data = gather(caller, patientId);
        String institution = institutionNumber(data);
        List<Exported> out = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            if (!selected(data, kind).isEmpty()) {
                out.add(information(data, kind, institution));
            }
        }
        if (out.isEmpty()) {
            throw new UnprocessableEntityException("Patient/" + patientId + " has no conditions, allergies or laboratory"
                    + " results to send as JP-CLINS information");
        }
        return out;
    }

    /**
     * A referral letter or discharge summary document (see {@link ClinsDocuments}); the practitioners and organizations
     * it names are read with the caller's rights (and audited as reads).
     */
    public Exported document(Caller caller, String patientId, ClinsDocuments.Type type, ClinsDocuments.Referral referral) {
        PatientData data = gather(caller, patientId);
        String institution = institutionNumber(data);
        Bundle doc = documents.build(data, type, institution, this, (t, id) -> interactions.read(caller, t, id), referral);
        return validated(doc);
    }

    FhirContext fhirContext() {
        return ctx;
    }

    private List<? extends Resource> selected(PatientData data, Kind kind) {
        return switch (kind) {
            case CONDITIONS -> data.of(Condition.class);
            case ALLERGIES -> data.of(AllergyIntolerance.class);
            case LABS -> data.of(Observation.class).stream().filter(ClinsExport::isLaboratory).toList();
        };
    }

    static boolean isLaboratory(Observation o) {
        return o.getCategory().stream().flatMap(c -> c.getCoding().stream()).anyMatch(c -> "laboratory".equals(c.getCode()));
    }

    private Exported information(PatientData data, Kind kind, String institution) {
        List<? extends Resource> resources = selected(data, kind);
        if (resources.isEmpty()) {
            throw new UnprocessableEntityException("Patient/" + data.patient.getIdElement().getIdPart() + " has no "
                    + kind.type + " to send (a JP_Bundle_CLINS Bundle needs at least one, R02143)");
        }
        Bundle b = new Bundle().setType(Bundle.BundleType.COLLECTION);
        b.setId(UUID.randomUUID().toString());
        b.getMeta().addProfile(BUNDLE_CLINS);
        b.getMeta().addTag(RESOURCE_TYPE_TAG, kind.type, null);
        b.getIdentifier().setSystem(BUNDLE_IDENTIFIER).setValue(bundleIdentifier(institution));
        b.setTimestamp(Date.from(clock.instant()));
        b.getMeta().setLastUpdated(b.getTimestamp());
        String patientUrl = addPatient(b, data.patient);
        // a collection's references resolve inside it: the Patient's links to records not sent are left out
        Patient sentPatient = (Patient) b.getEntryFirstRep().getResource();
        sentPatient.getGeneralPractitioner().clear();
        sentPatient.setManagingOrganization(null);
        sentPatient.getLink().clear();
        for (Resource r : resources) {
            Resource copy = entryCopy(r, kind.profile, institution);
            repointPatient(copy, data.patient.getIdElement().getIdPart(), patientUrl);
            b.addEntry().setFullUrl(fullUrl(copy)).setResource(copy);
        }
        return validated(b);
    }

    /** Validates; 422 with the outcome when it has errors. */
    Exported validated(Bundle b) {
        OperationOutcome outcome = interactions.validate(b, null);
        if (ClinsOutcomes.hasErrors(outcome)) {
            throw new UnprocessableEntityException(ctx, outcome);
        }
        return new Exported(b, outcome);
    }

    /** The Patient as the first entry, profiled JP_Patient_eCS; its fullUrl. */
    String addPatient(Bundle b, Patient stored) {
        Patient p = stored.copy();
        clean(p);
        p.getMeta().getProfile().clear();
        p.getMeta().addProfile(PATIENT_ECS);
        String url = fullUrl(p);
        b.addEntry().setFullUrl(url).setResource(p);
        return url;
    }

    /** A stored resource as an entry: Kiroku's meta removed, the JP-CLINS profile, the institution number. */
    Resource entryCopy(Resource r, String profile, String institution) {
        Resource copy = r.copy();
        clean(copy);
        copy.getMeta().getProfile().clear();
        copy.getMeta().addProfile(profile);
        if (copy instanceof org.hl7.fhir.r4.model.DomainResource d && INSTITUTION_NUMBERED.contains(copy.fhirType())
                && d.getExtension().stream().noneMatch(x -> INSTITUTION_EXTENSION.equals(x.getUrl()))) {
            d.addExtension(new Extension(INSTITUTION_EXTENSION, new Identifier().setSystem(INSTITUTION_SYSTEM).setValue(institution)));
        }
        return copy;
    }

    /** References to the stored Patient point to its entry. */
    void repointPatient(Resource r, String patientId, String patientUrl) {
        for (var info : ctx.newTerser().getAllResourceReferences(r)) {
            var ref = info.getResourceReference();
            String value = ref.getReferenceElement().getValue();
            if (value != null && (value.equals("Patient/" + patientId) || value.startsWith("Patient/" + patientId + "/_history"))) {
                ref.setReference(patientUrl);
            }
        }
    }

    /** Entries are identified by a name-based uuid of their stored Type/id (stable across exports). */
    static String fullUrl(Resource r) {
        String key = r.fhirType() + "/" + r.getIdElement().getIdPart();
        return "urn:uuid:" + UUID.nameUUIDFromBytes(key.getBytes(StandardCharsets.UTF_8));
    }

    /** The server's version id and Kiroku's own tags are not sent; lastUpdated (JP-CLINS requires it) is the stored one. */
    static void clean(Resource r) {
        r.getMeta().setVersionId(null);
        r.getMeta().getTag().removeIf(t -> t.getSystem() != null && t.getSystem().startsWith(KIROKU_TAGS));
        r.getMeta().getSecurity().removeIf(t -> t.getSystem() != null && t.getSystem().startsWith(KIROKU_TAGS));
        r.setIdElement(new org.hl7.fhir.r4.model.IdType(r.fhirType(), r.getIdElement().getIdPart()));
    }

    /** R2152: 医療機関番号^西暦^unique id (letters, digits, hyphen; at most 36). */
    String bundleIdentifier(String institution) {
        return institution + "^" + Year.now(clock.withZone(ZoneId.of("Asia/Tokyo"))) + "^" + UUID.randomUUID();
    }

    /** The 10-digit institution number, from the patient's local id system or managing Organization. */
    String institutionNumber(PatientData data) {
        for (Identifier id : data.patient.getIdentifier()) {
            String system = id.getSystem();
            if (system != null && system.startsWith(CodeSystems.PATIENT_ID_PREFIX) && system.length() == CodeSystems.PATIENT_ID_PREFIX.length() + 10) {
                return system.substring(CodeSystems.PATIENT_ID_PREFIX.length());
            }
        }
        Optional<String> fromOrganization = data.of(Organization.class).stream()
                .filter(o -> data.patient.getManagingOrganization().getReferenceElement().getIdPart() != null
                        && data.patient.getManagingOrganization().getReferenceElement().getIdPart().equals(o.getIdElement().getIdPart()))
                .flatMap(o -> o.getIdentifier().stream())
                .filter(i -> INSTITUTION_SYSTEM.equals(i.getSystem())).map(Identifier::getValue).findFirst();
        return fromOrganization.orElseThrow(() -> new UnprocessableEntityException("Missing the institution number (医療機関番号)"
                + " for JP-CLINS: give Patient/" + data.patient.getIdElement().getIdPart() + " an identifier with the system "
                + CodeSystems.PATIENT_ID_PREFIX + "<10-digit number> (its institution-local id) or a managingOrganization with an"
                + " identifier of the system " + INSTITUTION_SYSTEM));
    }

    static Reference ref(String url, String type) {
        return new Reference(url).setType(type);
    }

    static boolean isPrescription(MedicationRequest m) {
        return m.getStatus() != MedicationRequest.MedicationRequestStatus.ENTEREDINERROR;
    }
}
