package jp.kiroku.identity;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HexFormat;
import java.util.OptionalLong;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.apache.commons.codec.binary.Base32;

/**
 * Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), the possession factor of two-factor login (AUTH-07).
 * The parameters are the ones every authenticator app supports: HMAC-SHA1, 6 digits, 30-second steps. A code is
 * accepted for the current step or one step either side (clock skew of the phone), and each step only once.
 */
final class Totp {

    private static final String HMAC = "HmacSHA1";
    private static final int DIGITS = 6;
    private static final int MODULUS = 1_000_000; // 10^DIGITS
    private static final long PERIOD_SECONDS = 30;
    private static final int SKEW_STEPS = 1;
    private static final int SECRET_BYTES = 20; // RFC 4226 §4 recommends 160 bits, the size of an HMAC-SHA1 key
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final HexFormat UPPER_HEX = HexFormat.of().withUpperCase();

    private final Clock clock;

    Totp(Clock clock) {
        this.clock = clock;
    }

    /** A new shared secret: 20 random bytes. */
    static byte[] newSecret() {
        byte[] secret = new byte[SECRET_BYTES];
        RANDOM.nextBytes(secret);
        return secret;
    }

    /** RFC 4648 Base32, upper case and without padding: the form authenticator apps expect in a URI or typed in. */
    static String base32(byte[] secret) {
        String padded = new Base32().encodeToString(secret); // no line breaks with the default line length
        int end = padded.length();
        while (end > 0 && padded.charAt(end - 1) == '=') {
            end--;
        }
        return padded.substring(0, end);
    }

    /** The time step now: Unix seconds / 30, rounded down (RFC 6238 §4.2 with T0 = 0). */
    long currentStep() {
        return Math.floorDiv(clock.instant().getEpochSecond(), PERIOD_SECONDS);
    }

    /**
     * The code for one step (RFC 4226 §5.3: HMAC-SHA1 of the 8-byte big-endian counter, dynamic truncation, mod
     * 10^6), zero-padded to six ASCII digits.
     */
    String code(byte[] secret, long step) {
        if (step < 0) {
            throw new IllegalArgumentException("negative time step " + step);
        }
        byte[] hash;
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(secret, HMAC));
            byte[] counter = new byte[8];
            for (int i = 7, v = 0; i >= 0; i--, v += 8) {
                counter[i] = (byte) (step >>> v);
            }
            hash = mac.doFinal(counter);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA1 is unavailable", e);
        }
        int offset = hash[hash.length - 1] & 0x0f;
        int binary = (hash[offset] & 0x7f) << 24 | (hash[offset + 1] & 0xff) << 16 | (hash[offset + 2] & 0xff) << 8
                | (hash[offset + 3] & 0xff);
        String digits = Integer.toString(binary % MODULUS); // ASCII digits whatever the default locale
        return "0".repeat(DIGITS - digits.length()) + digits;
    }

    /**
     * Checks a code typed by the user. ASCII spaces anywhere are removed first (so "123 456", as apps show it, is
     * accepted); what is left must be exactly six ASCII digits, anything else (null, empty, letters, full-width
     * digits) is refused without an exception. The code may be for the current step or one step before or after,
     * but only for a step later than {@code lastUsedStep}, so a code is accepted once.
     *
     * @param lastUsedStep the step returned by the last successful verification, or -1 if there was none
     * @return the matched step, to be stored as the new {@code lastUsedStep}; empty if the code is refused
     */
    OptionalLong verify(byte[] secret, String code, long lastUsedStep) {
        byte[] typed = normalised(code);
        if (typed == null) {
            return OptionalLong.empty();
        }
        long now = currentStep();
        long matched = -1;
        // each allowed step is compared in constant time, with no early exit once one matched
        for (long step = now - SKEW_STEPS; step <= now + SKEW_STEPS; step++) {
            if (step >= 0 && step > lastUsedStep
                    && MessageDigest.isEqual(typed, code(secret, step).getBytes(StandardCharsets.US_ASCII))) {
                matched = step; // the latest matching step, so the same digits cannot be used again in a later one
            }
        }
        return matched < 0 ? OptionalLong.empty() : OptionalLong.of(matched);
    }

    /** The code without spaces as ASCII bytes, or null unless that is exactly six ASCII digits. */
    private static byte[] normalised(String code) {
        if (code == null) {
            return null;
        }
        String compact = code.replace(" ", "");
        if (compact.length() != DIGITS) {
            return null;
        }
        for (int i = 0; i < DIGITS; i++) {
            char c = compact.charAt(i);
            if (c < '0' || c > '9') {
                return null;
            }
        }
        return compact.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * The enrolment URI that authenticator apps read from the QR code (Google Authenticator's Key Uri Format):
     * {@code otpauth://totp/Issuer:account?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30}. Issuer and
     * account are percent-encoded as UTF-8 (a space as %20, not +), so Japanese names work.
     *
     * @throws IllegalArgumentException if the issuer is blank, or either contains a colon (the label's separator)
     */
    static String otpauthUri(String issuer, String accountName, byte[] secret) {
        if (issuer.isBlank() || issuer.indexOf(':') >= 0 || accountName.indexOf(':') >= 0) {
            throw new IllegalArgumentException("issuer must be non-blank, and neither issuer nor account may hold ':'");
        }
        return "otpauth://totp/" + percentEncoded(issuer) + ":" + percentEncoded(accountName) + "?secret="
                + base32(secret) + "&issuer=" + percentEncoded(issuer) + "&algorithm=SHA1&digits=" + DIGITS
                + "&period=" + PERIOD_SECONDS;
    }

    /** RFC 3986 percent-encoding of UTF-8: unreserved characters and '@' (allowed in path and query) stay. */
    private static String percentEncoded(String s) {
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || "-._~@".indexOf(c) >= 0) {
                out.append(c);
            } else {
                out.append('%').append(UPPER_HEX.toHexDigits(b));
            }
        }
        return out.toString();
    }
}
