package jp.kiroku.ledger;

import java.util.List;

/**
 * The leaf hashes of a log, as proof generation reads them.
 *
 * <p>Proofs are made of the hashes of complete subtrees, and {@link #subtreeHash} is only ever asked for those: {@code
 * count} a power of two and {@code start} a multiple of it. Such a hash never changes once the log has grown past the
 * subtree, so a database-backed source can store it and answer without rereading {@code count} leaves.
 */
public interface LeafHashSource {

    /** Number of leaves in the log. */
    long size();

    /** The hash of leaf {@code index} (0-based). */
    byte[] leafHash(long index);

    /** MTH of the complete subtree of leaves {@code [start, start + count)}; by default computed from its leaves. */
    default byte[] subtreeHash(long start, long count) {
        if (count == 1) {
            return leafHash(start);
        }
        StreamingRoot r = new StreamingRoot();
        for (long i = start; i < start + count; i++) {
            r.append(leafHash(i));
        }
        return r.root();
    }

    /** The leaf hashes held in memory (the list is not copied). */
    static LeafHashSource of(List<byte[]> leafHashes) {
        return new LeafHashSource() {
            @Override
            public long size() {
                return leafHashes.size();
            }

            @Override
            public byte[] leafHash(long index) {
                return leafHashes.get(Math.toIntExact(index));
            }
        };
    }
}
