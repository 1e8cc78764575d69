package jp.kiroku.compliance;

import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Map;

import jp.kiroku.render.Pdf;

/**
 * The compliance report on paper (A4, Noto Sans JP embedded): the summary, the checklist, every requirement with its
 * state, evidence and tests, and the officer's questions with their answers or a blank place to write one.
 */
final class ReportPdf {

    private ReportPdf() {
    }

    private static final Map<String, String[]> WORDS = Map.ofEntries(
            Map.entry("title", new String[] {"医療情報システムの安全管理 適合状況報告書", "Compliance report: safety management of medical information systems"}),
            Map.entry("generated", new String[] {"作成日時", "Generated"}),
            Map.entry("installation", new String[] {"対象システム", "Installation"}),
            Map.entry("catalog", new String[] {"要件一覧", "Requirement catalog"}),
            Map.entry("tests", new String[] {"自動試験の記録", "Test evidence index"}),
            Map.entry("summary", new String[] {"要件の状態（件数）", "Requirements by state"}),
            Map.entry("checklist", new String[] {"医療機関におけるサイバーセキュリティ対策チェックリスト", "MHLW cybersecurity checklist"}),
            Map.entry("requirements", new String[] {"要件ごとの状態と根拠", "Each requirement: state and evidence"}),
            Map.entry("questions", new String[] {"企画管理者・安全管理責任者への質問", "Questions for the security officer"}),
            Map.entry("id", new String[] {"番号", "Item"}),
            Map.entry("item", new String[] {"項目", "Requirement"}),
            Map.entry("state", new String[] {"状態", "State"}),
            Map.entry("evidence", new String[] {"根拠（稼働中のシステムから算出）", "Evidence (computed from the running installation)"}),
            Map.entry("proof", new String[] {"証明する自動試験", "Automated tests"}),
            Map.entry("answer", new String[] {"回答", "Answer"}),
            Map.entry("answered", new String[] {"回答者・日時", "Answered by, when"}),
            Map.entry("none", new String[] {"（未回答。ここに記入、または kiroku compliance answer / 管理画面で記録）",
                    "(not answered: write here, or record it with kiroku compliance answer or on the console page)"}),
            Map.entry("notrun", new String[] {"実行記録なし", "no recorded run"}),
            Map.entry("legend", new String[] {"「適合」「要確認」「不適合」は設定とデータベースの状態から算出、「実装済み」は設定のない組み込み機能で自動試験により証明、「不明」は算出も証明もできないもの、「要回答」「回答済み」は組織的な事項です（回答はシステムでは確認していません）。",
                    "Met, Check and Not met are computed from the settings and the database; Built in means a feature without a setting, proven by the automated tests listed; Unknown means nothing could be computed or proven; To answer and Answered are organisational (answers are recorded, not checked)."}));

    private static String w(String key, String lang) {
        return WORDS.get(key)["en".equals(lang) ? 1 : 0];
    }

    private static String e(String s) {
        return s == null ? "" : Pdf.escape(s);
    }

    private static String colour(Status s) {
        return switch (s) {
            case GREEN -> "#d8f0d8";
            case AMBER -> "#fbe6b8";
            case RED -> "#f6c6c6";
            case IMPLEMENTED -> "#e2ecf8";
            default -> "#eeeeee";
        };
    }

