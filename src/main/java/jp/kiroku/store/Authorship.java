package jp.kiroku.store;

/**
 * Who entered a version: {@code authorKind}/{@code authorId} (a client, user or operator), and, when entered on
 * someone's behalf (代行入力), the responsible author; {@code facility} is the facility a new resource belongs to (a
 * resource keeps the facility it was created in). Confirmation is set by a later step of the access-control issue.
 */
public record Authorship(String authorKind, String authorId, String onBehalfOf, String facility) {
}
