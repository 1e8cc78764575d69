package jp.kiroku.compliance;

/**
 * The state of one requirement or checklist item in the report. GREEN, AMBER and RED are computed from the running
 * installation; IMPLEMENTED means the feature is built in with no setting to get wrong, proven by the automated tests
 * listed with it; UNKNOWN means nothing could be computed or proven; QUESTION and ANSWERED are for what only the
 * institution knows (the officer's answer is recorded, not checked).
 */
public enum Status {
    RED("不適合", "Not met"),
    AMBER("要確認", "Check"),
    UNKNOWN("不明", "Unknown"),
    QUESTION("要回答", "To answer"),
    IMPLEMENTED("実装済み（試験で証明）", "Built in (proven by tests)"),
    ANSWERED("回答済み", "Answered"),
    GREEN("適合", "Met");

    private final String ja;
    private final String en;

    Status(String ja, String en) {
        this.ja = ja;
        this.en = en;
    }

    /** The label in {@code lang} ("ja" or "en"). */
    public String label(String lang) {
        return "en".equals(lang) ? en : ja;
    }

    /** The worse of two states (RED is the worst, GREEN the best). */
    public Status worse(Status other) {
        return other == null || ordinal() <= other.ordinal() ? this : other;
    }
}
