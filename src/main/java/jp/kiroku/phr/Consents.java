package jp.kiroku.phr;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.stereotype.Service;

import jp.kiroku.access.ConsentRestrictions;
import jp.kiroku.access.SharingConsents;
import jp.kiroku.fhir.Interactions;
import jp.kiroku.identity.Caller;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.retention.Retention;

/**
 * Consents to third-party provision (PHR-01; issue 12, items 1 and 4): a patient grants a facility access to the
 * categories of their records they choose, for a purpose and a period, and revokes it again. Each grant is a FHIR
 * {@code Consent} (scope patient-privacy, policy rule OPTIN, a permit provision naming the recipient facility by
 * identifier, the purposes, the categories and the period; {@code policy.uri} names the version of the terms the
 * patient agreed to) written as the patient through {@link Interactions} — validated, ledgered and audited like every
 * write; {@link SharingConsents} makes it effective at commit. A revocation is a new version with status inactive: the
 * grant stays on record, as the guideline's traceability asks.
 */
@Service
public class Consents {

    public static final String PURPOSE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
    /** The purposes a patient may choose, with the words the portal shows. */
    public static final Map<String, String> PURPOSES = purposes();
    /** The categories a patient may share (sensitive records, consents, the access log and master data are not offered). */
    public static final List<String> CATEGORIES = List.of("demographics", "encounters", "clinical", "orders", "results",
            "nursing");
    static final String TERMS = "http://kiroku.jp/fhir/consent-terms/sharing/";

    /** One consent to sharing as the patient sees it. */
    public record Grant(String id, int version, boolean active, String recipient, String recipientName,
                        List<String> categories, List<String> purposes, LocalDate from, LocalDate to, Instant recorded,
                        String terms) {
    }

    /** What a patient asks to share: the recipient facility, categories (empty: all offered), purposes, period. */
    public record Request(String recipient, List<String> categories, List<String> purposes, LocalDate from, LocalDate to) {
    }

    private final Interactions fhir;
    private final Retention retention;
    private final KirokuProperties props;

    Consents(Interactions fhir, Retention retention, KirokuProperties props) {
        this.fhir = fhir;
        this.retention = retention;
        this.props = props;
    }

