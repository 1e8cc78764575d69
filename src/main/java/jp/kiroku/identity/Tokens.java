package jp.kiroku.identity;

import org.springframework.security.oauth2.jwt.Jwt;

/** The claims Kiroku puts in its access tokens beyond the standard ones, and how to read them. */
final class Tokens {

    /** The client the token was issued to (for client credentials also its subject). */
    static final String CLIENT_ID = "client_id";
    /** "client" for a system acting for itself, "person" for an app acting for the signed-in person (the subject). */
    static final String KIND = "kiroku_kind";
    static final String PERSON = "person";
    /** The patient context of a token with patient/ scopes (SMART): the id of the patient's own record. */
    static final String PATIENT = "patient";
    /** The registered terminal a person's token is bound to (BYOD-01), and the authority that carries it from login. */
    static final String DEVICE = "kiroku_device";
    static final String DEVICE_AUTHORITY = "DEVICE_";

    /** The terminal a signed-in person's authorities name (from the login), or null. */
    static String deviceOf(java.util.Collection<? extends org.springframework.security.core.GrantedAuthority> authorities) {
        return authorities.stream().map(org.springframework.security.core.GrantedAuthority::getAuthority)
                .filter(a -> a != null && a.startsWith(DEVICE_AUTHORITY)).map(a -> a.substring(DEVICE_AUTHORITY.length()))
                .findFirst().orElse(null);
    }

    private Tokens() {
    }

    static String clientId(Jwt jwt) {
        String c = jwt.getClaimAsString(CLIENT_ID);
        return c != null ? c : jwt.getSubject(); // tokens from before the claim: client credentials only
    }

    static boolean actsForPerson(Jwt jwt) {
        return PERSON.equals(jwt.getClaimAsString(KIND));
    }
}
