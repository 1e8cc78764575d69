package jp.kiroku.store;

import java.time.Instant;

/** A history listing: system (type null), type (id null) or instance; {@code since} is FHIR's _since. */
public record HistoryQuery(String type, String id, Instant since) {
}
