package jp.kiroku.audit;

import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.Map;

import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;

/**
 * Recorded audit events as FHIR R4 {@code AuditEvent} resources (read-only; id = the event's number). FHIR interactions
 * are type {@code rest} with the RESTful interaction as subtype; other actions (admin commands, ledger work) carry
 * Kiroku's own action code. Every resource the event touched is an entity (role "domain resource"), every patient one
 * with role "patient"; the search parameters asked (which may hold personal data) are the query of a "query" entity.
 */
public final class FhirAuditEvents {

    static final String ACTION_SYSTEM = "https://kiroku.jp/fhir/CodeSystem/audit-action";
    static final String AGENT_SYSTEM = "https://kiroku.jp/fhir/NamingSystem/agent";
    static final String REQUEST_ID = "https://kiroku.jp/fhir/StructureDefinition/request-id";

    private static final String EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type";
    private static final String INTERACTION = "http://hl7.org/fhir/restful-interaction";
    private static final String ROLE = "http://terminology.hl7.org/CodeSystem/object-role";

    /** Kiroku's FHIR actions → RESTful interaction code and C/R/U/D/E. */
    private static final Map<String, String[]> REST = Map.ofEntries(
            Map.entry("read", new String[] {"read", "R"}), Map.entry("vread", new String[] {"vread", "R"}),
            Map.entry("search", new String[] {"search-type", "E"}),
            Map.entry("history", new String[] {"history-instance", "R"}),
            Map.entry("everything", new String[] {"operation", "E"}), Map.entry("create", new String[] {"create", "C"}),
            Map.entry("update", new String[] {"update", "U"}), Map.entry("delete", new String[] {"delete", "D"}),
            Map.entry("transaction", new String[] {"transaction", "E"}),
            // a patient's chart opened in the web pages: everything of the patient, read (not exported)
            Map.entry("chart", new String[] {"operation", "R"}));

    private FhirAuditEvents() {
    }

    /** The R4 {@code action} code (C, R, U, D, E) of a Kiroku action. */
    public static String actionCode(String action) {
        String[] rest = REST.get(action);
        return rest == null ? "E" : rest[1];
    }

    public static AuditEvent toFhir(StoredEvent e) {
        AuditEvent a = new AuditEvent();
        a.setId(Long.toString(e.seq()));
        a.getMeta().setLastUpdated(Date.from(e.recorded()));
        String[] rest = REST.get(e.action());
        if (rest != null) {
            a.setType(new Coding(EVENT_TYPE, "rest", "Restful Operation"));
            a.addSubtype(new Coding(INTERACTION, rest[0], null));
        } else {
            a.setType(new Coding(ACTION_SYSTEM, e.action(), null));
        }
        a.addSubtype(new Coding(ACTION_SYSTEM, e.action(), null));
        a.setAction(AuditEvent.AuditEventAction.fromCode(actionCode(e.action())));
        a.setRecorded(Date.from(e.recorded()));
        a.setOutcome(switch (e.outcome()) {
            case "success" -> AuditEvent.AuditEventOutcome._0;
            case "denied" -> AuditEvent.AuditEventOutcome._4;
            default -> AuditEvent.AuditEventOutcome._8;
        });
        if (e.detail() != null) {
            a.setOutcomeDesc(e.detail());
        }
        if (e.purpose() != null) {
            a.addPurposeOfEvent().addCoding().setSystem("BTG".equals(e.purpose())
                    ? "http://terminology.hl7.org/CodeSystem/v3-ActReason" : null).setCode(e.purpose());
        }
        AuditEvent.AuditEventAgentComponent agent = a.addAgent().setRequestor(true);
        agent.getType().addCoding(new Coding(ACTION_SYSTEM, e.agentKind(), null));
        agent.getWho().getIdentifier().setSystem(AGENT_SYSTEM + "/" + e.agentKind()).setValue(e.agentId());
        agent.setAltId(e.agentId());
        if (e.agentRole() != null) {
            agent.addRole().addCoding().setCode(e.agentRole());
        }
        if (e.sourceAddress() != null) {
            agent.getNetwork().setAddress(e.sourceAddress()).setType(AuditEvent.AuditEventAgentNetworkType._2);
        }
        if (e.deviceId() != null) {
            agent.setLocation(new Reference("Device/" + e.deviceId()));
        }
        a.getSource().setSite("Kiroku").getObserver().setDisplay("Kiroku FHIR server");
        if (e.requestId() != null) {
            a.addExtension(REQUEST_ID, new StringType(e.requestId()));
        }
        for (String patient : e.patients()) {
            a.addEntity().setWhat(new Reference("Patient/" + patient)).setRole(new Coding(ROLE, "1", "Patient"));
        }
        for (String entity : e.entities()) {
            AuditEvent.AuditEventEntityComponent c = a.addEntity().setRole(new Coding(ROLE, "4", "Domain Resource"));
            if (entity.contains("/")) {
                c.setWhat(new Reference(entity));
            } else { // only the type was touched (e.g. a refused search)
                c.setType(new Coding("http://hl7.org/fhir/resource-types", entity, null));
            }
        }
        if (e.query() != null) {
            a.addEntity().setRole(new Coding(ROLE, "24", "Query")).setQuery(e.query().getBytes(StandardCharsets.UTF_8));
        }
        return a;
    }
}
