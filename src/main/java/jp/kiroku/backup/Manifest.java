package jp.kiroku.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * What one backup generation holds ({@code manifest.json}, signed by {@code manifest.sig}): the moment of its snapshot,
 * the ledgers' sizes, roots and latest signed checkpoints at that moment, and every segment with its SHA-256. An
 * incremental generation names its parent and holds only what changed after the parent's ledger positions.
 */
public record Manifest(String format, String id, Kind kind, String parent, Instant started, Instant finished,
                       String schemaVersion, String masterKeyId, String wrappedKey, List<Head> ledgers,
                       List<String> checkpoints, Map<Integer, List<Long>> pendingAtSnapshot, Map<String, Long> sequences,
                       List<String> indexKeys, long disposals, List<Table> tables, Totals totals) {

    public static final String FORMAT = "kiroku-backup/1";
    static final String FILE = "manifest.json";
    static final String SIGNATURE = "manifest.sig";

    public enum Kind { FULL, INCREMENTAL }

    /** A ledger at the snapshot: log number (1 = records, 2 = access), tree size and root (hex). */
    public record Head(int log, long size, String root) {
    }

    /**
     * One table: how it was taken ({@code whole}, {@code append}: rows after the parent's positions, {@code resources}:
     * the current rows of every resource changed after the parent), its rows and its segments in order.
     */
    public record Table(String name, String mode, long rows, long bytes, List<Segment> segments, List<String> columns) {
    }

    /** A file of the generation: name, SHA-256 (hex) of its bytes and their number. */
    public record Segment(String file, String sha256, long bytes) {
    }

    /** Counts for people: record versions and audit events in this generation, and the plain bytes copied. */
    public record Totals(long versions, long auditEvents, long plainBytes, long storedBytes) {
    }

    public Head head(int log) {
        return ledgers.stream().filter(h -> h.log() == log).findFirst().orElse(new Head(log, 0, ""));
    }

    /** Where the records ledger stood at the snapshot: the generation's "ledger position". */
    public long position() {
        return head(1).size();
    }

    private static final JsonMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

    byte[] toJson() {
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
    }

    static Manifest read(Path generation) throws IOException {
        Path file = generation.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(generation + " is not a Kiroku backup: it has no " + FILE);
        }
        Manifest m;
        try {
            m = JSON.readValue(Files.readAllBytes(file), Manifest.class);
        } catch (tools.jackson.core.JacksonException e) {
            throw new IllegalArgumentException(file + " is not a readable backup manifest: " + e.getOriginalMessage());
        }
        if (!FORMAT.equals(m.format())) {
            throw new IllegalArgumentException(file + " is of format " + m.format() + "; this Kiroku reads " + FORMAT);
        }
        return m;
    }
}
