package jp.kiroku.store;

import java.time.Instant;
import java.util.List;

/**
 * One change for {@link RecordStore#write}. The body is rendered by the caller once the store has assigned the
 * version number and time, so that the stored bytes (and their hash) include them.
 *
 * @param expectedVersion for UPDATE/DELETE: the version the client last saw (If-Match), or null
 * @param category        the information category of the new version (access control); null for a delete, which
 *                        keeps the resource's category
 * @param references      the local resources this body refers to; each must exist or be written in the same call
 */
public record Write(Kind kind, ResourceKey key, Integer expectedVersion, String patientKey, String category,
                    List<ResourceKey> references, BodyRenderer body) {

    public enum Kind { CREATE, UPDATE, DELETE }

    @FunctionalInterface
    public interface BodyRenderer {
        byte[] render(int versionId, Instant lastUpdated);
    }

    public static Write create(ResourceKey key, String patientKey, String category, List<ResourceKey> references,
                               BodyRenderer body) {
        return new Write(Kind.CREATE, key, null, patientKey, category, references, body);
    }

    public static Write update(ResourceKey key, Integer expectedVersion, String patientKey, String category,
                               List<ResourceKey> references, BodyRenderer body) {
        return new Write(Kind.UPDATE, key, expectedVersion, patientKey, category, references, body);
    }

    public static Write delete(ResourceKey key, Integer expectedVersion) {
        return new Write(Kind.DELETE, key, expectedVersion, null, null, List.of(), null);
    }
}
