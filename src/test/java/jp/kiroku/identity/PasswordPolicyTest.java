package jp.kiroku.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.security.crypto.argon2.Argon2PasswordEncoder;
import org.springframework.security.crypto.password.PasswordEncoder;

import jp.kiroku.identity.PasswordPolicy.Person;
import jp.kiroku.identity.PasswordPolicy.Rule;
import jp.kiroku.identity.PasswordPolicy.Violation;

/**
 * AUTH-04 from the guideline's words: no name, user ID, birth date or dictionary word; (a) 13 mixed characters,
 * (b) 8 with a change at most every 60 days, (c) 8 under two-factor authentication; no recent password again.
 */
@Tag("AUTH-04")
class PasswordPolicyTest {

    private static final Person TARO = new Person("yamada.t", List.of("山田 太郎", "ヤマダ タロウ", "Yamada Taro"),
            LocalDate.of(1980, 1, 1));
    private static final PasswordEncoder ARGON2 = Argon2PasswordEncoder.defaultsForSpringSecurity_v5_8();

    private final PasswordPolicy policy = new PasswordPolicy(3);

    private List<String> codes(String password, Rule rule) {
        List<Violation> violations = policy.check(password, rule, TARO, List.of(), ARGON2);
        assertThat(violations).allSatisfy(v -> {
            assertThat(v.ja()).isNotBlank().doesNotContain(password);
            assertThat(v.en()).isNotBlank().doesNotContain(password);
        });
        return violations.stream().map(Violation::code).toList();
    }

