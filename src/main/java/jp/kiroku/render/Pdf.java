package jp.kiroku.render;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Map;

import com.openhtmltopdf.pdfboxout.PdfRendererBuilder;

import tools.jackson.databind.JsonNode;

/**
 * PDF documents (READ-01 and the certificates of issue 7): XHTML rendered by openhtmltopdf with Noto Sans JP embedded
 * (the font is in the jar, so Japanese prints the same everywhere). {@link #document} lays out a JSON record — a
 * certificate — as a titled table, so that the PDF and the JSON say the same things.
 */
public final class Pdf {

    private static final String FONT = "Noto Sans JP";

    private Pdf() {
    }

    /** A PDF of an XHTML document (well-formed; styles inline or in a {@code <style>}). */
    public static byte[] fromXhtml(String xhtml) {
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            PdfRendererBuilder b = new PdfRendererBuilder();
            b.useFastMode();
            b.useFont(() -> Pdf.class.getResourceAsStream("/fonts/NotoSansJP-Regular.ttf"), FONT);
            b.withHtmlContent(xhtml, null);
            b.toStream(out);
            b.run();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot render the PDF", e);
        }
    }

    /** A record (a JSON object) as a document: the title, then every field, nested objects and lists as tables. */
    public static byte[] document(String title, JsonNode record) {
        StringBuilder html = new StringBuilder("<!DOCTYPE html><html><head><meta charset=\"UTF-8\"/><title>")
                .append(escape(title)).append("</title><style>"
                        + "@page { size: A4; margin: 18mm 15mm; @bottom-right { content: counter(page) \" / \" counter(pages);"
                        + " font-family: '" + FONT + "'; font-size: 8pt; } }"
                        + " body { font-family: '" + FONT + "'; font-size: 9.5pt; }"
                        + " h1 { font-size: 15pt; margin: 0 0 4mm 0; }"
                        + " table { border-collapse: collapse; width: 100%; margin-bottom: 2mm; }"
                        + " th, td { border: 0.5pt solid #888; padding: 1.2mm 2mm; text-align: left; vertical-align: top;"
                        + " word-wrap: break-word; }"
                        + " th { background: #eee; width: 32%; font-weight: normal; }"
                        + "</style></head><body><h1>").append(escape(title)).append("</h1>");
        table(html, record);
        return fromXhtml(html.append("</body></html>").toString());
    }

    private static void table(StringBuilder html, JsonNode node) {
        html.append("<table>");
        for (Iterator<Map.Entry<String, JsonNode>> it = node.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            html.append("<tr><th>").append(escape(e.getKey())).append("</th><td>");
            cell(html, e.getValue());
            html.append("</td></tr>");
        }
        html.append("</table>");
    }

    private static void cell(StringBuilder html, JsonNode v) {
        if (v.isObject()) {
            table(html, v);
        } else if (v.isArray()) {
            if (v.isEmpty()) {
                html.append("—");
            }
            for (JsonNode item : v) {
                if (item.isObject()) {
                    table(html, item);
                } else {
                    html.append(escape(item.asString())).append("<br/>");
                }
            }
        } else {
            html.append(v.isNull() ? "—" : escape(v.asString()));
        }
    }

    /** Text for XHTML; control characters XML does not allow (which would stop the whole document) are left out. */
    public static String escape(String s) {
        return s == null ? "" : NOT_XML.matcher(s).replaceAll("").replace("&", "&amp;").replace("<", "&lt;")
                .replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static final java.util.regex.Pattern NOT_XML = java.util.regex.Pattern.compile("[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\uFFFE\\uFFFF]");
}
