package jp.kiroku.ledger;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collection;

/**
 * The canonical bytes of a ledger leaf: a format byte, then each field in a fixed order as a 4-byte big-endian length
 * and its bytes (-1 for null). Unambiguous (no field can run into the next) and independent of any library's
 * serialisation, so that a leaf recomputed years later from the same stored columns has the same hash.
 */
public final class LeafEncoder {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream(256);

    private LeafEncoder(int format) {
        out.write(format);
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
        out.writeBytes(value);
        return this;
    }

    public LeafEncoder number(long value) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            out.write((int) (value >>> shift));
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
        out.write(value ? 1 : 0);
        return this;
    }

    public LeafEncoder texts(Collection<String> values) {
        int32(values.size());
        values.forEach(this::text);
        return this;
    }

    public byte[] toBytes() {
        return out.toByteArray();
    }

    private LeafEncoder int32(int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
        return this;
    }
}
