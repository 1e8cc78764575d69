package jp.kiroku.fhir;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Provenance;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.stereotype.Component;

import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import jp.kiroku.access.AccessPolicy;
import jp.kiroku.access.Subject;
import jp.kiroku.audit.Agent;
import jp.kiroku.identity.Account;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.Caller;
import jp.kiroku.store.ResourceKey;
import jp.kiroku.store.Write;
import jp.kiroku.store.Written;

/**
 * Record confirmation (確定, INTEG-02) and proxy input (代行入力, INTEG-01, INTEG-04) on the FHIR side: what a request
 * says about authorship beyond its token (the standard {@code X-Provenance} header: on whose behalf, and why), the
 * rules a write must keep, the server-managed status tag ({@link #SYSTEM}) and the {@code Provenance} resources that
 * tell other systems who entered, who confirmed and on whose behalf.
 */
@Component
class RecordStatus {

    /** The tag system Kiroku alone sets: {@code confirmed}, or {@code unapproved} for a proxy entry. */
    static final String SYSTEM = "http://kiroku.jp/fhir/CodeSystem/record-status";
    /** Identifies people in Provenance agents by their Kiroku username. */
    static final String ACCOUNT_SYSTEM = "http://kiroku.jp/fhir/sid/account";
    static final String CLIENT_SYSTEM = "http://kiroku.jp/fhir/sid/client";
    static final String ACTIVITY_SYSTEM = "http://kiroku.jp/fhir/CodeSystem/record-activity";
    static final String HEADER = "X-Provenance";
    /** The role whose entries are proxy input: they must name the responsible clinician. */
    static final String PROXY_ROLE = "doctor-assistant";

    private static final String PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type";
    private static final String DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation";
    private static final String DOCUMENT_COMPLETION = "http://terminology.hl7.org/CodeSystem/v3-DocumentCompletion";

    /**
     * What a write request says about its authorship beyond the token.
     *
     * @param onBehalfOf the responsible clinician of a proxy entry, or null
     * @param reason     why (needed to change a confirmed record), or null
     * @param confirming the write is a confirmation ({@code $confirm})
     * @param explicit   the request carried X-Provenance (its writes get a Provenance each)
     */
    record Attribution(Account onBehalfOf, String reason, boolean confirming, boolean explicit) {
        static final Attribution NONE = new Attribution(null, null, false, false);
        static final Attribution CONFIRMING = new Attribution(null, null, true, false);

        String onBehalfOfName() {
            return onBehalfOf == null ? null : onBehalfOf.username();
        }
    }

    private final FhirRecords records;
    private final Accounts accounts;
    private final AccessPolicy policy;

    RecordStatus(FhirRecords records, Accounts accounts, AccessPolicy policy) {
        this.records = records;
        this.accounts = accounts;
        this.policy = policy;
    }

    /** The request's X-Provenance (a Provenance resource in JSON), read for its onBehalfOf agent and reason. */
    Attribution attribution(RequestDetails request) {
        String header = request == null ? null : request.getHeader(HEADER);
        if (header == null || header.isBlank()) {
            return Attribution.NONE;
        }
        Provenance p;
        try {
            var parsed = records.strictParser(EncodingEnum.JSON).parseResource(header);
            if (!(parsed instanceof Provenance prov)) {
                throw new InvalidRequestException("The " + HEADER + " header must hold a Provenance resource in JSON");
            }
            p = prov;
        } catch (DataFormatException e) {
            throw new InvalidRequestException("Invalid " + HEADER + " header: " + e.getMessage());
        }
        Set<String> named = new LinkedHashSet<>();
        Account responsible = null;
        for (Provenance.ProvenanceAgentComponent agent : p.getAgent()) {
            if (agent.hasOnBehalfOf()) {
                Account a = account(agent.getOnBehalfOf());
                if (named.add(a.username())) {
                    responsible = a;
                }
            }
        }
        if (named.size() > 1) {
            throw new InvalidRequestException(HEADER + " names more than one person on whose behalf: " + named);
        }
        List<String> reasons = new ArrayList<>();
        for (CodeableConcept c : p.getReason()) {
            String text = c.hasText() ? c.getText() : c.getCodingFirstRep().hasDisplay() ? c.getCodingFirstRep().getDisplay()
                    : c.getCodingFirstRep().getCode();
            if (text != null && !text.isBlank()) {
                reasons.add(text.strip());
            }
        }
        return new Attribution(responsible, reasons.isEmpty() ? null : String.join("; ", reasons), false, true);
    }

