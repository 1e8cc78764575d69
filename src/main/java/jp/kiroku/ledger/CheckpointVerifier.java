package jp.kiroku.ledger;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Checks a log against checkpoints signed earlier (LOG-02, INTEG-03): the log's leaf hashes, streamed in order from the
 * first, must give each checkpoint's root at its size. One pass serves all checkpoints, so a full check reads the log
 * once; a changed, removed or inserted entry before a checkpoint's size makes that checkpoint fail. Finding which
 * entry differs is left to the caller. Not thread-safe.
 */
public final class CheckpointVerifier {

    /** How one checkpoint fared. */
    public enum Status {
        /** The first {@code size} leaves have the checkpoint's root. */
        MATCHES,
        /** They do not: the log changed before this size since the checkpoint was signed. */
        ROOT_DIFFERS,
        /** The log has fewer leaves than the checkpoint: entries were removed (or not all were streamed). */
        NOT_REACHED
    }

    /** One checkpoint and its status. */
    public record Result(Checkpoint checkpoint, Status status) {
    }

    private final List<Checkpoint> checkpoints;
    private final StreamingRoot stream = new StreamingRoot();

    public CheckpointVerifier(Collection<Checkpoint> trusted) {
        checkpoints = new ArrayList<>(trusted);
        checkpoints.sort(Comparator.comparingLong(Checkpoint::size));
        for (Checkpoint c : checkpoints) {
            stream.captureRootAt(c.size());
        }
    }

    /** The hash of the next leaf of the log. */
    public void append(byte[] leafHash) {
        stream.append(leafHash);
    }

    /** Number of leaves appended so far. */
    public long size() {
        return stream.size();
    }

    /** The root of all leaves appended so far (so that one pass also checks the log's current head). */
    public byte[] root() {
        return stream.root();
    }

    /** Each checkpoint, smallest size first, compared with the leaves appended so far. */
    public List<Result> results() {
        List<Result> out = new ArrayList<>(checkpoints.size());
        for (Checkpoint c : checkpoints) {
            Status s = c.size() > stream.size() ? Status.NOT_REACHED
                    : MessageDigest.isEqual(stream.rootAt(c.size()), c.rootHash()) ? Status.MATCHES
                    : Status.ROOT_DIFFERS;
            out.add(new Result(c, s));
        }
        return out;
    }

    /** Whether every checkpoint {@link Status#MATCHES}. */
    public boolean allMatch() {
        return results().stream().allMatch(r -> r.status() == Status.MATCHES);
    }
}
