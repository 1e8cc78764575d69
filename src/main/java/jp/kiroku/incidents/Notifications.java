package jp.kiroku.incidents;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.mail.SimpleMailMessage;
import org.springframework.mail.javamail.JavaMailSender;
import org.springframework.stereotype.Component;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.platform.KirokuProperties;

/**
 * Tells people about a raised alert (issue 10, item 2): e-mail to the security officer (kiroku.incidents.notify.mail-to,
 * through spring.mail.*) and JSON to a webhook (kiroku.incidents.notify.webhook, e.g. a SIEM). An alert holds codes,
 * counts and account names only, never patient data. A failed delivery is logged and audited; detection goes on.
 */
@Component
class Notifications {

    private static final Logger log = LoggerFactory.getLogger(Notifications.class);
    private static final tools.jackson.databind.json.JsonMapper JSON = tools.jackson.databind.json.JsonMapper.builder().build();

    private final ObjectProvider<JavaMailSender> mail;
    private final AuditTrail audit;
    private final KirokuProperties props;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    Notifications(ObjectProvider<JavaMailSender> mail, AuditTrail audit, KirokuProperties props) {
        this.mail = mail;
        this.audit = audit;
        this.props = props;
    }

    void alert(Detection.Alert a) {
        KirokuProperties.Notify notify = props.getIncidents().getNotify();
        List<String> to = notify.getMailTo();
        JavaMailSender sender = mail.getIfAvailable();
        if (!to.isEmpty()) {
            if (sender == null) {
                failed(a, "mail", "no SMTP server is set (spring.mail.host)");
            } else {
                try {
                    SimpleMailMessage m = new SimpleMailMessage();
                    m.setFrom(notify.getMailFrom());
                    m.setTo(to.toArray(String[]::new));
                    m.setSubject("[Kiroku] アラート #" + a.id() + " " + a.rule() + ": " + a.subject());
                    m.setText(text(a));
                    sender.send(m);
                    audit.record(AuditRecord.of(Agent.localOperator(), "alert.notify", AuditRecord.Outcome.SUCCESS)
                            .withDetail("alert=" + a.id() + " mail to " + to.size()));
                } catch (RuntimeException e) {
                    failed(a, "mail", e.getClass().getSimpleName());
                }
            }
        }
        if (notify.getWebhook() != null) {
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(notify.getWebhook()).timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(json(a)))).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() / 100 == 2) {
                    audit.record(AuditRecord.of(Agent.localOperator(), "alert.notify", AuditRecord.Outcome.SUCCESS)
                            .withDetail("alert=" + a.id() + " webhook"));
                } else {
                    failed(a, "webhook", "HTTP " + r.statusCode());
                }
            } catch (java.io.IOException e) {
                failed(a, "webhook", e.getClass().getSimpleName());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static String text(Detection.Alert a) {
        return "検知ルール / rule: " + a.rule() + "\n対象 / subject: " + a.subject() + "\n内容 / what: " + a.summary()
                + "\n証跡 / evidence: " + a.evidence().size() + " audit events (audit_log.seq " + a.evidence() + ")"
                + "\n期間 / window: " + a.windowFrom() + " – " + a.windowTo() + "\n検知時刻 / raised: " + a.firedAt()
                + "\n\nkiroku alerts list / kiroku alerts ack " + a.id() + "\n";
    }

    static Map<String, Object> json(Detection.Alert a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("source", "kiroku");
        m.put("id", a.id());
        m.put("rule", a.rule());
        m.put("subject", a.subject());
        m.put("summary", a.summary());
        m.put("evidence", a.evidence());
        m.put("windowFrom", a.windowFrom().toString());
        m.put("windowTo", a.windowTo().toString());
        m.put("raisedAt", a.firedAt().toString());
        return m;
    }

    private void failed(Detection.Alert a, String channel, String why) {
        log.warn("Alert #{} could not be sent by {}: {}", a.id(), channel, why);
        audit.record(AuditRecord.of(Agent.localOperator(), "alert.notify", AuditRecord.Outcome.FAILED)
                .withDetail("alert=" + a.id() + " " + channel + ": " + why));
    }
}