    /** The person a reference names: {@code Practitioner/…} (their account's FHIR record) or a Kiroku account identifier. */
    private Account account(Reference r) {
        if (r.hasIdentifier() && ACCOUNT_SYSTEM.equals(r.getIdentifier().getSystem())) {
            return accounts.activeAccount(r.getIdentifier().getValue()).orElseThrow(() -> new InvalidRequestException(
                    HEADER + " onBehalfOf: no active account '" + r.getIdentifier().getValue() + "'"));
        }
        String ref = r.getReference();
        if (ref == null || !ref.matches("(Practitioner|PractitionerRole)/[A-Za-z0-9\\-.]{1,64}")) {
            throw new InvalidRequestException(HEADER + " onBehalfOf must be a Practitioner/… reference or an identifier"
                    + " with system " + ACCOUNT_SYSTEM);
        }
        List<Account> found = accounts.activeByFhirRef(ref);
        if (found.size() != 1) {
            throw new InvalidRequestException(HEADER + " onBehalfOf " + ref + ": " + (found.isEmpty()
                    ? "no active account stands for it" : "several accounts stand for it; name one by identifier"));
        }
        return found.get(0);
    }

    /**
     * The rules of proxy input before anything is written: a doctor's assistant names the responsible clinician, who
     * must be another person of the same facility whose roles may confirm every category written.
     */
    void check(Subject subject, Attribution by, List<FhirServices.Change> changes) {
        Account responsible = by.onBehalfOf();
        if (responsible == null) {
            if (subject.person() && subject.roles().contains(PROXY_ROLE)) {
                throw new InvalidRequestException("Proxy input (代行入力): an entry by a doctor's assistant must name the"
                        + " responsible clinician as agent.onBehalfOf in the " + HEADER + " header");
            }
            return;
        }
        if (!subject.person()) {
            throw new InvalidRequestException(HEADER + " onBehalfOf is for proxy input by a person, not for systems");
        }
        if (responsible.username().equalsIgnoreCase(subject.id())) {
            throw new InvalidRequestException(HEADER + " onBehalfOf names yourself: proxy input is on another person's behalf");
        }
        String facility = responsible.facility() == null || responsible.facility().isBlank() ? Subject.HOME_FACILITY
                : responsible.facility();
        if (!facility.equals(subject.facility())) {
            throw new InvalidRequestException(HEADER + " onBehalfOf: " + responsible.username() + " works in another facility");
        }
        for (FhirServices.Change c : changes) {
            String category = c.write().category();
            if (category != null && !policy.confirms(responsible.roles(), category)) {
                throw new InvalidRequestException(HEADER + " onBehalfOf: " + responsible.username() + " may not confirm "
                        + category + " records, so cannot be responsible for this " + c.write().key().type());
            }
        }
    }

    /** Takes out any status tag a client sent: only the server says what is confirmed. */
    static void stripTags(Resource resource) {
        if (resource.hasMeta()) {
            resource.getMeta().getTag().removeIf(t -> SYSTEM.equals(t.getSystem()));
        }
    }

    /** Tags the resource with a status, for every reader and for {@code _tag} searches. */
    static void tag(Resource resource, String status) {
        stripTags(resource);
        resource.getMeta().addTag(SYSTEM, status, status.equals(jp.kiroku.store.Placement.CONFIRMED) ? "確定済 (confirmed)"
                : "未承認の代行入力 (unapproved proxy entry)");
    }

