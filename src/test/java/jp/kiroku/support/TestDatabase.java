package jp.kiroku.support;

import java.util.Optional;

/**
 * Tests run against the embedded PostgreSQL by default; KIROKU_TEST_DB_URL (+ KIROKU_TEST_DB_USER,
 * KIROKU_TEST_DB_PASSWORD) switches them to an external PostgreSQL 15+ server.
 */
public record TestDatabase(String url, String user, String password) {

    public static Optional<TestDatabase> external() {
        String url = System.getenv("KIROKU_TEST_DB_URL");
        if (url == null || url.isBlank()) {
            return Optional.empty();
        }
        return Optional.of(new TestDatabase(url, System.getenv("KIROKU_TEST_DB_USER"), System.getenv("KIROKU_TEST_DB_PASSWORD")));
    }
}
