package jp.kiroku.store;

/**
 * Who entered a version: {@code authorKind}/{@code authorId} (a client, user or operator), and, when entered on
 * someone's behalf (代行入力, INTEG-04), the responsible clinician's username ({@code onBehalfOf}: the version is
 * unapproved until they confirm it); {@code confirmedBy} names the person whose confirmation (確定, INTEG-02) this
 * version is, with the store's time; {@code facility} is the facility a new resource belongs to (a resource keeps the
 * facility it was created in); {@code reason} says why confirmed records are changed (without one the store refuses
 * to change them; the reason itself is kept in the Provenance written with the change).
 */
public record Authorship(String authorKind, String authorId, String onBehalfOf, String confirmedBy, String facility,
                         String reason) {

    /** The record status of the versions written: confirmed, unapproved (a proxy entry), or null (a draft). */
    String status() {
        return confirmedBy != null ? Placement.CONFIRMED : onBehalfOf != null ? Placement.UNAPPROVED : null;
    }
}
