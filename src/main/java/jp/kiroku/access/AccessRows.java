package jp.kiroku.access;

import java.time.Instant;
import java.util.List;

import org.hl7.fhir.instance.model.api.IBaseResource;
import org.springframework.stereotype.Component;

import jp.kiroku.store.ResourceKey;

/**
 * The rows access decisions read that resources carry: care relationships (Encounter, EpisodeOfCare, CareTeam),
 * consent restrictions and shares (Consent). Every writer of a version — a FHIR write, a disposal — replaces them
 * here, in its own transaction, so no derived table is missed by one of them.
 */
@Component
public class AccessRows {

    private final CareRelations relations;
    private final ConsentRestrictions restrictions;
    private final SharingConsents sharing;

    AccessRows(CareRelations relations, ConsentRestrictions restrictions, SharingConsents sharing) {
        this.relations = relations;
        this.restrictions = restrictions;
        this.sharing = sharing;
    }

    /** Whether a resource of this type carries such rows (a write of one changes what others may see). */
    public static boolean carried(String type) {
        return CareRelations.carriesRelations(type) || ConsentRestrictions.carriesRestrictions(type)
                || SharingConsents.carriesShares(type);
    }

    /**
     * Replaces what a resource's new version says; {@code current} null (deleted or disposed of) says nothing any more.
     * {@code lastUpdated}: the version's time (a care relationship without an end lasts from it).
     */
    public void replace(ResourceKey key, String patientKey, IBaseResource current, Instant lastUpdated) {
        String type = key.type();
        if (CareRelations.carriesRelations(type)) {
            relations.replace(key, patientKey, current == null ? List.of() : relations.links(current, lastUpdated));
        }
        if (ConsentRestrictions.carriesRestrictions(type)) {
            restrictions.replace(key, patientKey, current == null ? List.of() : restrictions.restrictions(current));
        }
        if (SharingConsents.carriesShares(type)) {
            sharing.replace(key, patientKey, current == null ? List.of() : sharing.shares(current));
        }
    }
}
