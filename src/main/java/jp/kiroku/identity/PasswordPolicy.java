package jp.kiroku.identity;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.springframework.security.crypto.password.PasswordEncoder;

import com.nulabinc.zxcvbn.StandardDictionaries;
import com.nulabinc.zxcvbn.StandardKeyboards;
import com.nulabinc.zxcvbn.Strength;
import com.nulabinc.zxcvbn.Zxcvbn;
import com.nulabinc.zxcvbn.ZxcvbnBuilder;
import com.nulabinc.zxcvbn.matchers.Dictionary;

/**
 * Password rules of the MHLW guideline 6.0 (AUTH-04): no name, user ID, birth date or dictionary word, and one of
 * three length rules. Pure: no Spring wiring, no storage; history is compared only through the encoder (AUTH-03).
 */
final class PasswordPolicy {

    /** The guideline's three acceptable rules (シQ-54). */
    enum Rule {
        /** (a) at least 13 mixed characters, no forced change. */
        LONG,
        /** (b) at least 8 mixed characters, changed at least every 2 months. */
        EXPIRING,
        /** (c) at least 8 mixed characters under two-factor authentication. */
        TWO_FACTOR
    }

    /** Every representation of the person's name (kanji, kana, romaji); birthDate may be null. */
    record Person(String username, List<String> names, LocalDate birthDate) {
        Person {
            names = names == null ? List.of() : List.copyOf(names);
        }
    }

    /** A stable code for programs and the same advice in Japanese and English; never the password. */
    record Violation(String code, String ja, String en) {
    }

    static final int LONG_MIN_LENGTH = 13;
    static final int MIN_LENGTH = 8;
    static final Duration MAX_AGE = Duration.ofDays(60);
    /** Bounds the work one attempt can cause (DoS): zxcvbn's matching grows faster than the length and each history
     * entry is an Argon2 run, which itself takes far longer input. 128 still leaves room for passphrases. */
    static final int MAX_LENGTH = 128;
    /** zxcvbn score 3 = "safely unguessable" (about 10^8 guesses or more). */
    private static final int MIN_SCORE = 3;

    private final int historySize;

    PasswordPolicy(int historySize) {
        if (historySize < 0) {
            throw new IllegalArgumentException("historySize must be >= 0");
        }
        this.historySize = historySize;
    }

    /**
     * Every rule the password breaks; empty when it is accepted. previousHashes are the user's stored hashes, newest
     * first (include the current one); only the newest historySize are compared.
     */
    List<Violation> check(String password, Rule rule, Person person, List<String> previousHashes,
            PasswordEncoder encoder) {
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(person, "person");
        Objects.requireNonNull(encoder, "encoder");
        List<Violation> violations = new ArrayList<>();
        int length = password.codePointCount(0, password.length());
        int min = rule == Rule.LONG ? LONG_MIN_LENGTH : MIN_LENGTH;
        if (length < min) {
            violations.add(new Violation("too-short", min + "文字以上にしてください（英字・数字・記号を混在）",
                    "Use at least " + min + " characters, mixing letters, digits and symbols."));
        }
        boolean tooLong = length > MAX_LENGTH;
        if (tooLong) {
            violations.add(new Violation("too-long", MAX_LENGTH + "文字以内にしてください",
                    "Use at most " + MAX_LENGTH + " characters."));
        }
        if (!mixed(password)) {
            violations.add(new Violation("not-mixed", "英字・数字・記号をそれぞれ1文字以上含めてください",
                    "Include at least one letter, one digit and one symbol."));
        }
        if (!password.isEmpty() && (blank(password.codePointAt(0))
                || blank(password.codePointBefore(password.length())))) {
            violations.add(new Violation("edge-whitespace", "先頭と末尾に空白を入れないでください",
                    "Do not begin or end the password with a space."));
        }
        if (password.codePoints().anyMatch(PasswordPolicy::invisible)) {
            violations.add(new Violation("control-character", "制御文字や見えない文字は使わないでください",
                    "Do not use control characters or invisible characters."));
        }
        String folded = fold(password);
        if (containsAny(folded, usernameParts(person.username()))) {
            violations.add(new Violation("contains-username", "ユーザーIDを含めないでください",
                    "Do not include your user ID."));
        }
        if (containsAny(folded, nameParts(person.names()))) {
            violations.add(new Violation("contains-name", "氏名（漢字・かな・ローマ字）を含めないでください",
                    "Do not include your name (in kanji, kana or romaji)."));
        }
        if (person.birthDate() != null && BirthDate.appearsIn(folded, person.birthDate())) {
            violations.add(new Violation("contains-birth-date", "生年月日（和暦を含む）を含めないでください",
                    "Do not include your date of birth (in any form, including the Japanese era)."));
        }
        if (!tooLong && guessable(password, person)) {
            violations.add(new Violation("guessable",
                    "推測されやすい語や並び（辞書の単語、よく使われるパスワード、キーボードの並び、"
                            + "連続した文字など）を避けてください",
                    "Avoid guessable words and patterns "
                            + "(dictionary words, common passwords, keyboard runs, sequences)."));
        }
        if (!tooLong && reused(password, previousHashes, encoder)) {
            violations.add(new Violation("reused",
                    "直近" + historySize + "回に使ったパスワードは使えません。新しいものにしてください",
                    "Do not reuse any of your last " + historySize + " passwords; choose a new one."));
        }
        return List.copyOf(violations);
    }

