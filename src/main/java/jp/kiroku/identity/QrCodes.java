package jp.kiroku.identity;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import com.google.zxing.EncodeHintType;
import com.google.zxing.WriterException;
import com.google.zxing.qrcode.decoder.ErrorCorrectionLevel;
import com.google.zxing.qrcode.encoder.ByteMatrix;
import com.google.zxing.qrcode.encoder.Encoder;

/**
 * QR codes as inline SVG, for the TOTP enrolment page: an inline image keeps the page's strict Content-Security-Policy
 * (no data: images). The SVG is one white square and one black path of whole modules, with the 4-module quiet zone
 * that ISO/IEC 18004 asks for; it has no scripts, no text and no references to anything outside it.
 */
final class QrCodes {

    private static final int QUIET_ZONE = 4; // modules of light margin on every side
    private static final int PIXELS_PER_MODULE = 4; // the default size; CSS may scale it, the viewBox keeps it sharp

    private QrCodes() {
    }

    /** The QR code of the text (error correction level M) as an {@code <svg>} element. */
    static String svg(String text) {
        ByteMatrix modules;
        try {
            // ASCII (an otpauth URI) is encoded as plain bytes; anything else as UTF-8, announced by an ECI header
            boolean ascii = StandardCharsets.US_ASCII.newEncoder().canEncode(text);
            modules = Encoder.encode(text, ErrorCorrectionLevel.M,
                    ascii ? Map.of() : Map.of(EncodeHintType.CHARACTER_SET, StandardCharsets.UTF_8.name()))
                    .getMatrix();
        } catch (WriterException e) {
            throw new IllegalArgumentException("text does not fit in a QR code", e);
        }
        int size = modules.getWidth() + 2 * QUIET_ZONE;
        StringBuilder path = new StringBuilder();
        for (int y = 0; y < modules.getHeight(); y++) {
            for (int x = 0; x < modules.getWidth(); x++) {
                if (modules.get(x, y) != 1) {
                    continue;
                }
                int run = 1; // a horizontal run of dark modules is one rectangle
                while (x + run < modules.getWidth() && modules.get(x + run, y) == 1) {
                    run++;
                }
                path.append('M').append(x + QUIET_ZONE).append(' ').append(y + QUIET_ZONE).append('h').append(run)
                        .append("v1h-").append(run).append('z');
                x += run - 1;
            }
        }
        int pixels = size * PIXELS_PER_MODULE;
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + size + " " + size + "\" width=\"" + pixels
                + "\" height=\"" + pixels + "\" shape-rendering=\"crispEdges\" role=\"img\">"
                + "<rect width=\"" + size + "\" height=\"" + size + "\" fill=\"#fff\"/>"
                + "<path fill=\"#000\" d=\"" + path + "\"/></svg>";
    }
}
