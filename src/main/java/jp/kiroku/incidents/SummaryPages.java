package jp.kiroku.incidents;

import java.util.List;

import jp.kiroku.render.Pdf;

/**
 * Emergency summaries as a PDF, Japanese first: every page is headed "緊急時サマリー" with the print time, and names
 * the patient it is about (a running header), so that a loose sheet still says whose it is; each patient starts on a
 * new page.
 */
final class SummaryPages {

    private static final String FONT = "Noto Sans JP";

    private SummaryPages() {
    }

    /** The PDF of these summaries; {@code title} says what was printed (the ward, or one patient). */
    static byte[] pdf(String title, String printedAt, List<Summary> summaries) {
        // two lines: what was printed, and when (CSS \A is a line break)
        String header = css("緊急時サマリー (Emergency summary) — " + title) + "\\A" + css("印刷 " + printedAt);
        StringBuilder html = new StringBuilder("<!DOCTYPE html><html><head><meta charset=\"UTF-8\"/><title>")
                .append(Pdf.escape("緊急時サマリー " + title)).append("</title><style>"
                        + "@page { size: A4; margin: 24mm 14mm 16mm 14mm;"
                        + " @top-left { content: \"").append(header).append("\"; white-space: pre; font-family: '" + FONT + "';"
                        + " font-size: 8pt; }"
                        + " @top-right { content: element(patient); }"
                        + " @bottom-right { content: counter(page) \" / \" counter(pages); font-family: '" + FONT + "';"
                        + " font-size: 8pt; } }"
                        + " body { font-family: '" + FONT + "'; font-size: 9.5pt; }"
                        + " .running { position: running(patient); font-family: '" + FONT + "'; font-size: 8pt; text-align: right; }"
                        + " .patient { page-break-before: always; }"
                        + " .patient.first { page-break-before: auto; }"
                        + " h1 { font-size: 14pt; margin: 0 0 1mm 0; }"
                        + " h2 { font-size: 11pt; margin: 4mm 0 1mm 0; border-bottom: 0.8pt solid #333; }"
                        + " table { border-collapse: collapse; width: 100%; }"
                        + " th, td { border: 0.5pt solid #888; padding: 1mm 1.5mm; text-align: left; vertical-align: top;"
                        + " word-wrap: break-word; }"
                        + " th { background: #eee; font-weight: normal; }"
                        + " .flag { font-weight: bold; }"
                        + " .none { color: #555; }"
                        + "</style></head><body>");
        if (summaries.isEmpty()) {
            html.append("<h1>").append(Pdf.escape(title)).append("</h1><p>現在の入院患者はいません (no current inpatients).</p>");
        }
        boolean first = true;
        for (Summary s : summaries) {
            patient(html, s, first);
            first = false;
        }
        return Pdf.fromXhtml(html.append("</body></html>").toString());
    }

    private static void patient(StringBuilder html, Summary s, boolean first) {
        Summary.Identity p = s.patient();
        String ids = "ID " + p.id() + (p.identifiers().isEmpty() ? "" : " / " + String.join(" / ", p.identifiers()));
        html.append("<div class=\"patient").append(first ? " first" : "").append("\">")
                .append("<div class=\"running\">").append(Pdf.escape(p.kanji() + " 様  " + p.birthDate() + " 生"))
                .append("<br/>").append(Pdf.escape(ids)).append("</div>")
                .append("<h1>").append(Pdf.escape(p.kanji())).append(p.kana().isEmpty() ? "" : " <small>("
                        + Pdf.escape(p.kana()) + ")</small>").append("</h1>")
                .append("<table><tr><th>生年月日</th><td>").append(Pdf.escape(p.birthDate())).append("</td><th>性別</th><td>")
                .append(Pdf.escape(p.sex())).append("</td><th>病棟・病床</th><td>").append(Pdf.escape(s.bed()))
                .append("</td></tr><tr><th>識別子</th><td colspan=\"5\">").append(Pdf.escape(ids)).append("</td></tr></table>");
        for (Summary.Section section : s.sections()) {
            html.append("<h2>").append(Pdf.escape(section.title())).append("</h2>");
            if (section.items().isEmpty()) {
                html.append("<p class=\"none\">記録なし (none recorded)</p>");
                continue;
            }
            html.append("<table><tr><th style=\"width:34%\">内容</th><th style=\"width:28%\">詳細</th>"
                    + "<th style=\"width:18%\">日付</th><th style=\"width:20%\">記録者</th></tr>");
            for (Summary.Item i : section.items()) {
                html.append("<tr><td>");
                i.flags().forEach(f -> html.append("<span class=\"flag\">【").append(Pdf.escape(f)).append("】</span>"));
                html.append(Pdf.escape(i.what())).append("</td><td>").append(Pdf.escape(i.detail())).append("</td><td>")
                        .append(Pdf.escape(i.when())).append("</td><td>").append(Pdf.escape(i.by())).append("</td></tr>");
            }
            html.append("</table>");
        }
        html.append("</div>");
    }

    /** Text inside a CSS string. */
    private static String css(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
