package jp.kiroku.search;

/**
 * The one place where token and string values are turned into what the index stores and compares. Today it stores
 * them as they are; the encryption issue replaces these with keyed hashes (HMAC) of the same inputs, and prefix
 * search with hashed normalised prefixes.
 */
final class IndexValues {

    private IndexValues() {
    }

    static String token(String value) {
        return value;
    }

    static String text(String normalised) {
        return normalised;
    }
}
