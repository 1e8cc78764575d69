package jp.kiroku.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The leaf layout written out by hand from its definition (format byte; each field a 4-byte big-endian length and
 * its bytes, -1 for null; numbers as 8 bytes): leaves stored years ago must hash the same when recomputed.
 */
@Tag("INTEG-03")
class LeafEncoderTest {

    @Test
    void fieldsAreLengthPrefixedBigEndianInTheirOrder() {
        byte[] leaf = LeafEncoder.format(7).text("ab").bytes(null).number(0x0102L).number((Long) null).number(Long.valueOf(3))
                .flag(true).texts(List.of("x", "日")).toBytes();
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.write(7);
        expected.writeBytes(new byte[] {0, 0, 0, 2, 'a', 'b'});
        expected.writeBytes(new byte[] {-1, -1, -1, -1});
        expected.writeBytes(new byte[] {0, 0, 0, 0, 0, 0, 1, 2});
        expected.writeBytes(new byte[] {-1, -1, -1, -1});
        expected.writeBytes(new byte[] {0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 3});
        expected.write(1);
        expected.writeBytes(new byte[] {0, 0, 0, 2, 0, 0, 0, 1, 'x', 0, 0, 0, 3});
        expected.writeBytes("日".getBytes(StandardCharsets.UTF_8));
        assertThat(leaf).isEqualTo(expected.toByteArray());
    }

    @Test
    void longFieldsGrowTheLeafWithoutLosingBytes() {
        String big = "0123456789".repeat(100); // beyond the first buffer
        byte[] leaf = LeafEncoder.format(1).text(big).text(big).toBytes();
        assertThat(leaf).hasSize(1 + 2 * (4 + 1000));
        assertThat(new String(leaf, 5, 1000, StandardCharsets.US_ASCII)).isEqualTo(big);
        assertThat(new String(leaf, 1009, 1000, StandardCharsets.US_ASCII)).isEqualTo(big);
        assertThat(new byte[] {leaf[1005], leaf[1006], leaf[1007], leaf[1008]}).isEqualTo(new byte[] {0, 0, 3, (byte) 0xe8});
    }
}
