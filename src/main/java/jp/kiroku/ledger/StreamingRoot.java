package jp.kiroku.ledger;

import java.security.MessageDigest;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * The root of a log computed leaf by leaf, in O(log n) memory, so that a verifier can recompute the tree of millions of
 * entries while reading them from the database once, in order.
 *
 * <p>It keeps a "compact range": the roots of the complete subtrees that make up the leaves so far, one per set bit of
 * the size, largest first. Appending a leaf merges equal-sized subtrees the way a binary counter carries, so {@code n}
 * appends cost {@code n - 1} node hashes in all; one {@link MessageDigest} and pre-allocated buffers keep the loop free
 * of allocation. {@link #root()} folds the stack right to left, which is exactly RFC 9162's MTH (the split at the
 * largest power of two below the size puts the complete subtrees on the left).
 *
 * <p>Roots at earlier sizes (the sizes of older checkpoints) are kept when asked for in advance with
 * {@link #captureRootAt(long)}. Not thread-safe.
 */
public final class StreamingRoot {

    private final MessageDigest md = MerkleHash.sha256();
    private final byte[][] stack = new byte[Long.SIZE][MerkleHash.SIZE];
    private long size;

    private final TreeSet<Long> pending = new TreeSet<>();
    private final Map<Long, byte[]> captured = new HashMap<>();
    private long nextCapture = -1;

    /**
     * A stream that continues a tree of {@code size} leaves from the roots of its complete subtrees (largest first, as
     * {@link #frontier()} gives them): how the sequencer extends a log without reading its old leaves.
     */
    static StreamingRoot restore(long size, java.util.List<byte[]> frontier) {
        if (size < 0 || Long.bitCount(size) != frontier.size()) {
            throw new IllegalStateException("A tree of " + size + " leaves has " + Long.bitCount(Math.max(size, 0))
                    + " complete subtrees, not " + frontier.size());
        }
        StreamingRoot r = new StreamingRoot();
        for (int i = 0; i < frontier.size(); i++) {
            if (!MerkleHash.isHash(frontier.get(i))) {
                throw new IllegalStateException("Subtree root " + i + " is not a " + MerkleHash.SIZE + "-byte hash");
            }
            System.arraycopy(frontier.get(i), 0, r.stack[i], 0, MerkleHash.SIZE);
        }
        r.size = size;
        return r;
    }

    /** The roots of the complete subtrees of the leaves so far, largest first (one per set bit of the size). */
    java.util.List<byte[]> frontier() {
        java.util.List<byte[]> out = new java.util.ArrayList<>();
        for (int i = 0; i < Long.bitCount(size); i++) {
            out.add(stack[i].clone());
        }
        return out;
    }

    /** Number of leaves appended so far. */
    public long size() {
        return size;
    }

    /** Appends the next leaf hash (its {@link MerkleHash#leafHash}, not the entry itself). */
    public void append(byte[] leafHash) {
        if (!MerkleHash.isHash(leafHash)) {
            throw new IllegalArgumentException("A leaf hash has " + MerkleHash.SIZE + " bytes, not "
                    + (leafHash == null ? "null" : leafHash.length));
        }
        int top = Long.bitCount(size);
        System.arraycopy(leafHash, 0, stack[top], 0, MerkleHash.SIZE);
        for (long s = size; (s & 1) == 1; s >>>= 1) {
            MerkleHash.nodeHash(md, stack[top - 1], stack[top], stack[top - 1]);
            top--;
        }
        size++;
        if (size == nextCapture) {
            captured.put(size, root());
            pending.pollFirst();
            nextCapture = pending.isEmpty() ? -1 : pending.first();
        }
    }

    /** The root of all leaves appended so far (RFC 9162 MTH; the empty root when there are none). */
    public byte[] root() {
        int top = Long.bitCount(size) - 1;
        if (top < 0) {
            return MerkleHash.emptyRoot();
        }
        byte[] r = stack[top].clone();
        for (int i = top - 1; i >= 0; i--) {
            MerkleHash.nodeHash(md, stack[i], r, r);
        }
        return r;
    }

    /** Asks to keep the root at {@code treeSize} leaves, which must not be behind the stream yet. */
    public void captureRootAt(long treeSize) {
        if (treeSize < size) {
            throw new IllegalArgumentException("The stream is at " + size + " leaves, already past " + treeSize);
        }
        if (treeSize == size) {
            captured.put(treeSize, root());
            return;
        }
        pending.add(treeSize);
        nextCapture = pending.first();
    }

    /** The root at {@code treeSize} leaves, asked for with {@link #captureRootAt(long)} and reached since. */
    public byte[] rootAt(long treeSize) {
        byte[] r = captured.get(treeSize);
        if (r != null) {
            return r.clone();
        }
        if (pending.contains(treeSize)) {
            throw new IllegalStateException("The stream has " + size + " leaves, not yet " + treeSize);
        }
        throw new IllegalStateException("The root at " + treeSize + " leaves was not asked for with captureRootAt");
    }
}