    private static Map<String, String> purposes() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("TREAT", "診療 (treatment)");
        m.put("ETREAT", "救急診療 (emergency treatment)");
        m.put("CAREMGT", "地域連携・ケアマネジメント (care coordination)");
        m.put("HRESCH", "研究 (health research)");
        m.put("PATRQT", "本人の求めによる提供 (at the patient's request)");
        return java.util.Collections.unmodifiableMap(m);
    }

    /** The facilities a patient may share with (the facility register), id → name. */
    public Map<String, String> recipients() {
        Map<String, String> out = new LinkedHashMap<>();
        retention.facilities().forEach(f -> out.put(f.id(), f.name() == null ? f.id() : f.name()));
        return out;
    }

    /** The patient's sharing consents, newest first, read as the caller (audited as a search). */
    public List<Grant> of(Caller caller, String patientId) {
        Bundle found = fhir.search(caller, "Consent", Map.of("patient", List.of("Patient/" + patientId),
                "_sort", List.of("-_lastUpdated"), "_count", List.of("200")));
        List<Grant> out = new ArrayList<>();
        for (Bundle.BundleEntryComponent e : found.getEntry()) {
            if (e.getResource() instanceof Consent c) {
                grant(c).ifPresent(out::add);
            }
        }
        return out;
    }

    private java.util.Optional<Grant> grant(Consent c) {
        if (!c.hasProvision() || c.getProvision().getType() != Consent.ConsentProvisionType.PERMIT) {
            return java.util.Optional.empty();
        }
        Consent.ProvisionComponent p = c.getProvision();
        String recipient = null;
        String name = null;
        for (Consent.provisionActorComponent a : p.getActor()) {
            Identifier id = a.getReference().getIdentifier();
            if (SharingConsents.FACILITY_SYSTEM.equals(id.getSystem())) {
                recipient = id.getValue();
                name = a.getReference().getDisplay();
            }
        }
        if (recipient == null) {
            return java.util.Optional.empty();
        }
        List<String> categories = p.getCode().stream().flatMap(cc -> cc.getCoding().stream())
                .filter(x -> ConsentRestrictions.CATEGORY_SYSTEM.equals(x.getSystem())).map(Coding::getCode).toList();
        ZoneId zone = props.getTimeZone();
        return java.util.Optional.of(new Grant(c.getIdElement().getIdPart(),
                Integer.parseInt(c.getMeta().getVersionId() == null ? "1" : c.getMeta().getVersionId()),
                c.getStatus() == Consent.ConsentState.ACTIVE, recipient, name == null ? recipient : name, categories,
                p.getPurpose().stream().map(Coding::getCode).toList(),
                p.getPeriod().hasStart() ? LocalDate.ofInstant(p.getPeriod().getStart().toInstant(), zone) : null,
                p.getPeriod().hasEnd() ? LocalDate.ofInstant(p.getPeriod().getEnd().toInstant(), zone) : null,
                c.getMeta().hasLastUpdated() ? c.getMeta().getLastUpdated().toInstant() : null,
                c.getPolicyFirstRep().getUri()));
    }

    /**
     * Records the patient's consent to share; returns the Consent's id. Refuses (IllegalArgumentException, in words)
     * an unknown recipient, a category or purpose not offered, no purpose, and a period that ends before it starts.
     */
    public String grant(Caller caller, String patientId, Request request) {
        Map<String, String> recipients = recipients();
        if (request.recipient() == null || !recipients.containsKey(request.recipient())) {
            throw new IllegalArgumentException("choose a facility to share with (one of " + recipients.keySet() + ")");
        }
        if (request.purposes() == null || request.purposes().isEmpty()) {
            throw new IllegalArgumentException("choose at least one purpose");
        }
        for (String p : request.purposes()) {
            if (!PURPOSES.containsKey(p)) {
                throw new IllegalArgumentException("not a purpose that can be chosen: " + p);
            }
        }
        List<String> categories = request.categories() == null ? List.of() : request.categories();
        for (String c : categories) {
            if (!CATEGORIES.contains(c)) {
                throw new IllegalArgumentException("not a category that can be shared: " + c);
            }
        }
        if (request.from() != null && request.to() != null && request.to().isBefore(request.from())) {
            throw new IllegalArgumentException("the period ends (" + request.to() + ") before it starts (" + request.from() + ")");
        }
        ZoneId zone = props.getTimeZone();
        Consent c = new Consent();
        String id = UUID.randomUUID().toString();
        c.setId(id);
        c.setStatus(Consent.ConsentState.ACTIVE);
        c.setScope(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy",
                "Privacy Consent")));
        c.addCategory(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "IDSCL",
                "information disclosure")));
        c.setPatient(new Reference("Patient/" + patientId));
        c.setDateTimeElement(new DateTimeType(new Date()));
        c.addPerformer(new Reference("Patient/" + patientId));
        c.addPolicy().setUri(TERMS + props.getPhr().getSharingTermsVersion());
        c.setPolicyRule(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "OPTIN", "opt-in")));
        Consent.ProvisionComponent p = c.getProvision().setType(Consent.ConsentProvisionType.PERMIT);
        Period period = new Period();
        period.setStart(Date.from((request.from() != null ? request.from() : LocalDate.now(zone)).atStartOfDay(zone).toInstant()));
        if (request.to() != null) {
            period.setEndElement(new DateTimeType(Date.from(request.to().plusDays(1).atStartOfDay(zone).toInstant())));
        }
        p.setPeriod(period);
        p.addActor().setRole(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                "IRCP", "information recipient"))).setReference(new Reference().setIdentifier(new Identifier()
                .setSystem(SharingConsents.FACILITY_SYSTEM).setValue(request.recipient())).setDisplay(recipients.get(request.recipient())));
        request.purposes().forEach(code -> p.addPurpose(new Coding(PURPOSE_SYSTEM, code, null)));
        categories.forEach(code -> p.addCode(new CodeableConcept(new Coding(ConsentRestrictions.CATEGORY_SYSTEM, code, null))));
        put(caller, c);
        return id;
    }

    /** Revokes a sharing consent of the patient's: a new version with status inactive, effective at once. */
    public void revoke(Caller caller, String patientId, String consentId) {
        Resource read = fhir.read(caller, "Consent", consentId);
        if (!(read instanceof Consent c) || !("Patient/" + patientId).equals(c.getPatient().getReference())
                || grant(c).isEmpty()) {
            throw new IllegalArgumentException("Consent/" + consentId + " is not one of your sharing consents");
        }
        if (c.getStatus() != Consent.ConsentState.ACTIVE) {
            throw new IllegalArgumentException("Consent/" + consentId + " is revoked already");
        }
        c.setStatus(Consent.ConsentState.INACTIVE);
        put(caller, c);
    }

    private void put(Caller caller, Consent c) {
        c.setMeta(null);
        Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        tx.addEntry().setFullUrl("Consent/" + c.getIdElement().getIdPart()).setResource(c).getRequest()
                .setMethod(Bundle.HTTPVerb.PUT).setUrl("Consent/" + c.getIdElement().getIdPart());
        fhir.transaction(caller, tx);
    }
}
