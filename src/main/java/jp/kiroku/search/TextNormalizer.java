package jp.kiroku.search;

import java.text.Normalizer;
import java.util.Locale;

/**
 * Normalises strings for FHIR's default string search (case- and accent-insensitive prefix match) in a way that works
 * for Japanese: NFKC makes full- and half-width forms equal (ﾔﾏﾀﾞ = ヤマダ), hiragana is folded onto katakana
 * (やまだ = ヤマダ), Latin accents are dropped (José = jose). Kana voicing marks are kept: ヤマダ is not ヤマタ.
 */
final class TextNormalizer {

    private TextNormalizer() {
    }

    static String normalize(String s) {
        String nfkc = Normalizer.normalize(s, Normalizer.Form.NFKC);
        String decomposed = Normalizer.normalize(nfkc, Normalizer.Form.NFD);
        StringBuilder out = new StringBuilder(decomposed.length());
        for (int i = 0; i < decomposed.length(); i++) {
            char c = decomposed.charAt(i);
            if (c >= '\u0300' && c <= '\u036F') {
                continue; // combining diacritical marks (Latin accents); kana marks U+3099/U+309A are kept
            }
            if (c >= '\u3041' && c <= '\u3096') {
                c = (char) (c + 0x60); // hiragana -> katakana
            }
            out.append(c);
        }
        return Normalizer.normalize(out, Normalizer.Form.NFC).toLowerCase(Locale.ROOT).trim();
    }
}
