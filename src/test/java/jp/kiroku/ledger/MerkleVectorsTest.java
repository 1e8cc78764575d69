package jp.kiroku.ledger;

import static jp.kiroku.ledger.Rfc6962.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Known answers from the Certificate Transparency test data, as published in github.com/transparency-dev/merkle (the
 * successor of Trillian's merkle/rfc6962 package): testonly/constants.go (leaf inputs, every complete-subtree hash,
 * roots of sizes 0..8), proof/verify_test.go (hash-level inclusion and consistency proofs), proof/proof_test.go (which
 * nodes make up a proof, translated here into hashes through the subtree table) and rfc6962/rfc6962_test.go (the
 * hasher). None of the expected values was produced by the code under test.
 */
class MerkleVectorsTest {

    /** testonly.LeafInputs(). */
    static final List<byte[]> INPUTS = List.of(hex(""), hex("00"), hex("10"), hex("2021"), hex("3031"),
            hex("40414243"), hex("5051525354555657"), hex("606162636465666768696a6b6c6d6e6f"));

    /** testonly.RootHashes(): index = tree size. */
    static final String[] ROOTS = {
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    };

    /** testonly.NodeHashes(): [level][index] of every complete subtree of the 8-leaf tree; level 0 = leaf hashes. */
    static final String[][] NODES = {{
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    }, {
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    }, {
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    }, {
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    }};

    static byte[] node(int level, int index) {
        return hex(NODES[level][index]);
    }

    /** The 7-leaf tree's right subtree over leaves 4..6, "l = hash(i, j)" in proof_test.go, where the table stops. */
    static final byte[] L7 = Rfc6962.node(node(1, 2), node(0, 6));

