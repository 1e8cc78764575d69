package jp.kiroku.store;

/**
 * Who entered a version: {@code authorKind}/{@code authorId} (a client, user or operator), and, when entered on
 * someone's behalf (代行入力), the responsible author. Confirmation and facility are set by later issues.
 */
public record Authorship(String authorKind, String authorId, String onBehalfOf) {
}
