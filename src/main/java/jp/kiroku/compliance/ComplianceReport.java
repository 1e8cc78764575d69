package jp.kiroku.compliance;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.springframework.stereotype.Component;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.platform.KirokuProperties;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The compliance report (issue 12, item 6): for every requirement of the catalog and every item of the MHLW
 * cybersecurity checklist, the state computed now from this installation (EvidenceChecks), the automated tests that
 * prove it with their last recorded outcome and date, and — for what only the institution knows — the officer's
 * answer. Rendered as JSON and as a PDF in Japanese or English; each report made is audited.
 */
@Component
public class ComplianceReport {

    /** One requirement or checklist item in the report. */
    public record Item(String id, String key, String section, String titleEn, String titleJa, String level, String side,
                       Status status, String evidenceEn, String evidenceJa, List<TestEvidence.TestRef> tests,
                       List<String> requirements, OfficerAnswers.Answer answer, boolean question) {

        public String title(String lang) {
            return "en".equals(lang) ? titleEn : titleJa;
        }

        public String evidence(String lang) {
            return "en".equals(lang) ? evidenceEn : evidenceJa;
        }
    }

    /** The whole report: when, for which installation, the requirements, the checklist and the counts per state. */
    public record Report(Instant generated, String installation, String catalogSource, String testIndexGenerated,
                         List<Item> requirements, List<Item> checklist, Map<Status, Integer> counts) {

        public Item requirement(String id) {
            return requirements.stream().filter(i -> i.id().equals(id)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no requirement " + id));
        }

        public Item checklistItem(String key) {
            return checklist.stream().filter(i -> i.key().equals(key) || i.id().equals(key)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no checklist item " + key));
        }

        /** The organisational requirements and the checklist items the officer answers, answered or not. */
        public List<Item> questions() {
            List<Item> out = new ArrayList<>(checklist.stream().filter(Item::question).toList());
            out.addAll(requirements.stream().filter(Item::question).toList());
            return out;
        }
    }

    private static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private final EvidenceChecks checks;
    private final OfficerAnswers answers;
    private final AuditTrail audit;
    private final KirokuProperties props;
    private final Clock clock;
    private final Catalog catalog = Catalog.shipped();
    private final TestEvidence tests = TestEvidence.shipped();

    ComplianceReport(EvidenceChecks checks, OfficerAnswers answers, AuditTrail audit, KirokuProperties props, Clock clock) {
        this.checks = checks;
        this.answers = answers;
        this.audit = audit;
        this.props = props;
        this.clock = clock;
    }

    /** The report as of now, for {@code by} (audited as compliance.report). */
    public Report report(Agent by) {
        Report r = build();
        audit.record(AuditRecord.of(by, "compliance.report", AuditRecord.Outcome.SUCCESS).withDetail("red="
                + r.counts().getOrDefault(Status.RED, 0) + " amber=" + r.counts().getOrDefault(Status.AMBER, 0)));
        return r;
    }

    Report build() {
        Map<String, Supplier<Finding>> computed = checks.all();
        Map<String, OfficerAnswers.Answer> given = answers.latest();
        List<Item> reqs = new ArrayList<>();
        for (Catalog.Requirement r : catalog.requirements()) {
            List<TestEvidence.TestRef> proof = tests.tests(r.id());
            Finding f;
            if (r.organisational()) {
                OfficerAnswers.Answer a = given.get(r.id());
                f = a != null ? new Finding(Status.ANSWERED, "Answered by the officer (not checked by the system).",
                        "企画管理者・安全管理責任者による回答（システムでは確認していません）。")
                        : new Finding(Status.QUESTION, "Only the institution knows: to be answered by the officer.",
                        "システムでは分からない組織的な事項です。企画管理者・安全管理責任者が回答してください。");
            } else if (computed.containsKey(r.id())) {
                f = computed.get(r.id()).get();
            } else {
                f = byTests(r.id(), proof);
            }
            if (!r.organisational() && proof.stream().anyMatch(TestEvidence.TestRef::failed)) {
                f = new Finding(Status.RED.worse(f.status()), f.en() + " A test that proves it failed at its last recorded run.",
                        f.ja() + " 証明する自動試験が直近の記録で失敗しています。");
            }
            reqs.add(new Item(r.id(), r.id(), r.section(), r.title(), r.term() != null ? r.term() + " — " + r.title() : r.title(), r.level(),
                    r.side(), f.status(), f.en(), f.ja(), proof, List.of(), given.get(r.id()), r.organisational()));
        }
        List<Item> list = new ArrayList<>();
        for (Catalog.ChecklistItem c : catalog.checklist()) {
            Status s = null;
            List<String> en = new ArrayList<>();
            List<String> ja = new ArrayList<>();
            if (c.key().equals("CL-2-1")) { // the inventory: the device registry's responsible persons
                Finding f = computed.get(EvidenceChecks.DEVICES).get();
                s = f.status();
                en.add(f.en());
                ja.add(f.ja());
            }
            for (String id : c.requirements()) {
                Item r = reqs.stream().filter(i -> i.id().equals(id)).findFirst().orElseThrow();
                if (!r.question()) {
                    s = r.status().worse(s);
                    en.add(id + ": " + r.status().label("en") + ".");
                    ja.add(id + "：" + r.status().label("ja") + "。");
                }
            }
            OfficerAnswers.Answer a = given.get(c.key());
            if (s == null) {
                s = a != null ? Status.ANSWERED : Status.QUESTION;
            }
            if (c.question()) {
                en.add(a != null ? "The officer answered." : "The officer answers this item.");
                ja.add(a != null ? "回答あり。" : "企画管理者・安全管理責任者の回答が必要です。");
            }
            list.add(new Item(c.id(), c.key(), c.section(), c.titleEn(), c.titleJa(), null, "checklist", s,
                    String.join(" ", en), String.join("", ja), List.of(), c.requirements(), a, c.question()));
        }
        Map<Status, Integer> counts = new EnumMap<>(Status.class);
        reqs.forEach(i -> counts.merge(i.status(), 1, Integer::sum));
        String version = ComplianceReport.class.getPackage().getImplementationVersion();
        String installation = "Kiroku " + (version == null ? "(development)" : version) + ", " + props.getHost() + ":"
                + props.getPort() + ", " + (props.getDb().isExternal() ? "external PostgreSQL" : "embedded PostgreSQL");
        return new Report(clock.instant(), installation, catalog.source(), tests.generated(), List.copyOf(reqs),
                List.copyOf(list), counts);
    }

    static Finding byTests(String id, List<TestEvidence.TestRef> proof) {
        if (EvidenceChecks.NOT_BUILT.contains(id)) {
            return new Finding(Status.UNKNOWN, "Kiroku has no feature for this: it must be met by other means.",
                    "Kiroku にはこの機能がありません。他の手段で対応してください。");
        }
        if (proof.isEmpty()) {
            return new Finding(Status.UNKNOWN, "No automated test carries this requirement's tag: nothing proves it here.",
                    "この要件のタグを持つ自動試験がなく、証明がありません。");
        }
        long passed = proof.stream().filter(t -> "passed".equals(t.result())).count();
        String newest = proof.stream().map(TestEvidence.TestRef::ran).filter(java.util.Objects::nonNull).max(String::compareTo)
                .orElse(null);
        if (passed == 0) { // tagged, but no run of them was recorded when the index was written: not proven here
            return new Finding(Status.UNKNOWN, "Built in, no setting to check; " + proof.size() + " automated test(s) carry"
                    + " this tag, but none has a recorded pass in this build's test index.",
                    "組み込みの機能で設定項目はありません。タグ付きの自動試験が" + proof.size() + "件ありますが、このビルドの試験記録に合格の記録がありません。");
        }
        return new Finding(Status.IMPLEMENTED, "Built in, no setting to check; proven by automated tests: " + passed + " of "
                + proof.size() + " passed at their last recorded run (newest " + newest + ").",
                "組み込みの機能で設定項目はありません。自動試験で証明：" + proof.size() + "件中" + passed + "件が直近の記録で合格（最新 "
                        + newest + "）。");
    }

    /** The report as JSON (UTF-8). */
    public byte[] json(Report r) {
        return JSON.writeValueAsString(r).getBytes(StandardCharsets.UTF_8);
    }

    /** The report as a PDF in {@code lang}: "ja" (the default) or "en". */
    public byte[] pdf(Report r, String lang) {
        return ReportPdf.render(r, "en".equals(lang) ? "en" : "ja", props.getTimeZone());
    }
}
