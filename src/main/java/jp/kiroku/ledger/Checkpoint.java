package jp.kiroku.ledger;

import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * A signed tree head: the log {@code origin}, its size and root at a moment, in the layout of c2sp.org/tlog-checkpoint
 * inside a c2sp.org/signed-note, so that the ecosystem's tools (witnesses, Go verifiers) can read it:
 *
 * <pre>
 * kiroku/record
 * 8
 * XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=
 * timestamp 1735689600000
 *
 * — kiroku/record &lt;base64(4-byte key ID || 64-byte Ed25519 signature)&gt;
 * </pre>
 *
 * The fourth line is a tlog-checkpoint extension line: when the tree head was signed, in milliseconds since
 * 1970-01-01T00:00:00Z, so that an auditor can tell that an entry was in the log by then. The key name is chosen by
 * the caller (by convention the origin); the key ID is that of the signed-note spec.
 */
public record Checkpoint(String origin, long size, byte[] rootHash, Instant timestamp) {

    private static final String TIMESTAMP = "timestamp ";

    /** The timestamp is kept to the millisecond, as the text carries it. */
    public Checkpoint {
        if (!SignedNote.validKeyName(origin)) {
            throw new IllegalArgumentException("Origin must be non-empty, without spaces or '+': " + origin);
        }
        if (size < 0) {
            throw new IllegalArgumentException("Negative tree size " + size);
        }
        if (!MerkleHash.isHash(rootHash)) {
            throw new IllegalArgumentException("A root hash has " + MerkleHash.SIZE + " bytes");
        }
        rootHash = rootHash.clone();
        timestamp = Objects.requireNonNull(timestamp, "timestamp").truncatedTo(ChronoUnit.MILLIS);
    }

    @Override
    public byte[] rootHash() {
        return rootHash.clone();
    }

    /** The note text that is signed: origin, size, base64 root and timestamp lines. */
    public String body() {
        return origin + "\n" + size + "\n" + Base64.getEncoder().encodeToString(rootHash) + "\n" + TIMESTAMP
                + timestamp.toEpochMilli() + "\n";
    }

    /** This checkpoint as a signed note, signed with the Ed25519 {@code key} under {@code keyName}. */
    public String sign(PrivateKey key, String keyName) {
        return SignedNote.sign(body(), key, keyName);
    }

    /**
     * The checkpoint in {@code note}, after its signature by {@code keyName} with {@code key} has verified. The caller
     * still checks that {@link #origin()} is the log it expects.
     *
     * @throws CheckpointException if the note is malformed, its signature does not verify, or it has none by the key
     */
    public static Checkpoint parse(String note, PublicKey key, String keyName) {
        String[] lines = SignedNote.open(note, key, keyName).split("\n", -1);
        if (lines.length != 5) { // four lines, each ending in \n
            throw malformed("the text has " + (lines.length - 1) + " lines, not 4 (origin, size, root, timestamp)");
        }
        long size = decimal(lines[1], "tree size");
        byte[] root;
        try {
            root = Base64.getDecoder().decode(lines[2]);
        } catch (IllegalArgumentException e) {
            throw malformed("the root hash is not base64: " + lines[2]);
        }
        if (root.length != MerkleHash.SIZE || !Base64.getEncoder().encodeToString(root).equals(lines[2])) {
            throw malformed("the root hash is not the base64 of " + MerkleHash.SIZE + " bytes: " + lines[2]);
        }
        if (!lines[3].startsWith(TIMESTAMP)) {
            throw malformed("the fourth line is not '" + TIMESTAMP + "<milliseconds>': " + lines[3]);
        }
        long millis = decimal(lines[3].substring(TIMESTAMP.length()), "timestamp");
        if (!SignedNote.validKeyName(lines[0])) {
            throw malformed("the origin is empty or has spaces or '+': " + lines[0]);
        }
        return new Checkpoint(lines[0], size, root, Instant.ofEpochMilli(millis));
    }

    /** ASCII decimal without sign or leading zeroes, as tlog-checkpoint writes the size. */
    private static long decimal(String s, String what) {
        if (s.isEmpty() || s.length() > 19 || !s.chars().allMatch(c -> c >= '0' && c <= '9')
                || (s.length() > 1 && s.charAt(0) == '0')) {
            throw malformed("the " + what + " is not a decimal number: " + s);
        }
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw malformed("the " + what + " is too large: " + s);
        }
    }

    private static CheckpointException malformed(String problem) {
        return new CheckpointException("Malformed checkpoint: " + problem);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Checkpoint c && origin.equals(c.origin) && size == c.size
                && Arrays.equals(rootHash, c.rootHash) && timestamp.equals(c.timestamp);
    }

    @Override
    public int hashCode() {
        return Objects.hash(origin, size, Arrays.hashCode(rootHash), timestamp);
    }

    @Override
    public String toString() {
        return "Checkpoint[" + origin + ", size " + size + ", root " + Base64.getEncoder().encodeToString(rootHash)
                + ", " + timestamp + "]";
    }
}
