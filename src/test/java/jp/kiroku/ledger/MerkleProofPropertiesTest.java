package jp.kiroku.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Every inclusion and consistency proof of every tree of 1..64 leaves verifies, and none verifies once anything in it
 * is altered: a bit of a proof hash, of the leaf, of either root, of the index or of a size, or hashes added, removed
 * or inserted. Roots come from {@link Rfc6962#mth}, not from the code under test. (Bits flipped per hash: one in each
 * byte, a different one in each case, so that every bit position is hit across the run without 256 runs per hash.)
 */
@Tag("LOG-02")
@Tag("INTEG-03")
class MerkleProofPropertiesTest {

    static final int MAX = 64;
    /** Leaves beyond MAX give authentic roots for the larger sizes a flipped size bit may claim. */
    static final int LEAVES = 2 * MAX;

    static final List<byte[]> LEAF_HASHES = new ArrayList<>();
    static final byte[][] ROOTS = new byte[LEAVES + 1][];

    static {
        Random random = new Random(20240601);
        for (int i = 0; i < LEAVES; i++) {
            byte[] h = new byte[MerkleHash.SIZE];
            random.nextBytes(h);
            LEAF_HASHES.add(h);
        }
        for (int n = 0; n <= LEAVES; n++) {
            ROOTS[n] = Rfc6962.mth(LEAF_HASHES.subList(0, n));
        }
    }

    static final LeafHashSource SOURCE = LeafHashSource.of(LEAF_HASHES);

    @Test
    void everyInclusionProofVerifiesAndNoAlteredOneDoes() {
        int checked = 0;
        for (int n = 1; n <= MAX; n++) {
            for (int i = 0; i < n; i++) {
                List<byte[]> proof = MerkleTree.inclusionProof(SOURCE, i, n);
                byte[] leaf = LEAF_HASHES.get(i);
                assertThat(MerkleProofs.verifyInclusion(i, n, leaf, proof, ROOTS[n])).as("PATH(%d, D[%d])", i, n)
                        .isTrue();
                int seed = i + n;
                for (int e = 0; e < proof.size(); e++) {
                    for (byte[] bad : flips(proof.get(e), seed + e)) {
                        assertRejected(i, n, leaf, replace(proof, e, bad), ROOTS[n], "proof[" + e + "] bit flipped");
                    }
                }
                for (byte[] bad : flips(leaf, seed)) {
                    assertRejected(i, n, bad, proof, ROOTS[n], "leaf bit flipped");
                }
                for (byte[] bad : flips(ROOTS[n], seed)) {
                    assertRejected(i, n, leaf, proof, bad, "root bit flipped");
                }
                for (int bit = 0; bit < Long.SIZE; bit++) {
                    assertRejected(i ^ (1L << bit), n, leaf, proof, ROOTS[n], "index bit " + bit + " flipped");
                    long size = n ^ (1L << bit);
                    assertRejected(i, size, leaf, proof, rootOf(size, n), "size bit " + bit + " flipped");
                }
                for (List<byte[]> bad : reshaped(proof, ROOTS[n])) {
                    assertRejected(i, n, leaf, bad, ROOTS[n], "hashes added or removed");
                }
                checked++;
            }
        }
        assertThat(checked).isEqualTo(MAX * (MAX + 1) / 2);
    }

