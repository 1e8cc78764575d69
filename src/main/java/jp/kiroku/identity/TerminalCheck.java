package jp.kiroku.identity;

import java.util.Set;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;

/**
 * Which registered terminal a person works from, and whether they may (BYOD-01): staff log in, and their tokens
 * work, only from an enrolled terminal whose management their roles allow. Implemented by the devices module; the
 * terminal proves itself with its device credential, sent as a cookie by browsers (set by the enrolment page) or as a
 * header by apps, so that it works behind a TLS-terminating proxy.
 */
public interface TerminalCheck {

    String COOKIE = "KIROKU_DEVICE";
    String HEADER = "X-Kiroku-Device";

    /** The terminal a check found (null when none was needed) and why the person is refused (null: allowed). */
    record Verdict(String deviceId, String refusal) {
    }

    /** At login: may this person ({@code patient}: a patient's own account) work from the terminal presenting it? */
    Verdict atLogin(String username, Set<String> roles, boolean patient, String credential);

    /**
     * On each request with a token bound to terminal {@code deviceId} (null: the token is not bound): why it is refused
     * from the terminal presenting {@code credential}, or null. {@code staff}: a token acting for a staff member.
     */
    String onRequest(String deviceId, boolean staff, String credential);

    /** How a TLS client certificate is named as a credential: this prefix and the SHA-256 (hex) of its DER bytes. */
    String CERTIFICATE = "x509:";

    /**
     * The device credential a request presents: its TLS client certificate (when TLS ends at Kiroku and the terminal
     * has one), else the header, else the cookie.
     */
    static String credential(HttpServletRequest req) {
        if (req == null) {
            return null;
        }
        if (req.getAttribute("jakarta.servlet.request.X509Certificate") instanceof java.security.cert.X509Certificate[] chain
                && chain.length > 0) {
            return CERTIFICATE + certificateHash(chain[0]);
        }
        String header = req.getHeader(HEADER);
        if (header != null && !header.isBlank()) {
            return header.strip();
        }
        if (req.getCookies() != null) {
            for (Cookie c : req.getCookies()) {
                if (COOKIE.equals(c.getName())) {
                    return c.getValue();
                }
            }
        }
        return null;
    }

    /** SHA-256 (hex) of a certificate's DER encoding: how a terminal's client certificate is registered. */
    static String certificateHash(java.security.cert.X509Certificate certificate) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(certificate.getEncoded()));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
