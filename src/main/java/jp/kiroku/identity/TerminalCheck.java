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

    /** The device credential a request presents: the header first, then the cookie. */
    static String credential(HttpServletRequest req) {
        if (req == null) {
            return null;
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
}
