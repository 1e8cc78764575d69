package jp.kiroku.store;

import java.time.Instant;

/**
 * A history listing: system (type null), type (id null) or instance. {@code upToSeq} pins the listing to the versions
 * that existed when its first page was served, so later pages do not shift.
 */
public record HistoryQuery(String type, String id, Instant since, long upToSeq) {
}
