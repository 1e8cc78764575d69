package jp.kiroku.store;

import java.time.Instant;

/** One stored version of a resource; {@code body} is null for a tombstone (delete). */
public record StoredVersion(String type, String id, int versionId, Instant lastUpdated, boolean deleted,
                            String patientKey, byte[] body) {
}
