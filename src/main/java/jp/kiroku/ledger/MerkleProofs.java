package jp.kiroku.ledger;

import java.security.MessageDigest;
import java.util.List;

/**
 * Verification of inclusion and consistency proofs, following the algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2 step by
 * step. They need no access to the log: an auditor holding a signed checkpoint can run them alone.
 *
 * <p>A proof binds the tree size only through the root: callers take size and root together from a verified
 * {@link Checkpoint}, never the size from one place and the root from another.
 */
public final class MerkleProofs {

    private MerkleProofs() {
    }

    /** Whether {@code proof} shows that {@code leafHash} is leaf {@code index} of the tree of {@code treeSize}. */
    public static boolean verifyInclusion(long index, long treeSize, byte[] leafHash, List<byte[]> proof,
            byte[] root) {
        if (index < 0 || index >= treeSize || !MerkleHash.isHash(leafHash) || !MerkleHash.isHash(root)
                || !allHashes(proof)) {
            return false;
        }
        MessageDigest md = MerkleHash.sha256();
        long fn = index;
        long sn = treeSize - 1;
        byte[] r = leafHash.clone();
        for (byte[] p : proof) {
            if (sn == 0) {
                return false;
            }
            if ((fn & 1) == 1 || fn == sn) {
                MerkleHash.nodeHash(md, p, r, r);
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                MerkleHash.nodeHash(md, r, p, r);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && MessageDigest.isEqual(r, root);
    }

    /**
     * Whether {@code proof} shows that the tree of {@code oldSize} leaves with {@code oldRoot} is a prefix of the tree
     * of {@code newSize} leaves with {@code newRoot}. Beyond the RFC, which covers {@code 0 < oldSize < newSize}: equal
     * sizes need an empty proof and equal roots; an empty old tree needs an empty proof and the empty root.
     */
    public static boolean verifyConsistency(long oldSize, long newSize, byte[] oldRoot, byte[] newRoot,
            List<byte[]> proof) {
        if (oldSize < 0 || newSize < oldSize || !MerkleHash.isHash(oldRoot) || !MerkleHash.isHash(newRoot)
                || !allHashes(proof)) {
            return false;
        }
        byte[] empty = MerkleHash.emptyRoot();
        if (oldSize == 0) {
            return proof.isEmpty() && MessageDigest.isEqual(oldRoot, empty)
                    && (newSize > 0 || MessageDigest.isEqual(newRoot, empty));
        }
        if (oldSize == newSize) {
            return proof.isEmpty() && MessageDigest.isEqual(oldRoot, newRoot);
        }
        if (proof.isEmpty()) {
            return false;
        }
        MessageDigest md = MerkleHash.sha256();
        boolean oldIsPowerOfTwo = Long.bitCount(oldSize) == 1;
        long fn = oldSize - 1;
        long sn = newSize - 1;
        while ((fn & 1) == 1) {
            fn >>= 1;
            sn >>= 1;
        }
        byte[] first = oldIsPowerOfTwo ? oldRoot : proof.get(0);
        byte[] fr = first.clone();
        byte[] sr = first.clone();
        for (int i = oldIsPowerOfTwo ? 0 : 1; i < proof.size(); i++) {
            byte[] c = proof.get(i);
            if (sn == 0) {
                return false;
            }
            if ((fn & 1) == 1 || fn == sn) {
                MerkleHash.nodeHash(md, c, fr, fr);
                MerkleHash.nodeHash(md, c, sr, sr);
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                MerkleHash.nodeHash(md, sr, c, sr);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && MessageDigest.isEqual(fr, oldRoot) && MessageDigest.isEqual(sr, newRoot);
    }

    private static boolean allHashes(List<byte[]> proof) {
        if (proof == null) {
            return false;
        }
        for (byte[] p : proof) {
            if (!MerkleHash.isHash(p)) {
                return false;
            }
        }
        return true;
    }
}
