package jp.kiroku.ledger;

import java.util.ArrayList;
import java.util.List;

/**
 * Roots and proofs of RFC 9162 §2.1, written as the RFC's recursive definitions so that they can be checked against
 * it line by line: MTH (§2.1.1), PATH (§2.1.3.1) and PROOF / SUBPROOF (§2.1.4.1). A tree of {@code n > 1} leaves splits
 * at {@code k}, the largest power of two below {@code n}; recursion depth is the tree height, at most 64.
 */
public final class MerkleTree {

    private MerkleTree() {
    }

    /** MTH over leaf hashes held in memory. For a log read from storage, use {@link StreamingRoot}. */
    public static byte[] root(List<byte[]> leafHashes) {
        for (byte[] h : leafHashes) {
            requireHash(h);
        }
        return leafHashes.isEmpty() ? MerkleHash.emptyRoot() : mth(leafHashes, 0, leafHashes.size());
    }

    private static byte[] mth(List<byte[]> leaves, int from, int to) {
        if (to - from == 1) {
            return leaves.get(from).clone();
        }
        int k = (int) split(to - from);
        return MerkleHash.nodeHash(mth(leaves, from, from + k), mth(leaves, from + k, to));
    }

    /**
     * PATH(index, D[treeSize]): the audit path proving that leaf {@code index} is in the tree of the first {@code
     * treeSize} leaves, nearest the leaf first.
     */
    public static List<byte[]> inclusionProof(LeafHashSource leaves, long index, long treeSize) {
        if (treeSize < 1 || treeSize > leaves.size() || index < 0 || index >= treeSize) {
            throw new IllegalArgumentException("No inclusion proof for leaf " + index + " in a tree of " + treeSize
                    + " leaves (the log has " + leaves.size() + ")");
        }
        List<byte[]> proof = new ArrayList<>();
        path(leaves, index, 0, treeSize, proof);
        return proof;
    }

    private static void path(LeafHashSource leaves, long m, long start, long end, List<byte[]> proof) {
        long n = end - start;
        if (n == 1) {
            return;
        }
        long k = split(n);
        if (m < k) {
            path(leaves, m, start, start + k, proof);
            proof.add(rangeHash(leaves, start + k, end));
        } else {
            path(leaves, m - k, start + k, end, proof);
            proof.add(rangeHash(leaves, start, start + k));
        }
    }

    /**
     * PROOF(oldSize, D[newSize]): the hashes proving that the tree of the first {@code oldSize} leaves is a prefix of
     * the tree of the first {@code newSize}. Empty when {@code oldSize} is 0 or {@code newSize} (nothing to prove).
     */
    public static List<byte[]> consistencyProof(LeafHashSource leaves, long oldSize, long newSize) {
        if (oldSize < 0 || oldSize > newSize || newSize > leaves.size()) {
            throw new IllegalArgumentException("No consistency proof from " + oldSize + " to " + newSize
                    + " leaves (the log has " + leaves.size() + ")");
        }
        List<byte[]> proof = new ArrayList<>();
        if (oldSize > 0 && oldSize < newSize) {
            subproof(leaves, oldSize, 0, newSize, true, proof);
        }
        return proof;
    }

    private static void subproof(LeafHashSource leaves, long m, long start, long end, boolean whole,
            List<byte[]> proof) {
        long n = end - start;
        if (m == n) {
            if (!whole) {
                proof.add(rangeHash(leaves, start, end));
            }
            return;
        }
        long k = split(n);
        if (m <= k) {
            subproof(leaves, m, start, start + k, whole, proof);
            proof.add(rangeHash(leaves, start + k, end));
        } else {
            subproof(leaves, m - k, start + k, end, false, proof);
            proof.add(rangeHash(leaves, start, start + k));
        }
    }

    /**
     * MTH(D[start:end]) from complete subtrees: the ranges proofs need start at a multiple of the largest power of two
     * not above their length, so the left part of each split is always a complete subtree the source may have stored.
     */
    static byte[] rangeHash(LeafHashSource leaves, long start, long end) {
        long n = end - start;
        if (Long.bitCount(n) == 1) {
            return requireHash(leaves.subtreeHash(start, n)).clone(); // the source's own array stays out of proofs
        }
        long k = split(n);
        return MerkleHash.nodeHash(requireHash(leaves.subtreeHash(start, k)), rangeHash(leaves, start + k, end));
    }

    /** The largest power of two strictly below {@code n}, for {@code n >= 2}. */
    static long split(long n) {
        return Long.highestOneBit(n - 1);
    }

    private static byte[] requireHash(byte[] h) {
        if (!MerkleHash.isHash(h)) {
            throw new IllegalArgumentException("A Merkle hash has " + MerkleHash.SIZE + " bytes, not "
                    + (h == null ? "null" : h.length));
        }
        return h;
    }
}
