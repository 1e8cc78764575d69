/*
 * Ledger streaming-root rate (single-file Java 17 program over the compiled classes; one thread):
 *
 *   mvn -o -q compile && java -cp target/classes bench/ledger/MerkleRate.java [leaves] [rounds]
 *
 * Recomputes the root of a tree of N leaves (default 5,000,000) from leaf hashes held in memory with StreamingRoot,
 * as the verification job will with hashes read from the database (reading them is not timed here), and prints
 * entries/s for each round; the first round includes JIT warm-up. It then checks the root against the recursive MTH
 * (MerkleTree.root), and times one round that also computes each leaf hash from a 32-byte entry (MerkleHash.leafHash).
 * Not a unit test: timings depend on the machine and its load.
 */

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;

import jp.kiroku.ledger.MerkleHash;
import jp.kiroku.ledger.MerkleTree;
import jp.kiroku.ledger.StreamingRoot;

public class MerkleRate {

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 5_000_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        byte[][] leaves = new byte[n][];
        Random random = new Random(1);
        for (int i = 0; i < n; i++) {
            leaves[i] = new byte[MerkleHash.SIZE];
            random.nextBytes(leaves[i]);
        }
        System.out.printf("%s %s, %d leaves%n", System.getProperty("java.vm.name"), System.getProperty("java.version"),
                n);

        byte[] root = null;
        for (int r = 1; r <= rounds; r++) {
            long t0 = System.nanoTime();
            StreamingRoot stream = new StreamingRoot();
            for (byte[] leaf : leaves) {
                stream.append(leaf);
            }
            byte[] got = stream.root();
            report("round " + r + ", from leaf hashes", n, System.nanoTime() - t0);
            if (root != null && !Arrays.equals(root, got)) {
                throw new AssertionError("rounds disagree");
            }
            root = got;
        }

        boolean same = Arrays.equals(root, MerkleTree.root(Arrays.asList(leaves)));
        System.out.printf("root %s, recursive MTH agrees: %s%n", HexFormat.of().formatHex(root), same);

        long t0 = System.nanoTime();
        StreamingRoot stream = new StreamingRoot();
        for (byte[] entry : leaves) {
            stream.append(MerkleHash.leafHash(entry));
        }
        report("with leaf hashing of 32-byte entries", n, System.nanoTime() - t0);
        stream.root();
    }

    private static void report(String what, int n, long nanos) {
        System.out.printf("%-40s %8.0f ms  %,12.0f entries/s%n", what, nanos / 1e6, n / (nanos / 1e9));
    }
}