    @Test
    void everyConsistencyProofVerifiesAndNoAlteredOneDoes() {
        int checked = 0;
        for (int n = 1; n <= MAX; n++) {
            for (int m = 0; m <= n; m++) {
                List<byte[]> proof = MerkleTree.consistencyProof(SOURCE, m, n);
                assertThat(MerkleProofs.verifyConsistency(m, n, ROOTS[m], ROOTS[n], proof))
                        .as("PROOF(%d, D[%d])", m, n).isTrue();
                int seed = m + n;
                for (byte[] bad : flips(ROOTS[m], seed)) {
                    assertRejected(m, n, bad, ROOTS[n], proof, "old root bit flipped");
                }
                checked++;
                if (m == 0) {
                    // The empty tree is a prefix of every tree: nothing binds the new size or root; see below.
                    assertThat(proof).isEmpty();
                    continue;
                }
                for (byte[] bad : flips(ROOTS[n], seed)) {
                    assertRejected(m, n, ROOTS[m], bad, proof, "new root bit flipped");
                }
                for (int e = 0; e < proof.size(); e++) {
                    for (byte[] bad : flips(proof.get(e), seed + e)) {
                        assertRejected(m, n, ROOTS[m], ROOTS[n], replace(proof, e, bad), "proof[" + e + "] flipped");
                    }
                }
                for (int bit = 0; bit < Long.SIZE; bit++) {
                    long oldSize = m ^ (1L << bit);
                    if (oldSize != 0) { // "from the empty tree" would be a true claim
                        assertRejected(oldSize, n, rootOf(oldSize, m), ROOTS[n], proof, "old size bit " + bit);
                    }
                    long newSize = n ^ (1L << bit);
                    assertRejected(m, newSize, ROOTS[m], rootOf(newSize, n), proof, "new size bit " + bit);
                }
                for (List<byte[]> bad : reshaped(proof, ROOTS[m], ROOTS[n])) {
                    assertRejected(m, n, ROOTS[m], ROOTS[n], bad, "hashes added or removed");
                }
            }
        }
        assertThat(checked).isEqualTo(MAX * (MAX + 1) / 2 + MAX);
    }

    @Test
    void fromTheEmptyTreeOnlyTheOldRootIsBound() {
        assertThat(MerkleProofs.verifyConsistency(0, 5, ROOTS[0], ROOTS[5], List.of())).isTrue();
        assertThat(MerkleProofs.verifyConsistency(0, 5, ROOTS[0], ROOTS[6], List.of())).isTrue();
        assertThat(MerkleProofs.verifyConsistency(0, 5, ROOTS[1], ROOTS[5], List.of())).isFalse();
        assertThat(MerkleProofs.verifyConsistency(0, 5, ROOTS[0], ROOTS[5], List.of(ROOTS[0]))).isFalse();
    }

    /**
     * Why the size flips above pair each claimed size with that size's own root: RFC 9162 verification binds the size
     * only through the root. PATH(0, D[5]) = [h1, MTH(D[2:4]), h4] combines exactly as a path for leaf 0 of a 6- or
     * 7-leaf tree would, so against the 5-leaf root it "verifies" for those sizes too. Callers must take size and root
     * together from one signed checkpoint.
     */
    @Test
    void aProofBindsTheSizeOnlyThroughTheRoot() {
        List<byte[]> path = MerkleTree.inclusionProof(SOURCE, 0, 5);
        byte[] leaf = LEAF_HASHES.get(0);
        assertThat(MerkleProofs.verifyInclusion(0, 6, leaf, path, ROOTS[5])).isTrue();
        assertThat(MerkleProofs.verifyInclusion(0, 6, leaf, path, ROOTS[6])).isFalse();
        List<byte[]> consistency = MerkleTree.consistencyProof(SOURCE, 4, 5); // [h4]
        assertThat(MerkleProofs.verifyConsistency(4, 6, ROOTS[4], ROOTS[5], consistency)).isTrue();
        assertThat(MerkleProofs.verifyConsistency(4, 6, ROOTS[4], ROOTS[6], consistency)).isFalse();
    }

