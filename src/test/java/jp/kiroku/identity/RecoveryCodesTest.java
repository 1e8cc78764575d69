package jp.kiroku.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("AUTH-07")
class RecoveryCodesTest {

    /** SHA-256 of "abcdefghjk", from `printf abcdefghjk | sha256sum`. */
    private static final String SHA256_ABCDEFGHJK = "22f3f00d7f9cfe6eeefa9b71bdcb093a9080fcf4981d2dbf932648fa15a2d793";

    @Test
    void tenDistinctCodesOfTenUnambiguousCharactersInTwoGroups() {
        List<String> codes = RecoveryCodes.generate();
        assertThat(codes).hasSize(10).doesNotHaveDuplicates();
        assertThat(codes).allMatch(c -> c.matches("[a-z2-9]{5}-[a-z2-9]{5}"), "format abcde-fghjk")
                .noneMatch(c -> c.matches(".*[01oOlIi].*"));
        assertThat(RecoveryCodes.generate()).doesNotContainAnyElementsOf(codes);
    }

    @Test
    void aCodeMatchesItsHashHoweverItIsTyped() {
        String code = RecoveryCodes.generate().get(0);
        String hash = RecoveryCodes.hash(code);
        assertThat(hash).matches("[0-9a-f]{64}");
        String compact = code.replace("-", "");
        for (String typed : List.of(code, code.toUpperCase(), compact, compact.toUpperCase(),
                compact.substring(0, 5) + " " + compact.substring(5), " " + code + " ", "-" + code)) {
            assertThat(RecoveryCodes.matches(typed, hash)).as(typed).isTrue();
        }
    }

    @Test
    void anotherCodeDoesNotMatch() {
        String code = "abcde-fghjk";
        String hash = RecoveryCodes.hash(code);
        assertThat(hash).isEqualTo(SHA256_ABCDEFGHJK);
        assertThat(RecoveryCodes.matches("abcde-fghjm", hash)).isFalse(); // last character flipped
        assertThat(RecoveryCodes.matches("bbcde-fghjk", hash)).isFalse(); // first character flipped
        assertThat(RecoveryCodes.matches("abcde-fghj", hash)).isFalse();
        assertThat(RecoveryCodes.matches("", hash)).isFalse();
        assertThat(RecoveryCodes.matches(null, hash)).isFalse();
        assertThat(RecoveryCodes.matches(code, null)).isFalse();
    }
}
