package jp.kiroku.render;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;

/**
 * Chart printouts (READ-01, 見読性): a patient's records, a period of them, one resource's versions, or a disclosure to
 * the patient, as A4 pages, Japanese first. Every page carries the patient (name, kana, id, identifiers, birth date:
 * a loose sheet still says whose it is), "n / N", and the record-ledger checkpoint the printout can be checked against
 * later. Each version shows its number, record status, author (and on whose behalf), confirmer and times. Pure: it
 * lays out what it is given and reads nothing, so callers decide (and audit) what may be printed.
 */
public final class ChartPdf {

    private static final String FONT = "Noto Sans JP";
    private static final String VERIFY_HINT = "照合 (verify): kiroku verify --checkpoint <file>";

    private ChartPdf() {
    }

    /** The printout as a PDF. */
    public static byte[] pdf(ChartPrint print) {
        return Pdf.fromXhtml(xhtml(print));
    }

    /** The printout as the XHTML document the PDF is made from (for a browser's view of the same printout). */
    public static String xhtml(ChartPrint print) {
        DateTimeFormatter time = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss z").withZone(print.zone());
        String title = print.purpose().ja + " (" + print.purpose().en + ")";
        StringBuilder html = new StringBuilder(4096 + print.entries().size() * 2048)
                .append("<!DOCTYPE html><html><head><meta charset=\"UTF-8\"/><title>").append(Pdf.escape(title))
                .append("</title><style>").append(STYLE).append("</style></head><body>");
        running(html, print, title, time);
        html.append("<h1>").append(Pdf.escape(title)).append("</h1>");
        patient(html, print.patient());
        html.append("<table class=\"about\"><tr><th>範囲 (scope)</th><td>").append(Pdf.escape(print.scope()))
                .append("</td></tr><tr><th>件数 (versions)</th><td>").append(print.entries().size())
                .append("</td></tr><tr><th>印刷 (printed)</th><td>").append(Pdf.escape(time.format(print.printedAt())))
                .append(" — ").append(Pdf.escape(print.printedBy())).append("</td></tr>");
        if (print.purpose() == ChartPrint.Purpose.DISCLOSURE) {
            html.append("<tr><th>開示の保留 (withheld)</th><td>").append(print.withheld() == 0
                    ? "開示を保留した記録はありません。 (Nothing was withheld.)"
                    : "診療上の理由により " + print.withheld() + " 件の記録の開示を保留しています。理由と今後の開示については"
                    + "担当医にお尋ねください。 (" + print.withheld() + " record(s) withheld for clinical reasons.)")
                    .append("</td></tr>");
        }
        html.append("</table>");
        if (print.entries().isEmpty()) {
            html.append("<p class=\"none\">該当する記録はありません (no records in this scope).</p>");
        }
        for (ChartPrint.Entry e : print.entries()) {
            entry(html, e, print, time);
        }
        return html.append("</body></html>").toString();
    }

    /** The running header (the patient) and footer (the checkpoint): first in the body, so they reach every page. */
    private static void running(StringBuilder html, ChartPrint print, String title, DateTimeFormatter time) {
        ChartPrint.Person p = print.patient();
        html.append("<div class=\"header\"><span class=\"what\">").append(Pdf.escape(title)).append("</span><br/>");
        if (p == null) {
            html.append("患者に属さない記録 (records of no patient)");
        } else {
            html.append("<b>").append(Pdf.escape(p.kanji())).append(" 様</b>")
                    .append(p.kana().isEmpty() ? "" : " (" + Pdf.escape(p.kana()) + ")")
                    .append("  生年月日 ").append(Pdf.escape(p.birthDate())).append("  ").append(Pdf.escape(p.sex()))
                    .append("<br/>").append(Pdf.escape(ids(p)));
        }
        html.append("</div><div class=\"footer\">");
        ChartPrint.LedgerCheckpoint c = print.checkpoint();
        if (c == null) {
            html.append("記録台帳のチェックポイントなし (no ledger checkpoint)");
        } else {
            html.append("記録台帳 (record ledger) ").append(Pdf.escape(c.origin())).append(" size ").append(c.size())
                    .append(" root ").append(Base64.getEncoder().encodeToString(c.rootHash())).append("<br/>署名 (signed) ")
                    .append(Pdf.escape(time.format(c.signedAt()))).append(" — ").append(Pdf.escape(VERIFY_HINT));
        }
        html.append("<br/>印刷 ").append(Pdf.escape(time.format(print.printedAt()))).append(" ")
                .append(Pdf.escape(print.printedBy())).append("</div>");
    }

    private static String ids(ChartPrint.Person p) {
        return "ID " + p.id() + (p.identifiers().isEmpty() ? "" : " / " + String.join(" / ", p.identifiers()));
    }