    /** So that a database-backed source can store and reuse the subtree hashes it is asked for. */
    @Test
    void proofsAskTheSourceOnlyForCompleteSubtrees() {
        List<long[]> asked = new ArrayList<>();
        LeafHashSource recording = new LeafHashSource() {
            @Override
            public long size() {
                return SOURCE.size();
            }

            @Override
            public byte[] leafHash(long index) {
                return SOURCE.leafHash(index);
            }

            @Override
            public byte[] subtreeHash(long start, long count) {
                asked.add(new long[] {start, count});
                return Rfc6962.mth(LEAF_HASHES.subList((int) start, (int) (start + count)));
            }
        };
        for (int n = 1; n <= MAX; n++) {
            for (int i = 0; i < n; i++) {
                assertThat(MerkleProofs.verifyInclusion(i, n, LEAF_HASHES.get(i),
                        MerkleTree.inclusionProof(recording, i, n), ROOTS[n])).isTrue();
            }
            for (int m = 0; m <= n; m++) {
                assertThat(MerkleProofs.verifyConsistency(m, n, ROOTS[m], ROOTS[n],
                        MerkleTree.consistencyProof(recording, m, n))).isTrue();
            }
        }
        assertThat(asked).isNotEmpty().allSatisfy(r -> {
            assertThat(Long.bitCount(r[1])).as("count %d is a power of two", r[1]).isEqualTo(1);
            assertThat(r[0] % r[1]).as("start %d is a multiple of count %d", r[0], r[1]).isZero();
        });
    }

    @Test
    void impossibleProofRequestsAreRefused() {
        assertThatThrownBy(() -> MerkleTree.inclusionProof(SOURCE, 5, 5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MerkleTree.inclusionProof(SOURCE, -1, 5))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MerkleTree.inclusionProof(SOURCE, 0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MerkleTree.inclusionProof(SOURCE, 0, LEAVES + 1))
                .hasMessageContaining("the log has " + LEAVES);
        assertThatThrownBy(() -> MerkleTree.consistencyProof(SOURCE, 6, 5))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MerkleTree.consistencyProof(SOURCE, 1, LEAVES + 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static void assertRejected(long index, long size, byte[] leaf, List<byte[]> proof, byte[] root,
            String what) {
        assertThat(MerkleProofs.verifyInclusion(index, size, leaf, proof, root))
                .as("inclusion of leaf %d in %d leaves accepted with %s", index, size, what).isFalse();
    }

    private static void assertRejected(long oldSize, long newSize, byte[] oldRoot, byte[] newRoot, List<byte[]> proof,
            String what) {
        assertThat(MerkleProofs.verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof))
                .as("consistency %d -> %d accepted with %s", oldSize, newSize, what).isFalse();
    }

    /** The authentic root of a claimed size where the test has one, else the original (sizes far out of range). */
    private static byte[] rootOf(long claimedSize, int originalSize) {
        return claimedSize >= 0 && claimedSize <= LEAVES ? ROOTS[(int) claimedSize] : ROOTS[originalSize];
    }

    /** 32 copies of {@code hash}, copy j with one bit of byte j flipped. */
    private static List<byte[]> flips(byte[] hash, int seed) {
        List<byte[]> out = new ArrayList<>();
        for (int j = 0; j < hash.length; j++) {
            byte[] bad = hash.clone();
            bad[j] ^= (byte) (1 << ((seed + j) % 8));
            out.add(bad);
        }
        return out;
    }

    private static List<byte[]> replace(List<byte[]> proof, int index, byte[] hash) {
        List<byte[]> out = new ArrayList<>(proof);
        out.set(index, hash);
        return out;
    }

    /** The proof with a hash appended or prepended (including known roots), or its first or last hash removed. */
    private static List<List<byte[]>> reshaped(List<byte[]> proof, byte[]... extras) {
        List<List<byte[]>> out = new ArrayList<>();
        List<byte[]> candidates = new ArrayList<>(List.of(extras));
        candidates.add(new byte[MerkleHash.SIZE]);
        if (!proof.isEmpty()) {
            candidates.add(proof.get(0));
            out.add(proof.subList(1, proof.size()));
            out.add(proof.subList(0, proof.size() - 1));
        }
        for (byte[] c : candidates) {
            List<byte[]> appended = new ArrayList<>(proof);
            appended.add(c);
            out.add(appended);
            List<byte[]> prepended = new ArrayList<>(proof);
            prepended.add(0, c);
            out.add(prepended);
        }
        out.add(List.of(new byte[0]));
        return out;
    }
}
