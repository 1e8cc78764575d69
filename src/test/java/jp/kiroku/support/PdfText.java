package jp.kiroku.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;

import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;

/**
 * The text of a PDF, page by page, as a reader would copy it. NFKC-normalised: the embedded Noto Sans JP shares glyphs
 * between CJK ideographs and Kangxi radicals (山 and ⼭, 子 and ⼦, 日 and ⽇), and the extracted text may name either;
 * full-width brackets become ASCII.
 */
public final class PdfText {

    private PdfText() {
    }

    public static List<String> pages(byte[] pdf) {
        try (PDDocument doc = Loader.loadPDF(pdf)) {
            PDFTextStripper stripper = new PDFTextStripper();
            List<String> pages = new ArrayList<>();
            for (int p = 1; p <= doc.getNumberOfPages(); p++) {
                stripper.setStartPage(p);
                stripper.setEndPage(p);
                pages.add(Normalizer.normalize(stripper.getText(doc), Normalizer.Form.NFKC));
            }
            return pages;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String all(byte[] pdf) {
        return String.join("\n", pages(pdf));
    }

    /** All the text without white space: table cells wrap mid-word, so phrases are found whole. */
    public static String of(byte[] pdf) {
        return all(pdf).replaceAll("\\s+", "");
    }
}
