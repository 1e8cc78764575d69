package jp.kiroku.compliance;

/** What an evidence check found: the state and one sentence of evidence in English and in Japanese. */
public record Finding(Status status, String en, String ja) {

    public String text(String lang) {
        return "en".equals(lang) ? en : ja;
    }
}
