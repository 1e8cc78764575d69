package jp.kiroku.access;

import java.util.List;
import java.util.Set;

/**
 * Whom an access decision is about. A system (a registered client or the local operator) is limited by its scopes
 * only; a person by their roles, facility and care relationships as well ({@code person}: decided by the role matrix —
 * also a sharing partner's client, see {@link #partner}).
 *
 * @param parties     what the person's care relationships are recorded against: their Practitioner (or
 *                    PractitionerRole) and the departments and wards they are assigned to ({@code Organization/…},
 *                    {@code Location/…})
 * @param selfPatient for a patient's own account, the id of their Patient record; null otherwise
 * @param emergencyPatients patients the person has opened by break-glass and still reaches ({@link BreakGlass})
 */
public record Subject(boolean person, String id, Set<String> roles, String facility, List<String> parties,
                      String selfPatient, Set<String> emergencyPatients) {

    /** The facility of records written by systems and of people whose account names none. */
    public static final String HOME_FACILITY = "home";

    public static Subject system(String id) {
        return new Subject(false, id, Set.of(), HOME_FACILITY, List.of(), null, Set.of());
    }

    /** The role of a sharing partner's client (another facility's system; issue 12, item 4). */
    public static final String PARTNER_ROLE = "partner";

    /**
     * A sharing partner's client: decided like a person of the partner's facility with the role {@link #PARTNER_ROLE}
     * (the matrix says which categories), so it reaches only what patients have shared with that facility.
     */
    public static Subject partner(String clientId, String facility) {
        return new Subject(true, clientId, Set.of(PARTNER_ROLE), facility, List.of(), null, Set.of());
    }

    public static Subject person(String id, Set<String> roles, String facility, List<String> parties, String selfPatient) {
        return new Subject(true, id, Set.copyOf(roles), facility == null || facility.isBlank() ? HOME_FACILITY : facility,
                List.copyOf(parties), selfPatient, Set.of());
    }

    /** This person, with the patients they have opened by break-glass. */
    public Subject withEmergencyPatients(Set<String> patients) {
        return new Subject(person, id, roles, facility, parties, selfPatient, Set.copyOf(patients));
    }
}
