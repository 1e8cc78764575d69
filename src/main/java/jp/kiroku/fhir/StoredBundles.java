package jp.kiroku.fhir;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;

/**
 * A Bundle kept as received (a JP-CLINS document or collection): the ids its entries are stored under as resources of
 * their own, and the patient whose record it is. One rule for the importer and for the store's placement, so that a
 * stored Bundle always belongs to the Patient stored from it.
 */
public final class StoredBundles {

    private StoredBundles() {
    }

    /**
     * The id an entry is stored under: its resource's id; else the uuid of an {@code urn:uuid:} fullUrl; else a
     * name-based uuid of the fullUrl; null when it has neither id nor fullUrl.
     */
    public static String entryId(Bundle.BundleEntryComponent e) {
        if (e.getResource() != null && e.getResource().getIdElement().hasIdPart()) {
            return e.getResource().getIdElement().getIdPart();
        }
        String full = e.getFullUrl();
        if (full == null) {
            return null;
        }
        return full.startsWith("urn:uuid:") ? full.substring("urn:uuid:".length())
                : UUID.nameUUIDFromBytes(full.getBytes(StandardCharsets.UTF_8)).toString();
    }

    /** The patient of the Bundle's first Patient entry, at the id it is stored under; null when none. */
    static String patient(Bundle bundle) {
        for (Bundle.BundleEntryComponent e : bundle.getEntry()) {
            if (e.getResource() instanceof Patient) {
                return entryId(e);
            }
        }
        return null;
    }
}
