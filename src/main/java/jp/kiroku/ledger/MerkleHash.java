package jp.kiroku.ledger;

import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The hashes of RFC 6962 §2.1 / RFC 9162 §2.1, with SHA-256. The 0x00 and 0x01 prefixes keep a leaf from ever hashing
 * like an inner node (second-preimage resistance): nobody can pass a subtree off as a leaf, or a leaf as a subtree.
 */
public final class MerkleHash {

    /** Length in bytes of every leaf, node and root hash. */
    public static final int SIZE = 32;

    static final byte LEAF_PREFIX = 0x00;
    static final byte NODE_PREFIX = 0x01;

    private static final byte[] EMPTY_ROOT = sha256().digest();

    /** Looking SHA-256 up costs more than hashing a leaf; each thread keeps one. */
    private static final ThreadLocal<MessageDigest> DIGEST = ThreadLocal.withInitial(MerkleHash::sha256);

    private MerkleHash() {
    }

    /** SHA-256(0x00 || leaf): the hash of one log entry. */
    public static byte[] leafHash(byte[] leaf) {
        MessageDigest md = DIGEST.get();
        md.reset(); // in case a call failed halfway (a null argument) and left input behind
        md.update(LEAF_PREFIX);
        md.update(leaf);
        return md.digest();
    }

    /** SHA-256(0x01 || left || right): the hash of an inner node. */
    public static byte[] nodeHash(byte[] left, byte[] right) {
        byte[] out = new byte[SIZE];
        MessageDigest md = DIGEST.get();
        md.reset();
        nodeHash(md, left, right, out);
        return out;
    }

    /** SHA-256 of no bytes: the root of a log with no entries. */
    public static byte[] emptyRoot() {
        return EMPTY_ROOT.clone();
    }

    /** The node hash written into {@code out}, which may be {@code left} or {@code right}: no allocation. */
    static void nodeHash(MessageDigest md, byte[] left, byte[] right, byte[] out) {
        md.update(NODE_PREFIX);
        md.update(left);
        md.update(right);
        try {
            md.digest(out, 0, SIZE);
        } catch (DigestException e) {
            throw new IllegalStateException("SHA-256 into a " + out.length + "-byte buffer", e);
        }
    }

    static boolean isHash(byte[] b) {
        return b != null && b.length == SIZE;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("Every Java runtime has SHA-256", e);
        }
    }
}
