package jp.kiroku.incidents;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.render.Pdf;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The report an institution sends when a medical information system is damaged or attacked (INC-01, INC-03: to the
 * ministry, 医政局), with the items of the Personal Information Protection Commission's leak report (INC-04: 個人情報
 * 保護法施行規則 第8条 — summary, data items, number of persons, cause, secondary damage, response to the persons,
 * publication, prevention) and their deadlines. Filled from the incident record: the number of patients is the audit
 * ledger's, the measures and contacts are the timeline's. One report, two forms: JSON (English keys) and a Japanese
 * PDF — both made from the same list of fields, so they cannot say different things.
 */
@Service
public class IncidentReports {

    /** One item: its JSON key, its Japanese label, its value (text, number, list of text, or null). */
    record Field(String key, String label, Object value) {
    }

    record Section(String key, String label, List<Field> fields) {
    }

    /** A report: JSON for systems, PDF for people. */
    public record Report(long incident, String title, List<Section> sections) {

        public JsonNode json() {
            ObjectNode root = JSON.createObjectNode().put("report", "medical-information-system-incident")
                    .put("incident", incident);
            sections.forEach(s -> {
                ObjectNode section = root.putObject(s.key());
                s.fields().forEach(f -> section.set(f.key(), JSON.valueToTree(f.value())));
            });
            return root;
        }

        public byte[] pdf() {
            ObjectNode doc = JSON.createObjectNode();
            sections.forEach(s -> {
                ObjectNode section = doc.putObject(s.label());
                s.fields().forEach(f -> section.set(f.label(), JSON.valueToTree(f.value())));
            });
            return Pdf.document(title, doc);
        }
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Map<String, String> PERSONAL_DATA = Map.of("unknown", "不明（調査中）", "no", "なし",
            "suspected", "おそれあり", "yes", "あり");
    private static final Map<String, String> STATUS = Map.of("open", "対応中", "contained", "封じ込め済み",
            "recovered", "復旧済み", "closed", "終結");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu年M月d日 HH:mm");
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("uuuu年M月d日");

    private final Incidents incidents;
    private final JdbcTemplate jdbc;
    private final AuditTrail audit;
    private final Clock clock;
    private final KirokuProperties props;

    IncidentReports(Incidents incidents, JdbcTemplate jdbc, AuditTrail audit, Clock clock, KirokuProperties props) {
        this.incidents = incidents;
        this.jdbc = jdbc;
        this.audit = audit;
        this.clock = clock;
        this.props = props;
    }

    /** The report of incident {@code id} as it stands now; making it is audited and entered on the timeline. */
    public Report report(long id, Agent by) {
        Incidents.Incident i = incidents.get(id);
        ZoneId zone = props.getIncidents().getOfficeHours().getZone();
        int patients = incidents.affected(i).size();
        List<Incidents.Entry> timeline = incidents.timeline(id);
        Instant now = clock.instant();
        LocalDate known = i.detectedAt().atZone(zone).toLocalDate();
        List<Map<String, Object>> facility = i.facility() == null ? List.of()
                : jdbc.queryForList("SELECT name, type FROM facility WHERE id = ?", i.facility());
        String leak = PERSONAL_DATA.get(i.personalData());

        Report r = new Report(id, "医療情報システムの障害・サイバー攻撃に関する報告", List.of(
                new Section("report", "報告", List.of(
                        new Field("generatedAt", "作成日時", time(now, zone)),
                        new Field("incident", "事案番号", id),
                        new Field("title", "件名", i.title()),
                        new Field("status", "対応状況", STATUS.get(i.status())))),
                new Section("facility", "医療機関等", List.of(
                        new Field("id", "施設ID", i.facility()),
                        new Field("name", "名称", facility.isEmpty() ? null : facility.get(0).get("name")),
                        new Field("type", "種別", facility.isEmpty() ? null : facility.get(0).get("type")))),
                new Section("dates", "日時", List.of(
                        new Field("detected", "発覚日時", time(i.detectedAt(), zone)),
                        new Field("began", "発生日時（推定）", time(i.windowFrom(), zone)),
                        new Field("ended", "終息日時", i.windowTo() == null ? "継続中" : time(i.windowTo(), zone)))),
                new Section("incident", "事案の内容", List.of(
                        new Field("whatHappened", "発生した事象", i.description()),
                        new Field("cause", "原因", i.cause()),
                        new Field("systemsAffected", "影響を受けたシステム", i.systems()))),
                new Section("dataAffected", "影響を受けた情報", List.of(
                        new Field("personalDataLeaked", "個人情報の漏えい", leak),
                        new Field("kinds", "情報の種類", i.dataKinds()),
                        new Field("patients", "影響を受けた患者数（アクセス記録による）", patients))),
                new Section("measures", "講じた措置", List.of(
                        new Field("actions", "措置", entries(timeline, "action", zone)),
                        new Field("contacts", "連絡・報告", entries(timeline, "contact", zone)),
                        new Field("reports", "報告の送付", entries(timeline, "report", zone)))),
                new Section("ppc", "個人情報保護委員会への報告事項（漏えい等報告）", List.of(
                        new Field("summary", "概要", i.description()),
                        new Field("dataItems", "漏えい等が発生し、又は発生したおそれがある個人データの項目", i.dataKinds()),
                        new Field("numberOfPersons", "本人の数", patients),
                        new Field("cause", "原因", i.cause()),
                        new Field("secondaryDamage", "二次被害又はそのおそれの有無及びその内容", i.secondaryDamage()),
                        new Field("responseToPersons", "本人への対応の実施状況", i.personsNotified()),
                        new Field("publication", "公表の実施状況", i.publication()),
                        new Field("prevention", "再発防止のための措置", i.prevention()),
                        new Field("malicious", "不正の目的をもって行われたおそれ", i.malicious() ? "あり" : "なし"),
                        new Field("preliminaryReportBy", "速報の目安（発覚から概ね3〜5日）", known.plusDays(5).format(DAY)),
                        new Field("finalReportBy", "確報の期限（発覚から" + (i.malicious() ? 60 : 30) + "日）",
                                known.plusDays(i.malicious() ? 60 : 30).format(DAY))))));
        audit.record(AuditRecord.of(by, "incident.report", AuditRecord.Outcome.SUCCESS)
                .withDetail("incident=" + id + " patients=" + patients));
        return r;
    }

    private static List<String> entries(List<Incidents.Entry> timeline, String kind, ZoneId zone) {
        return timeline.stream().filter(e -> e.kind().equals(kind)).map(e -> time(e.at(), zone) + " " + e.text()).toList();
    }

    private static String time(Instant t, ZoneId zone) {
        return t.atZone(zone).format(TIME) + " (" + zone.getId() + ")";
    }
}
