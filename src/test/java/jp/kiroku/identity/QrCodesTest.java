package jp.kiroku.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import com.google.zxing.BinaryBitmap;
import com.google.zxing.DecodeHintType;
import com.google.zxing.RGBLuminanceSource;
import com.google.zxing.common.HybridBinarizer;
import com.google.zxing.qrcode.QRCodeReader;

/** The SVG is read back the way a phone would: drawn as pixels, then decoded by ZXing's reader. */
@Tag("AUTH-07")
class QrCodesTest {

    private static final Pattern VIEW_BOX = Pattern.compile("viewBox=\"0 0 (\\d+) (\\d+)\"");
    private static final Pattern PATH = Pattern.compile("<path fill=\"#000\" d=\"([^\"]*)\"/>");
    private static final Pattern RUN = Pattern.compile("M(\\d+) (\\d+)h(\\d+)v1h-\\3z");
    private static final int SCALE = 4;

    @Test
    void anOtpauthUriRoundTrips() throws Exception {
        String uri = Totp.otpauthUri("記録病院", "山田 太郎", Totp.newSecret());
        String svg = QrCodes.svg(uri);
        assertThat(decode(svg)).isEqualTo(uri);
        assertThat(svg).startsWith("<svg ").endsWith("</svg>").contains("shape-rendering=\"crispEdges\"")
                .doesNotContain("<script").doesNotContain("href").doesNotContain("data:");
    }

    @Test
    void nonAsciiTextRoundTripsAsUtf8() throws Exception {
        assertThat(decode(QrCodes.svg("記録病院 — Kiroku"))).isEqualTo("記録病院 — Kiroku");
    }

    @Test
    void everyDarkModuleLiesInsideAFourModuleQuietZone() {
        String svg = QrCodes.svg("otpauth://totp/Kiroku:a?secret=MZXW6");
        int size = viewBoxSize(svg);
        Matcher run = RUN.matcher(path(svg));
        int minX = Integer.MAX_VALUE, minY = Integer.MAX_VALUE, maxX = 0, maxY = 0;
        while (run.find()) {
            int x = Integer.parseInt(run.group(1)), y = Integer.parseInt(run.group(2));
            minX = Math.min(minX, x);
            minY = Math.min(minY, y);
            maxX = Math.max(maxX, x + Integer.parseInt(run.group(3)));
            maxY = Math.max(maxY, y + 1);
        }
        assertThat(new int[] { minX, minY, size - maxX, size - maxY }).containsOnly(4);
    }

    /** Rasterises our own SVG format (a viewBox, one path of 1-module-high runs) and decodes it. */
    private static String decode(String svg) throws Exception {
        int size = viewBoxSize(svg);
        int pixels = size * SCALE;
        int[] argb = new int[pixels * pixels];
        Arrays.fill(argb, 0xFFFFFFFF);
        String d = path(svg);
        Matcher run = RUN.matcher(d);
        int consumed = 0;
        while (run.find()) {
            assertThat(run.start()).as("path commands are all runs").isEqualTo(consumed);
            consumed = run.end();
            int x = Integer.parseInt(run.group(1)), y = Integer.parseInt(run.group(2));
            int length = Integer.parseInt(run.group(3));
            for (int py = y * SCALE; py < (y + 1) * SCALE; py++) {
                Arrays.fill(argb, py * pixels + x * SCALE, py * pixels + (x + length) * SCALE, 0xFF000000);
            }
        }
        assertThat(consumed).as("path commands are all runs").isEqualTo(d.length());
        BinaryBitmap bitmap = new BinaryBitmap(new HybridBinarizer(new RGBLuminanceSource(pixels, pixels, argb)));
        return new QRCodeReader().decode(bitmap, Map.of(DecodeHintType.TRY_HARDER, Boolean.TRUE)).getText();
    }

    private static int viewBoxSize(String svg) {
        Matcher viewBox = VIEW_BOX.matcher(svg);
        assertThat(viewBox.find()).as("viewBox").isTrue();
        assertThat(viewBox.group(1)).isEqualTo(viewBox.group(2));
        return Integer.parseInt(viewBox.group(1));
    }

    private static String path(String svg) {
        Matcher path = PATH.matcher(svg);
        assertThat(path.find()).as("one black path").isTrue();
        return path.group(1);
    }
}
