package jp.kiroku.incidents;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetup;
import com.sun.net.httpserver.HttpServer;

import jakarta.mail.internet.MimeMessage;
import jp.kiroku.identity.Accounts;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.ServerTest;
import jp.kiroku.support.WebSession;

/**
 * Notifications (issue 10, item 2): a raised alert reaches the security officer's mailbox through a real SMTP server
 * (GreenMail, started here) and a SIEM's webhook (a JDK HTTP server here) as JSON; with no address configured, no
 * mail goes out while the webhook still gets it.
 */
@Tag("LOG-04")
class NotificationTest extends ServerTest {

    @Autowired
    Detection detection;
    @Autowired
    Accounts accounts;
    @Autowired
    KirokuProperties props;

    @Test
    void aRaisedAlertReachesTheSecurityOfficerByMailAndTheSiemByWebhook() throws Exception {
        GreenMail smtp = new GreenMail(new ServerSetup(SMTP_PORT, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        List<String> siem = new CopyOnWriteArrayList<>();
        HttpServer collector = HttpServer.create(new InetSocketAddress("127.0.0.1", WEBHOOK_PORT), 0);
        collector.createContext("/siem", exchange -> {
            siem.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        smtp.start();
        collector.start();
        List<String> mailTo = props.getIncidents().getNotify().getMailTo();
        try {
            String victim = attacked();
            detection.scan();
            MimeMessage mail = waitForMail(smtp, victim);
            assertThat(mail).as("mail about " + victim).isNotNull();
            assertThat(mail.getAllRecipients()[0].toString()).isEqualTo("security@hospital.example.jp");
            assertThat(GreenMailUtil.getBody(mail)).contains("brute-force").contains("failed logins for one account: 10");
            assertThat(siem).anyMatch(json -> json.contains("\"rule\":\"brute-force\"")
                    && json.contains("\"subject\":\"account:" + victim + "\""));

            props.getIncidents().getNotify().setMailTo(List.of());
            String second = attacked();
            detection.scan();
            long deadline = System.currentTimeMillis() + 5_000;
            while (siem.stream().noneMatch(json -> json.contains("account:" + second)) && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            assertThat(siem).as("the webhook still gets it").anyMatch(json -> json.contains("account:" + second));
            assertThat(waitForMail(smtp, second)).as("no address, no mail").isNull();
        } finally {
            props.getIncidents().getNotify().setMailTo(mailTo);
            collector.stop(0);
            smtp.stop();
        }
    }

    /** A new account with ten failed logins; its username. */
    private String attacked() {
        String username = "tsuchi." + UUID.randomUUID().toString().substring(0, 8);
        PersonLogin.staff(accounts, username, "nurse");
        for (int i = 0; i < 10; i++) {
            PersonLogin.passwordStep(new WebSession(anonymous.root()), username, "guess-" + i);
        }
        return username;
    }

    private static MimeMessage waitForMail(GreenMail smtp, String about) throws Exception {
        long deadline = System.currentTimeMillis() + 3_000;
        while (System.currentTimeMillis() < deadline) {
            for (MimeMessage m : smtp.getReceivedMessages()) {
                if (m.getSubject().contains(about)) {
                    return m;
                }
            }
            Thread.sleep(100);
        }
        return null;
    }
}
