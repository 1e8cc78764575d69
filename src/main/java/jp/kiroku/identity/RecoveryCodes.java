package jp.kiroku.identity;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Single-use recovery codes that stand in for the possession factor when the user's authenticator is lost (AUTH-07,
 * and the temporary access route of AUTH-08). Only their hashes are stored.
 */
final class RecoveryCodes {

    /** Lower-case letters and digits without the look-alikes 0/o, 1/l/i: 31 symbols. */
    private static final String ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";
    private static final int COUNT = 10;
    private static final int LENGTH = 10;
    private static final SecureRandom RANDOM = new SecureRandom();

    private RecoveryCodes() {
    }

    /** Ten distinct codes of ten characters, shown in two groups of five like {@code abcde-fghjk}. */
    static List<String> generate() {
        Set<String> codes = new LinkedHashSet<>();
        while (codes.size() < COUNT) {
            StringBuilder code = new StringBuilder(LENGTH + 1);
            for (int i = 0; i < LENGTH; i++) {
                if (i == LENGTH / 2) {
                    code.append('-');
                }
                code.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
            }
            codes.add(code.toString());
        }
        return List.copyOf(codes);
    }

    /**
     * The hash to store: SHA-256, as lower-case hex, of the code in lower case without dashes and spaces (so a code
     * typed in upper case or without its dash still matches). A fast hash suffices, unlike for passwords: a code is
     * ten random symbols from 31, 10 × log2(31) ≈ 49.5 bits, not something a person chose, so no dictionary finds it
     * and a slow hash would add little.
     */
    static String hash(String code) {
        String normalised = code.toLowerCase(Locale.ROOT).replace("-", "").replace(" ", "");
        try {
            return HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(normalised.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is unavailable", e);
        }
    }

    /** Whether the code typed matches the stored hash, compared in constant time; false for a null code or hash. */
    static boolean matches(String code, String hash) {
        if (code == null || hash == null) {
            return false;
        }
        return MessageDigest.isEqual(hash(code).getBytes(StandardCharsets.US_ASCII),
                hash.getBytes(StandardCharsets.US_ASCII));
    }
}
