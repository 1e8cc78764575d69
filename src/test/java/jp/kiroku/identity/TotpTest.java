package jp.kiroku.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.OptionalLong;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/** TOTP against the RFCs' own test vectors, then skew, replay and malformed input with a fixed clock. */
@Tag("AUTH-07")
class TotpTest {

    /** The RFC 4226 / RFC 6238 test secret (the SHA1 rows): the ASCII string "12345678901234567890". */
    private static final byte[] RFC_SECRET = "12345678901234567890".getBytes(StandardCharsets.US_ASCII);

    private static Totp at(long epochSecond) {
        return new Totp(Clock.fixed(Instant.ofEpochSecond(epochSecond), ZoneOffset.UTC));
    }

    /**
     * RFC 6238 Appendix B, mode SHA1: time, T as hex, 8-digit TOTP. Our codes have 6 digits; since 10^6 divides 10^8,
     * (x mod 10^8) mod 10^6 = x mod 10^6, so a 6-digit code is the last six digits of the RFC's 8-digit value.
     */
    @ParameterizedTest
    @CsvSource({
            "59, 0000000000000001, 94287082",
            "1111111109, 00000000023523EC, 07081804",
            "1111111111, 00000000023523ED, 14050471",
            "1234567890, 000000000273EF07, 89005924",
            "2000000000, 0000000003F940AA, 69279037",
            "20000000000, 0000000027BC86AA, 65353130" })
    void rfc6238AppendixBSha1(long time, String stepHex, String eightDigits) {
        Totp totp = at(time);
        long step = Long.parseLong(stepHex, 16);
        String sixDigits = eightDigits.substring(2);
        assertThat(totp.currentStep()).isEqualTo(step);
        assertThat(totp.code(RFC_SECRET, step)).isEqualTo(sixDigits);
        assertThat(totp.verify(RFC_SECRET, sixDigits, -1)).hasValue(step);
    }

    /** RFC 4226 Appendix D: HOTP values for counters 0 to 9; a TOTP step is the HOTP counter. */
    @Test
    void rfc4226AppendixDHotp() {
        String[] expected = { "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
                "399871", "520489" };
        Totp totp = at(0);
        for (int counter = 0; counter < expected.length; counter++) {
            assertThat(totp.code(RFC_SECRET, counter)).as("counter %d", counter).isEqualTo(expected[counter]);
        }
    }

    @Test
    void codesAreZeroPadded() {
        // RFC 6238 at time 1111111109 gives 07081804: six digits 081804, the leading zero kept
        assertThat(at(0).code(RFC_SECRET, 0x23523ECL)).isEqualTo("081804");
    }

    @Test
    void aCodeOneStepBeforeOrAfterIsAcceptedTwoStepsAwayRefused() {
        long now = 56_666_667; // a step well away from any boundary of the fixed clock below
        Totp totp = at(now * 30 + 15);
        assertThat(totp.currentStep()).isEqualTo(now);
        for (long step = now - 1; step <= now + 1; step++) {
            assertThat(totp.verify(RFC_SECRET, totp.code(RFC_SECRET, step), -1)).as("step %d", step).hasValue(step);
        }
        for (long step : new long[] { now - 2, now + 2 }) {
            assertThat(totp.verify(RFC_SECRET, totp.code(RFC_SECRET, step), -1)).as("step %d", step).isEmpty();
        }
        assertThat(totp.verify(newDifferentSecret(), totp.code(RFC_SECRET, now), -1)).isEmpty();
    }

    private static byte[] newDifferentSecret() {
        byte[] other = RFC_SECRET.clone();
        other[0] ^= 1;
        return other;
    }

