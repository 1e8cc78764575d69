package jp.kiroku.ledger;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;

/**
 * The canonical bytes of a ledger leaf: a format byte, then each field in a fixed order as a 4-byte big-endian length
 * and its bytes (-1 for null). Unambiguous (no field can run into the next) and independent of any library's
 * serialisation, so that a leaf recomputed years later from the same stored columns has the same hash.
 */
public final class LeafEncoder {

    // a plain array, not a ByteArrayOutputStream: its synchronized write per byte and its growth by small steps were
    // a third of `kiroku verify`'s CPU (JFR, bench/RESULTS.md 2026-12-07)
    private byte[] buf = new byte[256];
    private int size;

    private LeafEncoder(int format) {
        put(format);
    }

    /** A leaf of the given format (one per leaf source and version of its layout). */
    public static LeafEncoder format(int format) {
        return new LeafEncoder(format);
    }

    public LeafEncoder text(String value) {
        return bytes(value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    public LeafEncoder bytes(byte[] value) {
        if (value == null) {
            return int32(-1);
        }
        int32(value.length);
        room(value.length);
        System.arraycopy(value, 0, buf, size, value.length);
        size += value.length;
        return this;
    }

    public LeafEncoder number(long value) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            put((int) (value >>> shift));
        }
        return this;
    }

    /** A nullable number (e.g. a version that an event does not name). */
    public LeafEncoder number(Long value) {
        if (value == null) {
            return int32(-1);
        }
        int32(8);
        return number(value.longValue());
    }

    public LeafEncoder flag(boolean value) {
        put(value ? 1 : 0);
        return this;
    }

    public LeafEncoder texts(Collection<String> values) {
        int32(values.size());
        values.forEach(this::text);
        return this;
    }

    public byte[] toBytes() {
        return Arrays.copyOf(buf, size);
    }

    private LeafEncoder int32(int v) {
        put(v >>> 24);
        put(v >>> 16);
        put(v >>> 8);
        put(v);
        return this;
    }

    private void put(int b) {
        room(1);
        buf[size++] = (byte) b;
    }

    private void room(int n) {
        if (size + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + n));
        }
    }
}