    /** When a password set at setAt must be changed: rule (b) only; the others never expire. */
    Instant expiresAt(Rule rule, Instant setAt) {
        Objects.requireNonNull(setAt, "setAt");
        return rule == Rule.EXPIRING ? setAt.plus(MAX_AGE) : null;
    }

    private static boolean mixed(String password) {
        return password.codePoints().anyMatch(Character::isLetter)
                && password.codePoints().anyMatch(Character::isDigit)
                && password.codePoints().anyMatch(c -> !Character.isLetterOrDigit(c) && !blank(c) && !invisible(c));
    }

    private static boolean blank(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c);
    }

    /** Control, format (zero-width, bidi) and lone surrogate characters: unseen, so the user cannot retype them. */
    private static boolean invisible(int c) {
        int type = Character.getType(c);
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.SURROGATE;
    }

    /** Case-, width- and kana-insensitive form: Ｔａｒｏ, TARO and taro match; so do ヤマダ and やまだ. */
    private static String fold(String s) {
        String n = Normalizer.normalize(s, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
        StringBuilder out = new StringBuilder(n.length());
        n.codePoints().forEach(c -> out.appendCodePoint(c >= 'ァ' && c <= 'ヶ' ? c - ('ァ' - 'ぁ') : c));
        return out.toString();
    }

    private static boolean containsAny(String folded, Set<String> parts) {
        return parts.stream().anyMatch(folded::contains);
    }

    /** The user ID and its pieces (yamada.t → yamada.t, yamada) of 3 or more characters. */
    private static Set<String> usernameParts(String username) {
        if (username == null) {
            return Set.of();
        }
        String u = fold(username.strip());
        Set<String> parts = new LinkedHashSet<>();
        parts.add(u);
        parts.addAll(List.of(u.split("[^\\p{L}\\p{N}]+")));
        parts.removeIf(p -> p.codePointCount(0, p.length()) < 3);
        return parts;
    }

    /** Name parts (split on spaces and ・) and whole names, if long enough to mean the name: 2 kanji/kana, 3 latin. */
    private static Set<String> nameParts(List<String> names) {
        Set<String> parts = new LinkedHashSet<>();
        for (String name : names) {
            if (name == null) {
                continue;
            }
            String[] pieces = fold(name).strip().split("[\\s・,.\\-_]+");
            parts.addAll(List.of(pieces));
            parts.add(String.join("", pieces));
        }
        parts.removeIf(p -> p.codePointCount(0, p.length()) < (p.chars().allMatch(c -> c < 128) ? 3 : 2));
        return parts;
    }

    /**
     * zxcvbn's score below 3 with the person's own data as extra words, or one or two dictionary words with decoration
     * (Tokyo2025!!, Tokyo#Osaka2025), which zxcvbn rates 3 or 4 (it adds a flat 10^4 guesses per extra part). A
     * pattern-free 8-character string also scores 2 (zxcvbn counts 10 guesses a character), yet rules (b) and (c)
     * allow 8 characters, so only a low score that found a pattern counts.
     */
    private static boolean guessable(String password, Person person) {
        Strength strength = Guesser.ZXCVBN.measure(password, userInputs(person));
        boolean pattern = strength.getSequence().stream()
                .anyMatch(m -> m.pattern != com.nulabinc.zxcvbn.Pattern.Bruteforce);
        return (strength.getScore() < MIN_SCORE && pattern) || decoratedWords(password);
    }

    private static List<String> userInputs(Person person) {
        Set<String> inputs = new LinkedHashSet<>(usernameParts(person.username()));
        inputs.addAll(nameParts(person.names()));
        if (person.birthDate() != null) {
            inputs.addAll(BirthDate.forms(person.birthDate()));
        }
        return List.copyOf(inputs);
    }

    private static final Pattern LETTER_SPAN = Pattern.compile("\\p{L}.*\\p{L}|\\p{L}");
    private static final int MIN_WORD = 4;

    /** Password123!, 2025#Kangoshi, P@ssw0rd!, Correct7#Horse: the letters from the first to the last letter, inner
     * digits and symbols dropped or read as leet, are one or two dictionary words (of 4 letters or more, so that a
     * random password's few letters rarely spell one by chance). */
    private static boolean decoratedWords(String password) {
        Matcher span = LETTER_SPAN.matcher(fold(password));
        if (!span.find()) {
            return false;
        }
        String core = span.group();
        return Stream.of(core.replaceAll("[^\\p{L}]", ""), leet(core, 'i'), leet(core, 'l'))
                .anyMatch(PasswordPolicy::oneOrTwoWords);
    }

    private static boolean oneOrTwoWords(String letters) {
        if (Guesser.WORDS.contains(letters) && letters.length() >= MIN_WORD) {
            return true;
        }
        for (int i = MIN_WORD; i <= letters.length() - MIN_WORD; i++) {
            if (Guesser.WORDS.contains(letters.substring(0, i)) && Guesser.WORDS.contains(letters.substring(i))) {
                return true;
            }
        }
        return false;
    }

    private static String leet(String core, char one) {
        StringBuilder out = new StringBuilder();
        for (char c : core.toCharArray()) {
            char plain = switch (c) {
                case '0' -> 'o';
                case '1' -> one;
                case '3' -> 'e';
                case '4', '@' -> 'a';
                case '5', '$' -> 's';
                case '7', '+' -> 't';
                case '8' -> 'b';
                case '9' -> 'g';
                case '!', '|' -> 'i';
                default -> Character.isLetter(c) ? c : 0;
            };
            if (plain != 0) {
                out.append(plain);
            }
        }
        return out.toString();
    }

    private boolean reused(String password, List<String> previousHashes, PasswordEncoder encoder) {
        if (previousHashes == null) {
            return false;
        }
        return previousHashes.stream().limit(historySize).filter(Objects::nonNull)
                .anyMatch(hash -> encoder.matches(password, hash));
    }

    /** Loaded once on first use: zxcvbn's dictionaries and keyboards plus Kiroku's Japanese word list. */
    private static final class Guesser {

        static final Zxcvbn ZXCVBN;
        static final Set<String> WORDS;

        static {
            try {
                List<Dictionary> dictionaries = new ArrayList<>(StandardDictionaries.loadAllDictionaries());
                dictionaries.add(new Dictionary("kiroku_ja", japaneseWords()));
                ZXCVBN = new ZxcvbnBuilder().dictionaries(dictionaries)
                        .keyboards(StandardKeyboards.loadAllKeyboards()).build();
                Set<String> words = new HashSet<>();
                dictionaries.forEach(d -> words.addAll(d.getRankedDictionary().keySet()));
                WORDS = Set.copyOf(words);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static List<String> japaneseWords() throws IOException {
            try (InputStream in = PasswordPolicy.class.getResourceAsStream("/identity/password-words-ja.txt")) {
                if (in == null) {
                    throw new IOException("identity/password-words-ja.txt is missing from the classpath");
                }
                return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines()
                        .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#"))
                        .collect(Collectors.toList());
            }
        }
    }

    /** The written forms of a birth date, folded like passwords (lower case). */
    private static final class BirthDate {

        private static final Pattern DIGIT_RUN = Pattern.compile("[0-9]+(?:[-/.][0-9]+)*");

        /** Japanese eras since Taisho, newest first: a romaji initial, the kanji and the first day. */
        private record Era(String initial, String kanji, LocalDate start) {
        }

        private static final List<Era> ERAS = List.of(
                new Era("r", "令和", LocalDate.of(2019, 5, 1)),
                new Era("h", "平成", LocalDate.of(1989, 1, 8)),
                new Era("s", "昭和", LocalDate.of(1926, 12, 25)),
                new Era("t", "大正", LocalDate.of(1912, 7, 30)));

        /**
         * Long digit forms anywhere in a digit run (separators - / . ignored), the short MMdd/ddMM forms only as a
         * whole run (0101 inside 7301019 is chance), and the era forms anywhere.
         */
        static boolean appearsIn(String folded, LocalDate birth) {
            Matcher runs = DIGIT_RUN.matcher(folded);
            while (runs.find()) {
                String run = runs.group().replaceAll("[-/.]", "");
                if (longDigitForms(birth).stream().anyMatch(run::contains)
                        || run.equals(format(birth, "MMdd")) || run.equals(format(birth, "ddMM"))) {
                    return true;
                }
            }
            return eraForms(birth).stream().anyMatch(folded::contains);
        }

        /** Every form, for zxcvbn's user inputs. */
        static Set<String> forms(LocalDate birth) {
            Set<String> forms = new LinkedHashSet<>(longDigitForms(birth));
            forms.add(format(birth, "MMdd"));
            forms.add(format(birth, "ddMM"));
            forms.addAll(eraForms(birth));
            return forms;
        }

        /** yyyyMMdd, yyMMdd, ddMMyyyy, MMddyyyy, the year, and the era year with MMdd (1980-01-01: 550101). */
        private static Set<String> longDigitForms(LocalDate birth) {
            Set<String> forms = new LinkedHashSet<>(List.of(format(birth, "yyyyMMdd"), format(birth, "yyMMdd"),
                    format(birth, "ddMMyyyy"), format(birth, "MMddyyyy"), format(birth, "yyyy")));
            Era era = era(birth);
            if (era != null) {
                forms.add(String.format("%02d", eraYear(era, birth)) + format(birth, "MMdd"));
            }
            return forms;
        }

        /** 1980-01-01 → s55 (and so s550101), 昭和55; era year 1 also as 元 (平成元年). */
        private static Set<String> eraForms(LocalDate birth) {
            Era era = era(birth);
            if (era == null) {
                return Set.of();
            }
            int year = eraYear(era, birth);
            Set<String> forms = new LinkedHashSet<>(List.of(era.initial() + String.format("%02d", year),
                    era.initial() + year + format(birth, "MMdd"), era.kanji() + year));
            if (year == 1) {
                forms.add(era.kanji() + "元");
            }
            return forms;
        }

        private static Era era(LocalDate birth) {
            return ERAS.stream().filter(e -> !birth.isBefore(e.start())).findFirst().orElse(null);
        }

        private static int eraYear(Era era, LocalDate birth) {
            return birth.getYear() - era.start().getYear() + 1;
        }

        private static String format(LocalDate date, String pattern) {
            return date.format(DateTimeFormatter.ofPattern(pattern, Locale.ROOT));
        }
    }
}
