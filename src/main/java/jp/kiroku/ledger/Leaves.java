package jp.kiroku.ledger;

/** Leaves the ledger writes itself. */
final class Leaves {

    /** Format byte of a placeholder leaf: the queued row was gone when the sequencer came to it. */
    static final int MISSING = 0xFF;

    private Leaves() {
    }

    static byte[] missing(long seq) {
        return LeafEncoder.format(MISSING).number(seq).toBytes();
    }
}