    private static void patient(StringBuilder html, ChartPrint.Person p) {
        if (p == null) {
            return;
        }
        html.append("<table class=\"about\"><tr><th>氏名</th><td>").append(Pdf.escape(p.kanji())).append("</td><th>カナ</th><td>")
                .append(Pdf.escape(p.kana())).append("</td></tr><tr><th>生年月日</th><td>").append(Pdf.escape(p.birthDate()))
                .append("</td><th>性別</th><td>").append(Pdf.escape(p.sex())).append("</td></tr><tr><th>識別子</th>"
                        + "<td colspan=\"3\">").append(Pdf.escape(ids(p))).append("</td></tr></table>");
    }

    private static void entry(StringBuilder html, ChartPrint.Entry e, ChartPrint print, DateTimeFormatter time) {
        html.append("<div class=\"entry\"><h3>").append(Pdf.escape(ResourceView.typeName(e.type()))).append(" ")
                .append(Pdf.escape(e.type() + "/" + e.id())).append(" 第").append(e.version()).append("版")
                .append(e.uninformed() ? " 【未告知: 患者本人へ説明しないこと】" : "").append("</h3>")
                .append("<div class=\"meta\">版 (version) ").append(e.version())
                .append(" ・ 状態 (status) ").append(e.deleted() ? "削除 (deleted)" : e.status().ja)
                .append(" ・ 記録日時 ").append(Pdf.escape(when(e.lastUpdated(), time)))
                .append(" ・ 台帳 (ledger) ").append(e.ledgerIndex() == null ? "—" : "#" + e.ledgerIndex())
                .append("<br/>記録者 (author) ").append(Pdf.escape(author(e)))
                .append(" ・ 確定者 (confirmed by) ").append(e.confirmedBy() == null ? "—"
                        : Pdf.escape(e.confirmedBy() + " " + when(e.confirmedAt(), time)))
                .append("</div>");
        if (e.deleted()) {
            html.append("<p class=\"none\">この版で削除されました (deleted in this version).</p></div>");
            return;
        }
        String summary = ResourceView.summary(e.resource(), print.zone());
        if (!summary.isEmpty()) {
            html.append("<p class=\"summary\">").append(Pdf.escape(summary)).append("</p>");
        }
        ResourceView.body(html, e.resource(), print.zone());
        html.append("</div>");
    }

    private static String author(ChartPrint.Entry e) {
        String kind = e.authorKind() == null ? "" : switch (e.authorKind()) {
            case "user" -> " (利用者)";
            case "client" -> " (システム)";
            case "operator" -> " (運用者)";
            default -> " (" + e.authorKind() + ")";
        };
        return (e.author() == null ? "—" : e.author() + kind)
                + (e.onBehalfOf() == null ? "" : " — " + e.onBehalfOf() + " の代行入力");
    }

    private static String when(Instant t, DateTimeFormatter time) {
        return t == null ? "" : time.format(t);
    }

    private static final String STYLE = String.join(" ", List.of(
            "@page { size: A4; margin: 27mm 14mm 22mm 14mm;",
            " @top-left { content: element(header); }",
            " @bottom-left { content: element(footer); }",
            " @bottom-right { content: counter(page) \" / \" counter(pages); font-family: '" + FONT + "'; font-size: 8pt; } }",
            "body { font-family: '" + FONT + "'; font-size: 9pt; }",
            ".header { position: running(header); font-size: 8pt; }",
            ".header .what { color: #444; }",
            ".footer { position: running(footer); font-size: 6.5pt; color: #333; word-wrap: break-word; }",
            "h1 { font-size: 14pt; margin: 0 0 2mm 0; }",
            "h3 { font-size: 10pt; margin: 0 0 1mm 0; background: #e8e8e8; padding: 0.8mm 1.5mm; }",
            ".entry { margin: 0 0 4mm 0; }",
            "table { border-collapse: collapse; width: 100%; table-layout: fixed; }",
            "th, td { border: 0.4pt solid #999; padding: 0.6mm 1.2mm; text-align: left; vertical-align: top; word-wrap: break-word; }",
            "th { background: #f2f2f2; font-weight: normal; }",
            "table.about { margin-bottom: 3mm; }",
            "table.about th { width: 22%; }",
            ".meta { font-size: 8pt; margin-bottom: 1mm; color: #222; }",
            "h3, .meta, .summary { page-break-after: avoid; }",
            ".el { border-left: 0.6pt solid #bbb; padding-left: 1.5mm; word-wrap: break-word; }",
            ".el .el { margin-left: 3mm; }",
            ".k { color: #444; }",
            ".summary { margin: 1mm 0; font-weight: bold; }",
            ".narrative { border: 0.4pt solid #999; padding: 1mm 2mm; }",
            ".none { color: #555; }"));
}
