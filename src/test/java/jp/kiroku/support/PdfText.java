package jp.kiroku.support;

import java.io.IOException;
import java.text.Normalizer;

import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;

/** The text of a PDF, for assertions. */
public final class PdfText {

    private PdfText() {
    }

    /**
     * Without white space (table cells wrap mid-word) and NFKC-normalised: Noto Sans JP's glyphs for some kanji
     * (子, 日, 止) extract as Kangxi radicals (⼦, ⽇, ⽌), which NFKC maps back; full-width brackets become ASCII.
     */
    public static String of(byte[] pdf) throws IOException {
        try (PDDocument doc = Loader.loadPDF(pdf)) {
            return Normalizer.normalize(new PDFTextStripper().getText(doc), Normalizer.Form.NFKC).replaceAll("\\s+", "");
        }
    }
}
