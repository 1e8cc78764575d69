package jp.kiroku.ledger;

import java.util.ArrayList;
import java.util.List;

/**
 * A Merkle tree of any size held as the roots of its complete subtrees (one per set bit of the size, largest first):
 * O(log n) memory, leaves appended one by one, the RFC 6962 root at any time.
 */
final class CompactRange {

    private final List<byte[]> frontier = new ArrayList<>();
    private long size;

    CompactRange() {
    }

    static CompactRange restore(long size, List<byte[]> frontier) {
        if (Long.bitCount(size) != frontier.size()) {
            throw new IllegalStateException("A tree of " + size + " leaves has " + Long.bitCount(size)
                    + " complete subtrees, not " + frontier.size());
        }
        CompactRange r = new CompactRange();
        r.size = size;
        r.frontier.addAll(frontier);
        return r;
    }

    void append(byte[] leafHash) {
        frontier.add(leafHash);
        for (long s = size; (s & 1) == 1; s >>>= 1) { // each trailing one of the old size completes a subtree
            byte[] right = frontier.remove(frontier.size() - 1);
            byte[] left = frontier.remove(frontier.size() - 1);
            frontier.add(MerkleHash.nodeHash(left, right));
        }
        size++;
    }

    long size() {
        return size;
    }

    List<byte[]> frontier() {
        return List.copyOf(frontier);
    }

    byte[] root() {
        if (frontier.isEmpty()) {
            return MerkleHash.emptyRoot();
        }
        byte[] root = frontier.get(frontier.size() - 1);
        for (int i = frontier.size() - 2; i >= 0; i--) {
            root = MerkleHash.nodeHash(frontier.get(i), root);
        }
        return root;
    }
}