    /**
     * One Provenance per version written: for every confirmation, and for every write of a request that carried
     * X-Provenance (proxy input, a reasoned change). It targets the new version, names the version it revises, and is
     * filed with the record's patient and category (whoever may read the record may read how it came to be).
     */
    List<FhirServices.Change> provenances(Caller caller, Attribution by, List<Written> out, Optional<String> priorStatus) {
        List<FhirServices.Change> provenances = new ArrayList<>();
        if (!by.confirming() && !by.explicit()) {
            return provenances;
        }
        for (int i = 0; i < out.size(); i++) {
            Written w = out.get(i);
            if (w.noop()) {
                continue;
            }
            Provenance p = new Provenance();
            p.addTarget(new Reference(w.key().type() + "/" + w.key().id() + "/_history/" + w.versionId()));
            p.setRecorded(Date.from(w.lastUpdated()));
            if (!w.created() && w.versionId() > 1) {
                p.addEntity().setRole(Provenance.ProvenanceEntityRole.REVISION)
                        .setWhat(new Reference(w.key().type() + "/" + w.key().id() + "/_history/" + (w.versionId() - 1)));
            }
            Reference me = agent(caller.agent());
            if (by.confirming()) {
                boolean approval = priorStatus.filter(jp.kiroku.store.Placement.UNAPPROVED::equals).isPresent();
                p.setActivity(new CodeableConcept(new Coding(DOCUMENT_COMPLETION, "LA", "legally authenticated"))
                        .addCoding(new Coding(ACTIVITY_SYSTEM, approval ? "approve" : "confirm", approval
                                ? "代行入力の承認 (approval of a proxy entry)" : "記録の確定 (confirmation)")));
                p.addAgent().setType(participant("attester", "Attester")).setWho(me);
            } else {
                String op = w.deleted() ? "DELETE" : w.created() ? "CREATE" : "UPDATE";
                p.setActivity(new CodeableConcept(new Coding(DATA_OPERATION, op, op.toLowerCase(java.util.Locale.ROOT))));
                if (by.onBehalfOf() != null) {
                    Reference responsible = person(by.onBehalfOf());
                    p.addAgent().setType(participant("enterer", "Enterer")).setWho(me).setOnBehalfOf(responsible);
                    p.addAgent().setType(participant("author", "Author")).setWho(person(by.onBehalfOf()));
                } else {
                    p.addAgent().setType(participant("author", "Author")).setWho(me);
                }
            }
            if (by.reason() != null) {
                p.addReason().setText(by.reason());
            }
            String id = UUID.randomUUID().toString();
            Write write = Write.create(new ResourceKey("Provenance", id), w.patientKey(), w.category(), List.of(),
                    (version, lastUpdated) -> {
                        p.setId(new IdType("Provenance", id, Integer.toString(version)));
                        p.getMeta().setVersionId(Integer.toString(version));
                        p.getMeta().setLastUpdated(Date.from(lastUpdated));
                        return records.context().newJsonParser().encodeResourceToString(p).getBytes(StandardCharsets.UTF_8);
                    });
            provenances.add(new FhirServices.Change(write, p, records.index(p), "create"));
        }
        return provenances;
    }

    private static CodeableConcept participant(String code, String display) {
        return new CodeableConcept(new Coding(PARTICIPANT, code, display));
    }

    /** A Provenance agent: a person by their FHIR record and username, a system by its client id. */
    private Reference agent(Agent agent) {
        if (agent.kind() == Agent.Kind.USER) {
            Optional<Account> a = accounts.activeAccount(agent.id());
            if (a.isPresent()) {
                return person(a.get());
            }
        }
        String system = agent.kind() == Agent.Kind.USER ? ACCOUNT_SYSTEM : CLIENT_SYSTEM;
        return new Reference().setIdentifier(new Identifier().setSystem(system).setValue(agent.id()));
    }

    private static Reference person(Account a) {
        Reference r = new Reference().setIdentifier(new Identifier().setSystem(ACCOUNT_SYSTEM).setValue(a.username()))
                .setDisplay(a.name());
        if (a.fhirRef() != null) {
            r.setReference(a.fhirRef());
        }
        return r;
    }
}
