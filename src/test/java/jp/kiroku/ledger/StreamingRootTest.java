package jp.kiroku.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The streaming root against the RFC's recursive MTH (written independently in {@link Rfc6962}). */
class StreamingRootTest {

    static List<byte[]> randomLeafHashes(int n, long seed) {
        Random random = new Random(seed);
        List<byte[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte[] h = new byte[MerkleHash.SIZE];
            random.nextBytes(h);
            out.add(h);
        }
        return out;
    }

    @Test
    void streamingRootIsTheRecursiveRootAtEverySize() {
        List<byte[]> leaves = randomLeafHashes(300, 1);
        StreamingRoot stream = new StreamingRoot();
        assertThat(stream.root()).isEqualTo(Rfc6962.mth(List.of()));
        for (int n = 1; n <= leaves.size(); n++) {
            stream.append(leaves.get(n - 1));
            byte[] expected = Rfc6962.mth(leaves.subList(0, n));
            assertThat(stream.size()).isEqualTo(n);
            assertThat(stream.root()).as("streaming, size %d", n).isEqualTo(expected);
            assertThat(MerkleTree.root(leaves.subList(0, n))).as("recursive, size %d", n).isEqualTo(expected);
        }
    }

    @Test
    void streamingRootIsTheRecursiveRootAroundPowersOfTwo() {
        List<byte[]> leaves = randomLeafHashes(10_000, 2);
        List<Integer> sizes = List.of(1023, 1024, 1025, 4095, 4096, 4097, 8191, 8192, 8193, 10_000);
        StreamingRoot stream = new StreamingRoot();
        for (int n = 1; n <= leaves.size(); n++) {
            stream.append(leaves.get(n - 1));
            if (sizes.contains(n)) {
                assertThat(stream.root()).as("size %d", n).isEqualTo(Rfc6962.mth(leaves.subList(0, n)));
            }
        }
    }

    @Test
    void rootsAtEarlierSizesAreKeptWhenAskedForInAdvance() {
        List<byte[]> leaves = randomLeafHashes(2000, 3);
        StreamingRoot stream = new StreamingRoot();
        stream.captureRootAt(0);
        for (long m : new long[] {1000, 1, 64, 5, 2000}) {
            stream.captureRootAt(m);
        }
        for (byte[] leaf : leaves) {
            stream.append(leaf);
        }
        assertThat(stream.rootAt(0)).isEqualTo(Rfc6962.mth(List.of()));
        for (int m : new int[] {1, 5, 64, 1000, 2000}) {
            assertThat(stream.rootAt(m)).as("root at %d", m).isEqualTo(Rfc6962.mth(leaves.subList(0, m)));
        }
        assertThat(stream.root()).isEqualTo(Rfc6962.mth(leaves));
        stream.captureRootAt(2000);
        assertThat(stream.rootAt(2000)).isEqualTo(Rfc6962.mth(leaves));
    }

    @Test
    void rootsNotAskedForOrNotReachedAreRefused() {
        StreamingRoot stream = new StreamingRoot();
        stream.captureRootAt(10);
        for (byte[] leaf : randomLeafHashes(5, 4)) {
            stream.append(leaf);
        }
        assertThatThrownBy(() -> stream.rootAt(10)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not yet 10");
        assertThatThrownBy(() -> stream.rootAt(3)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not asked for");
        assertThatThrownBy(() -> stream.captureRootAt(4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("already past 4");
        assertThatThrownBy(() -> stream.append(new byte[31])).isInstanceOf(IllegalArgumentException.class);
        assertThat(stream.size()).isEqualTo(5);
    }

    @Test
    void returnedRootsAreCopies() {
        StreamingRoot stream = new StreamingRoot();
        stream.captureRootAt(1);
        stream.append(new byte[MerkleHash.SIZE]);
        byte[] expected = Rfc6962.mth(List.of(new byte[MerkleHash.SIZE]));
        stream.root()[0] ^= 1;
        stream.rootAt(1)[0] ^= 1;
        assertThat(stream.root()).isEqualTo(expected);
        assertThat(stream.rootAt(1)).isEqualTo(expected);
    }
}
