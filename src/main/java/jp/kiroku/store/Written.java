package jp.kiroku.store;

import java.time.Instant;

/**
 * The outcome of one {@link Write}: the version now current. {@code created} is true when the resource did not
 * exist before; {@code noop} is true for a delete of a resource that was absent or already deleted. {@code facility}
 * is the facility the resource belongs to, {@code category} its information category.
 */
public record Written(ResourceKey key, int versionId, Instant lastUpdated, boolean created, boolean deleted,
                      boolean noop, String patientKey, String facility, String category, byte[] body) {
}
