package jp.kiroku.search;

/** A search the index cannot answer as asked (bad value, unsupported parameter or modifier under strict handling). */
public class SearchException extends RuntimeException {
    public SearchException(String message) {
        super(message);
    }
}