    static List<byte[]> leafHashes(int n) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(MerkleHash.leafHash(INPUTS.get(i)));
        }
        return out;
    }

    static final LeafHashSource CT_LEAVES = LeafHashSource.of(leafHashes(8));

    static List<String> hexes(List<byte[]> hashes) {
        return hashes.stream().map(Rfc6962::hex).toList();
    }

    static List<String> hexes(byte[]... hashes) {
        return hexes(Arrays.asList(hashes));
    }

    @Test
    void hasherMatchesTheRfc6962HasherVectors() {
        // rfc6962_test.go: echo -n | sha256sum; echo -n 00 | xxd -r -p | sha256sum; ...
        assertThat(hex(MerkleHash.emptyRoot()))
                .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assertThat(hex(MerkleHash.leafHash(new byte[0])))
                .isEqualTo("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
        assertThat(hex(MerkleHash.leafHash("L123456".getBytes(StandardCharsets.US_ASCII))))
                .isEqualTo("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56");
        assertThat(hex(MerkleHash.nodeHash("N123".getBytes(StandardCharsets.US_ASCII),
                "N456".getBytes(StandardCharsets.US_ASCII))))
                .isEqualTo("aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb");
    }

    @Test
    void aFailedHashLeavesNothingBehindForTheNext() {
        assertThatThrownBy(() -> MerkleHash.leafHash(null)).isInstanceOf(RuntimeException.class);
        assertThatThrownBy(() -> MerkleHash.nodeHash(node(0, 0), null)).isInstanceOf(RuntimeException.class);
        assertThat(hex(MerkleHash.leafHash(new byte[0]))).isEqualTo(NODES[0][0]);
        assertThat(hex(MerkleHash.nodeHash(node(0, 0), node(0, 1)))).isEqualTo(NODES[1][0]);
    }

    @Test
    void leafAndSubtreeHashesMatchTheTable() {
        assertThat(hexes(leafHashes(8))).containsExactly(NODES[0]);
        for (int level = 1; level < NODES.length; level++) {
            for (int i = 0; i < NODES[level].length; i++) {
                assertThat(hex(MerkleHash.nodeHash(node(level - 1, 2 * i), node(level - 1, 2 * i + 1))))
                        .as("level %d index %d", level, i).isEqualTo(NODES[level][i]);
                assertThat(hex(MerkleTree.rangeHash(CT_LEAVES, (long) i << level, (long) (i + 1) << level)))
                        .isEqualTo(NODES[level][i]);
            }
        }
    }

    @Test
    void rootsOfSizes0To8() {
        StreamingRoot stream = new StreamingRoot();
        assertThat(hex(stream.root())).isEqualTo(ROOTS[0]);
        assertThat(hex(MerkleTree.root(List.of()))).isEqualTo(ROOTS[0]);
        for (int n = 1; n <= 8; n++) {
            stream.append(MerkleHash.leafHash(INPUTS.get(n - 1)));
            assertThat(hex(stream.root())).as("streaming, size %d", n).isEqualTo(ROOTS[n]);
            assertThat(hex(MerkleTree.root(leafHashes(n)))).as("recursive, size %d", n).isEqualTo(ROOTS[n]);
        }
    }

    /** verify_test.go inclusionProofs; its leaf numbers are 1-based, the indexes here 0-based. */
    @Test
    @Tag("LOG-02")
    @Tag("INTEG-03")
    void inclusionProofsOfVerifyTest() {
        assertInclusion(0, 1, new byte[0][]);
        assertInclusionHex(0, 8, "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4");
        assertInclusionHex(5, 8, "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7");
        assertInclusionHex(2, 3, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125");
        assertInclusionHex(1, 5, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b");
    }

    /** verify_test.go consistencyProofs. */
    @Test
    @Tag("LOG-02")
    @Tag("INTEG-03")
    void consistencyProofsOfVerifyTest() {
        assertConsistency(1, 1, new byte[0][]);
        assertConsistencyHex(1, 8, "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4");
        assertConsistencyHex(6, 8, "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7");
        assertConsistencyHex(2, 5, "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b");
        assertConsistencyHex(6, 7, "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7");
    }

    /**
     * proof_test.go TestInclusion for trees of up to 8 leaves, where each node id(level, index) is a row of the table.
     * Its drawing names the leaves a..f and j, the level-1 nodes g, h, i and the level-2 k, l; its "rehash" nodes
     * combine into l = hash(i, j), {@link #L7}.
     */
    @Test
    @Tag("LOG-02")
    @Tag("INTEG-03")
    void inclusionPathsOfProofTest() {
        assertInclusion(0, 1, new byte[0][]);
        assertInclusion(0, 2, node(0, 1));
        assertInclusion(1, 2, node(0, 0));
        assertInclusion(1, 3, node(0, 0), node(0, 2));
        assertInclusion(0, 7, node(0, 1), node(1, 1), L7);
        assertInclusion(1, 7, node(0, 0), node(1, 1), L7);
        assertInclusion(2, 7, node(0, 3), node(1, 0), L7);
        assertInclusion(3, 7, node(0, 2), node(1, 0), L7);
        assertInclusion(4, 7, node(0, 5), node(0, 6), node(2, 0));
        assertInclusion(5, 7, node(0, 4), node(0, 6), node(2, 0));
        assertInclusion(6, 7, node(1, 2), node(2, 0));
        assertInclusion(2, 4, node(0, 3), node(1, 0));
        assertInclusion(3, 5, node(0, 2), node(1, 0), node(0, 4));
        assertInclusion(3, 6, node(0, 2), node(1, 0), node(1, 2));
        assertInclusion(4, 6, node(0, 5), node(2, 0));
    }

    /** proof_test.go TestConsistency for trees of up to 8 leaves. */
    @Test
    @Tag("LOG-02")
    @Tag("INTEG-03")
    void consistencyProofsOfProofTest() {
        assertConsistency(1, 2, node(0, 1));
        assertConsistency(1, 4, node(0, 1), node(1, 1));
        assertConsistency(1, 6, node(0, 1), node(1, 1), node(1, 2));
        assertConsistency(2, 3, node(0, 2));
        assertConsistency(2, 8, node(1, 1), node(2, 1));
        assertConsistency(3, 7, node(0, 2), node(0, 3), node(1, 0), L7);
        assertConsistency(4, 7, L7);
        assertConsistency(5, 7, node(0, 4), node(0, 5), node(0, 6), node(2, 0));
        assertConsistency(6, 7, node(1, 2), node(0, 6), node(2, 0));
        assertConsistency(7, 8, node(0, 6), node(0, 7), node(1, 2), node(2, 0));
        for (int n : new int[] {1, 2, 3, 4, 5, 7, 8}) {
            assertConsistency(n, n, new byte[0][]);
        }
        assertConsistency(2, 4, node(1, 1));
        assertConsistency(3, 5, node(0, 2), node(0, 3), node(1, 0), node(0, 4));
        assertConsistency(3, 6, node(0, 2), node(0, 3), node(1, 0), node(1, 2));
        assertConsistency(4, 6, node(1, 2));
        assertConsistency(1, 7, node(0, 1), node(1, 1), L7);
    }

    /** verify_test.go TestVerifyInclusionSingleEntry and TestVerifyInclusion's probes with empty proofs. */
    @Test
    @Tag("LOG-02")
    void degenerateInclusionClaimsOfVerifyTest() {
        byte[] hash = Rfc6962.leaf("data".getBytes(StandardCharsets.US_ASCII));
        assertThat(MerkleProofs.verifyInclusion(0, 1, hash, List.of(), hash)).isTrue();
        assertThat(MerkleProofs.verifyInclusion(0, 1, new byte[0], List.of(), hash)).isFalse();
        assertThat(MerkleProofs.verifyInclusion(0, 1, hash, List.of(), new byte[0])).isFalse();
        assertThat(MerkleProofs.verifyInclusion(0, 1, new byte[0], List.of(), new byte[0])).isFalse();

        byte[] some = hex("abacaba000000000000000000000000000000000000000000060061e00123456");
        byte[] emptyTree = hex(ROOTS[0]);
        for (long[] p : new long[][] {{0, 0}, {0, 1}, {1, 0}, {2, 1}}) {
            assertThat(MerkleProofs.verifyInclusion(p[0], p[1], some, List.of(), new byte[0])).isFalse();
            assertThat(MerkleProofs.verifyInclusion(p[0], p[1], new byte[0], List.of(), emptyTree)).isFalse();
            assertThat(MerkleProofs.verifyInclusion(p[0], p[1], some, List.of(), emptyTree)).isFalse();
        }
    }

    /** verify_test.go TestVerifyConsistency's table, except that an empty old tree must have the empty root here. */
    @Test
    @Tag("LOG-02")
    void degenerateConsistencyClaims() {
        byte[] a = Rfc6962.sha256("don't care 1".getBytes(StandardCharsets.US_ASCII));
        byte[] b = Rfc6962.sha256("don't care 2".getBytes(StandardCharsets.US_ASCII));
        byte[] empty = hex(ROOTS[0]);
        List<byte[]> none = List.of();
        List<byte[]> one = List.of(empty);
        assertThat(MerkleProofs.verifyConsistency(1, 1, a, b, none)).as("same size, different roots").isFalse();
        assertThat(MerkleProofs.verifyConsistency(1, 1, b, b, none)).as("same size, same root").isTrue();
        assertThat(MerkleProofs.verifyConsistency(0, 0, empty, empty, none)).isTrue();
        assertThat(MerkleProofs.verifyConsistency(0, 0, a, a, none)).as("size 0 has the empty root").isFalse();
        assertThat(MerkleProofs.verifyConsistency(0, 1, empty, b, none)).as("the empty tree precedes all").isTrue();
        assertThat(MerkleProofs.verifyConsistency(0, 1, a, b, none)).isFalse();
        assertThat(MerkleProofs.verifyConsistency(1, 0, a, b, none)).as("time travel").isFalse();
        assertThat(MerkleProofs.verifyConsistency(2, 1, a, b, none)).isFalse();
        assertThat(MerkleProofs.verifyConsistency(1, 2, a, b, none)).as("empty proof").isFalse();
        assertThat(MerkleProofs.verifyConsistency(1, 1, empty, b, none)).isFalse();
        assertThat(MerkleProofs.verifyConsistency(0, 0, empty, empty, one)).as("roots match, proof not empty")
                .isFalse();
        assertThat(MerkleProofs.verifyConsistency(0, 1, empty, empty, one)).isFalse();
        assertThat(MerkleProofs.verifyConsistency(1, 1, empty, empty, one)).isFalse();
    }

    private static void assertInclusionHex(int index, int size, String... expected) {
        assertInclusion(index, size, Arrays.stream(expected).map(Rfc6962::hex).toArray(byte[][]::new));
    }

    private static void assertInclusion(int index, int size, byte[]... expected) {
        List<byte[]> proof = MerkleTree.inclusionProof(CT_LEAVES, index, size);
        assertThat(hexes(proof)).as("PATH(%d, D[%d])", index, size).isEqualTo(hexes(expected));
        assertThat(MerkleProofs.verifyInclusion(index, size, node(0, index), Arrays.asList(expected),
                hex(ROOTS[size]))).as("verify PATH(%d, D[%d])", index, size).isTrue();
    }

    private static void assertConsistencyHex(int oldSize, int newSize, String... expected) {
        assertConsistency(oldSize, newSize, Arrays.stream(expected).map(Rfc6962::hex).toArray(byte[][]::new));
    }

    private static void assertConsistency(int oldSize, int newSize, byte[]... expected) {
        List<byte[]> proof = MerkleTree.consistencyProof(CT_LEAVES, oldSize, newSize);
        assertThat(hexes(proof)).as("PROOF(%d, D[%d])", oldSize, newSize).isEqualTo(hexes(expected));
        assertThat(MerkleProofs.verifyConsistency(oldSize, newSize, hex(ROOTS[oldSize]), hex(ROOTS[newSize]),
                Arrays.asList(expected))).as("verify PROOF(%d, D[%d])", oldSize, newSize).isTrue();
    }
}
