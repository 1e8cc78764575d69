package jp.kiroku.backup;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Reads rows of PostgreSQL's binary COPY format (as a backup stores them), field by field: how verification reads
 * the ledger entries of a backup without restoring it.
 */
final class CopyRows implements AutoCloseable {

    private static final byte[] SIGNATURE = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0};

    private final DataInputStream in;

    CopyRows(InputStream in) throws IOException {
        this.in = new DataInputStream(in);
        byte[] sig = new byte[SIGNATURE.length];
        this.in.readFully(sig);
        if (!Arrays.equals(sig, SIGNATURE)) {
            throw new IOException("not a binary COPY stream");
        }
        this.in.readInt(); // flags
        this.in.skipNBytes(this.in.readInt()); // header extension
    }

    /** The next row's fields (null for SQL NULL), or null after the last row. */
    byte[][] next() throws IOException {
        short fields;
        try {
            fields = in.readShort();
        } catch (EOFException e) {
            throw new IOException("the COPY stream ends without its trailer");
        }
        if (fields == -1) {
            return null;
        }
        byte[][] row = new byte[fields][];
        for (int i = 0; i < fields; i++) {
            int len = in.readInt();
            if (len >= 0) {
                row[i] = in.readNBytes(len);
                if (row[i].length != len) {
                    throw new IOException("the COPY stream ends inside a row");
                }
            }
        }
        return row;
    }

    static long int8(byte[] field) {
        return java.nio.ByteBuffer.wrap(field).getLong();
    }

    static int int2(byte[] field) {
        return java.nio.ByteBuffer.wrap(field).getShort();
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