    @Test
    void aCodeIsAcceptedOnlyOnce() {
        Totp totp = at(1_700_000_000L);
        String code = totp.code(RFC_SECRET, totp.currentStep());
        OptionalLong first = totp.verify(RFC_SECRET, code, -1);
        assertThat(first).hasValue(totp.currentStep());
        assertThat(totp.verify(RFC_SECRET, code, first.getAsLong())).isEmpty();
        // nor is an older code still inside the skew window, once a later step was used
        String next = totp.code(RFC_SECRET, totp.currentStep() + 1);
        OptionalLong used = totp.verify(RFC_SECRET, next, first.getAsLong());
        assertThat(used).hasValue(totp.currentStep() + 1);
        assertThat(totp.verify(RFC_SECRET, code, used.getAsLong())).isEmpty();
        assertThat(totp.verify(RFC_SECRET, totp.code(RFC_SECRET, totp.currentStep() - 1), first.getAsLong()))
                .isEmpty();
    }

    @Test
    void spacesAreStrippedBeforeChecking() {
        Totp totp = at(59);
        assertThat(totp.verify(RFC_SECRET, "287 082", -1)).hasValue(1);
        assertThat(totp.verify(RFC_SECRET, " 287082 ", -1)).hasValue(1);
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = { "28708", "2870822", "abcdef", "28708a", "287-082", "287\t082", "+287082",
            "２８７０８２", "٢٨٧٠٨٢", "      " })
    void malformedCodesAreRefusedWithoutAnException(String code) {
        // at time 59 the valid code is 287082 (RFC 6238: 94287082); every input below is some spelling of it, or junk
        assertThat(at(59).verify(RFC_SECRET, code, -1)).isEmpty();
    }

    @Test
    void secretsAreTwentyRandomBytes() {
        byte[] a = Totp.newSecret();
        byte[] b = Totp.newSecret();
        assertThat(a).hasSize(20);
        assertThat(b).hasSize(20).isNotEqualTo(a);
    }

    /** RFC 4648 §10 test vectors, without their padding. */
    @ParameterizedTest
    @CsvSource({ "'', ''", "f, MY", "fo, MZXQ", "foo, MZXW6", "foob, MZXW6YQ", "fooba, MZXW6YTB",
            "foobar, MZXW6YTBOI" })
    void base32IsRfc4648WithoutPadding(String input, String expected) {
        assertThat(Totp.base32(input.getBytes(StandardCharsets.US_ASCII))).isEqualTo(expected);
    }

    @Test
    void otpauthUriPercentEncodesAJapaneseIssuerAndAccount() throws Exception {
        String uri = Totp.otpauthUri("記録病院", "山田 太郎", RFC_SECRET);
        // UTF-8 of 記録病院: E8A898 E98CB2 E79785 E999A2; of 山田 太郎: E5B1B1 E794B0 20 E5A4AA E9838E
        String issuer = "%E8%A8%98%E9%8C%B2%E7%97%85%E9%99%A2";
        assertThat(uri).isEqualTo("otpauth://totp/" + issuer + ":%E5%B1%B1%E7%94%B0%20%E5%A4%AA%E9%83%8E"
                + "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=" + issuer
                + "&algorithm=SHA1&digits=6&period=30");
        URI parsed = new URI(uri);
        assertThat(parsed.getScheme()).isEqualTo("otpauth");
        assertThat(parsed.getHost()).isEqualTo("totp");
        assertThat(parsed.getPath()).isEqualTo("/記録病院:山田 太郎");
        assertThat(parsed.getQuery()).contains("issuer=記録病院");
    }

    @Test
    void otpauthUriKeepsAnEmailAccountReadableAndRefusesColons() {
        assertThat(Totp.otpauthUri("Kiroku", "taro.yamada@example.jp", new byte[] { 'f', 'o', 'o' }))
                .isEqualTo("otpauth://totp/Kiroku:taro.yamada@example.jp?secret=MZXW6&issuer=Kiroku"
                        + "&algorithm=SHA1&digits=6&period=30");
        assertThatThrownBy(() -> Totp.otpauthUri("A:B", "x", RFC_SECRET))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Totp.otpauthUri("Kiroku", "x:y", RFC_SECRET))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Totp.otpauthUri(" ", "x", RFC_SECRET)).isInstanceOf(IllegalArgumentException.class);
    }
}