    static byte[] render(ComplianceReport.Report r, String lang, ZoneId zone) {
        DateTimeFormatter f = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(zone);
        StringBuilder h = new StringBuilder("<!DOCTYPE html><html lang=\"").append(lang).append("\"><head><meta charset=\"UTF-8\"/><title>")
                .append(e(w("title", lang))).append("</title><style>"
                        + "@page { size: A4; margin: 16mm 12mm; @bottom-right { content: counter(page) \" / \" counter(pages);"
                        + " font-family: 'Noto Sans JP'; font-size: 7pt; } }"
                        + " body { font-family: 'Noto Sans JP'; font-size: 8.5pt; }"
                        + " h1 { font-size: 14pt; margin: 0 0 3mm 0; } h2 { font-size: 11pt; margin: 5mm 0 2mm 0; }"
                        + " table { border-collapse: collapse; width: 100%; margin-bottom: 2mm; }"
                        + " th, td { border: 0.5pt solid #888; padding: 1mm 1.5mm; text-align: left; vertical-align: top;"
                        + " word-wrap: break-word; }"
                        + " th { background: #eee; font-weight: normal; } tr { page-break-inside: avoid; }"
                        + " .tests { font-size: 6.5pt; color: #333; } .blank { height: 14mm; } p.legend { font-size: 7.5pt; }"
                        + "</style></head><body><h1>").append(e(w("title", lang))).append("</h1><table>");
        row(h, w("generated", lang), f.format(r.generated()));
        row(h, w("installation", lang), r.installation());
        row(h, w("catalog", lang), r.catalogSource());
        row(h, w("tests", lang), r.testIndexGenerated() == null ? "—" : r.testIndexGenerated());
        StringBuilder counts = new StringBuilder();
        r.counts().forEach((s, n) -> counts.append(s.label(lang)).append(": ").append(n).append("　"));
        row(h, w("summary", lang), counts.toString().strip());
        h.append("</table><p class=\"legend\">").append(e(w("legend", lang))).append("</p>");

        h.append("<h2>").append(e(w("checklist", lang))).append("</h2><table><tr><th style=\"width:9%\">").append(e(w("id", lang)))
                .append("</th><th style=\"width:38%\">").append(e(w("item", lang))).append("</th><th style=\"width:11%\">")
                .append(e(w("state", lang))).append("</th><th>").append(e(w("evidence", lang))).append("</th></tr>");
        for (ComplianceReport.Item i : r.checklist()) {
            h.append("<tr><td>").append(e(i.id())).append("</td><td>").append(e(i.title(lang))).append("</td>");
            state(h, i.status(), lang);
            h.append("<td>").append(e(i.evidence(lang))).append("</td></tr>");
        }
        h.append("</table>");

        h.append("<h2>").append(e(w("requirements", lang))).append("</h2><table><tr><th style=\"width:9%\">").append(e(w("id", lang)))
                .append("</th><th style=\"width:30%\">").append(e(w("item", lang))).append("</th><th style=\"width:11%\">")
                .append(e(w("state", lang))).append("</th><th>").append(e(w("evidence", lang))).append(" / ")
                .append(e(w("proof", lang))).append("</th></tr>");
        String section = null;
        for (ComplianceReport.Item i : r.requirements()) {
            if (!i.section().equals(section)) {
                section = i.section();
                h.append("<tr><th colspan=\"4\">").append(e(section)).append("</th></tr>");
            }
            h.append("<tr><td>").append(e(i.id())).append(" (").append(e(i.level())).append(")</td><td>")
                    .append(e(i.title(lang))).append("</td>");
            state(h, i.status(), lang);
            h.append("<td>").append(e(i.evidence(lang)));
            if (!i.tests().isEmpty()) {
                h.append("<div class=\"tests\">");
                for (TestEvidence.TestRef t : i.tests()) {
                    String cls = t.test().substring(t.test().lastIndexOf('.') + 1);
                    h.append(e(cls + (t.method() == null ? "" : "#" + t.method()))).append(" — ")
                            .append(e(t.ran() == null ? w("notrun", lang) : t.result() + " " + t.ran())).append("<br/>");
                }
                h.append("</div>");
            }
            h.append("</td></tr>");
        }
        h.append("</table>");

        h.append("<h2>").append(e(w("questions", lang))).append("</h2><table><tr><th style=\"width:11%\">").append(e(w("id", lang)))
                .append("</th><th style=\"width:34%\">").append(e(w("item", lang))).append("</th><th>").append(e(w("answer", lang)))
                .append("</th><th style=\"width:18%\">").append(e(w("answered", lang))).append("</th></tr>");
        for (ComplianceReport.Item i : r.questions()) {
            h.append("<tr><td>").append(e(i.key())).append("</td><td>").append(e(i.title(lang))).append("</td>");
            if (i.answer() == null) {
                h.append("<td class=\"blank\">").append(e(w("none", lang))).append("</td><td></td></tr>");
            } else {
                h.append("<td>").append(e(i.answer().text())).append("</td><td>").append(e(i.answer().by())).append("<br/>")
                        .append(e(f.format(i.answer().at()))).append("</td></tr>");
            }
        }
        h.append("</table></body></html>");
        return Pdf.fromXhtml(h.toString());
    }

    private static void row(StringBuilder h, String label, String value) {
        h.append("<tr><th style=\"width:22%\">").append(e(label)).append("</th><td>").append(e(value)).append("</td></tr>");
    }

    private static void state(StringBuilder h, Status s, String lang) {
        h.append("<td style=\"background:").append(colour(s)).append("\">").append(e(s.label(lang))).append("</td>");
    }
}