    /** For Yamada Taro (yamada.t, born 1980-01-01 = 昭和55年). Empty codes: accepted; otherwise at least these. */
    @ParameterizedTest(name = "{1} {0} -> [{2}]")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            # the guideline's own example: name and birth date
            Taro19800101!       | LONG       | contains-name contains-birth-date
            Taro19800101!       | TWO_FACTOR | contains-name contains-birth-date
            # the user ID, and the name in every script, any case or width
            yamada.t#2025Xq     | LONG       | contains-username contains-name
            Zq8#yamada!Wx       | TWO_FACTOR | contains-name
            太郎Xq9!vKm2#w       | TWO_FACTOR | contains-name
            やまだ#Xq9!vKm2      | TWO_FACTOR | contains-name
            ﾀﾛｳ#Xq9!vKm2w       | TWO_FACTOR | contains-name
            TARO#Xq9!vKm2w      | TWO_FACTOR | contains-name
            ＴＡＲＯ#Xq9!vKm2    | TWO_FACTOR | contains-name
            # birth date: digits with or without separators, the year, the era
            S550101kX!q9        | TWO_FACTOR | contains-birth-date
            kX!q9s55Wm#v        | TWO_FACTOR | contains-birth-date
            昭和55年kX!q9Zw       | TWO_FACTOR | contains-birth-date
            Xq#1980/01/01vK     | TWO_FACTOR | contains-birth-date
            Xq#80.01.01vKm      | TWO_FACTOR | contains-birth-date
            vK#Xq1980mZw!       | TWO_FACTOR | contains-birth-date
            kX!qZw0101#v        | TWO_FACTOR | contains-birth-date
            # dictionary words, with the usual decoration, even under two-factor authentication
            Password123!        | TWO_FACTOR | guessable
            Password123!        | LONG       | too-short guessable
            P@ssw0rd2024!       | LONG       | guessable
            Pa55w0rd!2024       | LONG       | guessable
            Sakura2024!         | TWO_FACTOR | guessable
            Kangoshi#2025       | LONG       | guessable
            Kangoshi#2025       | TWO_FACTOR | guessable
            2025#Byouin!        | EXPIRING   | guessable
            Tokyo2025!!         | TWO_FACTOR | guessable
            Qwerty#123456       | LONG       | guessable
            Tokyo#Osaka2025     | LONG       | guessable
            # length: 13 for rule (a), 8 for (b) and (c)
            Qw7!Lm2#Zp9         | LONG       | too-short
            Qw7!Lm2#Zp9         | TWO_FACTOR | -
            gT4%vN8&cJ2!        | LONG       | too-short
            gT4%vN8&cJ2!        | TWO_FACTOR | -
            gT4%vN8&cJ2!        | EXPIRING   | -
            Zk3$Wq9^Hb6@r       | LONG       | -
            vR7#kT2!            | TWO_FACTOR | -
            vR7#kT2!            | EXPIRING   | -
            vR7#kT2!            | LONG       | too-short
            vR7#kT2             | TWO_FACTOR | too-short
            # mixing letters, digits and symbols
            abcdefghijklmn      | LONG       | not-mixed
            vR7kT2mQ9wLx3Z      | LONG       | not-mixed
            vR#kT!mQ$wLx%Z      | LONG       | not-mixed
            93#71!58$20%46      | LONG       | not-mixed
            vR7#kT2!mQ9$wL      | LONG       | -
            'vR7#kT2! mQ9$wL'   | LONG       | -
            # spaces at the ends and unseen characters
            ' vR7#kT2!mQ9$wL'   | LONG       | edge-whitespace
            'vR7#kT2!mQ9$wL　'  | LONG       | edge-whitespace
            'vR7#kT2!\tmQ9$wL'  | LONG       | control-character
            'vR7#kT2!\u200BmQ9$wL' | LONG    | control-character
            """)
    void guidelineExamples(String password, Rule rule, String expected) {
        List<String> codes = codes(password, rule);
        if (expected == null) {
            assertThat(codes).as("accepted").isEmpty();
        } else {
            assertThat(codes).containsAll(Arrays.asList(expected.split(" ")));
        }
    }

    @Test
    void lengthRulesAloneGiveExactlyTheLengthViolation() {
        assertThat(codes("Qw7!Lm2#Zp9", Rule.LONG)).containsExactly("too-short");
        assertThat(codes("vR7#kT2", Rule.EXPIRING)).containsExactly("too-short");
        assertThat(policy.check("Qw7!Lm2#Zp9", Rule.LONG, TARO, List.of(), ARGON2).get(0).ja())
                .isEqualTo("13文字以上にしてください（英字・数字・記号を混在）");
    }

    @Test
    void moreThan128CharactersAreRefused() {
        String base = "vR7#kT2!mQ9$wL";
        String ok = base.repeat(10).substring(0, 128);
        String tooLong = ok + "x";
        assertThat(codes(tooLong, Rule.LONG)).contains("too-long");
        assertThat(codes(ok, Rule.LONG)).doesNotContain("too-long");
    }

    @Test
    void aPersonWithoutBirthDateOrNamesIsJudgedOnTheRest() {
        Person bare = new Person("k.sato", List.of(), null);
        assertThat(policy.check("vR7#kT2!mQ9$wL", Rule.LONG, bare, List.of(), ARGON2)).isEmpty();
        assertThat(policy.check("Taro19800101!", Rule.LONG, bare, List.of(), ARGON2)).extracting(Violation::code)
                .doesNotContain("contains-name", "contains-birth-date", "contains-username");
    }

    @Test
    void birthDateInTheHeiseiAndReiwaEras() {
        Person heisei = new Person("h.user", List.of(), LocalDate.of(1989, 1, 8));
        Person showa = new Person("s.user", List.of(), LocalDate.of(1989, 1, 7));
        Person reiwa = new Person("r.user", List.of(), LocalDate.of(2019, 5, 1));
        assertThat(violationCodes("kX!qZw#H010108v", heisei)).contains("contains-birth-date");
        assertThat(violationCodes("kX!qZw#平成元年v9", heisei)).contains("contains-birth-date");
        assertThat(violationCodes("kX!qZw#S64vm9p", showa)).contains("contains-birth-date");
        assertThat(violationCodes("kX!qZw#S64vm9p", heisei)).doesNotContain("contains-birth-date");
        assertThat(violationCodes("kX!qZw#R01vm9p", reiwa)).contains("contains-birth-date");
    }

    private List<String> violationCodes(String password, Person person) {
        return policy.check(password, Rule.LONG, person, List.of(), ARGON2).stream().map(Violation::code).toList();
    }

    @Test
    @Tag("AUTH-03")
    void aPasswordAmongTheLastNHashesIsRefusedAndANewOneAccepted() {
        String old = "vR7#kT2!mQ9$wL";
        List<String> history = List.of(ARGON2.encode("Zk3$Wq9^Hb6@r"), ARGON2.encode(old));

        List<Violation> again = policy.check(old, Rule.LONG, TARO, history, ARGON2);
        assertThat(again).extracting(Violation::code).containsExactly("reused");
        assertThat(again.get(0).ja() + again.get(0).en()).doesNotContain(old);

        assertThat(policy.check("mP4&xW8#tY2!qH", Rule.LONG, TARO, history, ARGON2)).isEmpty();
    }

    @Test
    @Tag("AUTH-03")
    void onlyTheNewestHistorySizeHashesCount() {
        String oldest = "vR7#kT2!mQ9$wL";
        List<String> history = List.of(ARGON2.encode("a1!Bc2@Dd3#Ee"), ARGON2.encode("f4$Gh5%Ij6^Kk"),
                ARGON2.encode("l7&Mn8*Op9(Qq"), ARGON2.encode(oldest));
        assertThat(new PasswordPolicy(3).check(oldest, Rule.LONG, TARO, history, ARGON2)).isEmpty();
        assertThat(new PasswordPolicy(4).check(oldest, Rule.LONG, TARO, history, ARGON2))
                .extracting(Violation::code).containsExactly("reused");
    }

    @Test
    void expiringPasswordsLastExactly60DaysAndTheOthersNeverExpire() {
        Instant setAt = Instant.parse("2025-04-01T09:00:00Z");
        assertThat(policy.expiresAt(Rule.EXPIRING, setAt)).isEqualTo(setAt.plus(Duration.ofDays(60)))
                .isEqualTo(Instant.parse("2025-05-31T09:00:00Z"));
        assertThat(policy.expiresAt(Rule.LONG, setAt)).isNull();
        assertThat(policy.expiresAt(Rule.TWO_FACTOR, setAt)).isNull();
    }
}
