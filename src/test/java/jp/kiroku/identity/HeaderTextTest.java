package jp.kiroku.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.security.web.firewall.StrictHttpFirewall;

import jp.kiroku.support.ServerTest;

/**
 * The firewall's header rules without regular expressions: the same answer as Spring Security's own rules for every
 * code point, alone and among other characters, and a running server refuses a control character in a header.
 */
class HeaderTextTest extends ServerTest {

    @Test
    void answersAsTheFirewallsOwnRulesForEveryCodePoint() {
        List<String> samples = new ArrayList<>(List.of("", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "a\tb", "\uD83C\uDFE5",
                "\uD83C", "x\uDFE5", "\uDFE5\uD83C", "ｷﾛｸ 記録", "\u00A0\u0085"));
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            String c = Character.toString(cp);
            samples.add(c);
            if (cp % 7 == 0) {
                samples.add("Bearer " + c + "x");
            }
        }
        int names = 0;
        int values = 0;
        for (String s : samples) {
            boolean name = StrictHttpFirewall.ALLOWED_HEADER_NAMES.test(s);
            boolean value = StrictHttpFirewall.ALLOWED_HEADER_VALUES.test(s);
            assertThat(HeaderText.isAllowedName(s)).as("name %s", s.codePoints().boxed().toList()).isEqualTo(name);
            assertThat(HeaderText.isAllowedValue(s)).as("value %s", s.codePoints().boxed().toList()).isEqualTo(value);
            names += name ? 1 : 0;
            values += value ? 1 : 0;
        }
        // both outcomes occur, and a tab is the one difference between names and values
        assertThat(names).isGreaterThan(100_000).isLessThan(samples.size());
        assertThat(values - names).isEqualTo(2);
    }

    /**
     * Tomcat itself refuses C0 controls in any header; the firewall also refuses C1 controls, which Tomcat reads as
     * obs-text, in the headers the server reads (it checks a value when it is read). The probe is the Authorization
     * header, which the bearer-token filter reads on every API request; not a bearer token, so metadata answers 200.
     */
    @Test
    void aControlCharacterInAHeaderIsRefusedAndATabIsNot() throws Exception {
        assertThat(statusOf("a\tb")).isEqualTo(200);
        assertThat(statusOf("caf\u00E9")).isEqualTo(200);
        assertThat(statusOf("a\u0085b")).isEqualTo(400);
        assertThat(statusOf("a\u0001b")).isEqualTo(400);
    }

    /** The status of GET /fhir/metadata with an Authorization header of this value, sent as raw bytes. */
    private int statusOf(String probe) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            OutputStream out = socket.getOutputStream();
            out.write(("GET /fhir/metadata HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/fhir+json\r\nAuthorization: " + probe
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            for (int b = in.read(); b != -1 && b != '\n'; b = in.read()) {
                head.write(b);
            }
            String status = head.toString(StandardCharsets.ISO_8859_1);
            assertThat(status).startsWith("HTTP/1.1 ");
            return Integer.parseInt(status.substring(9, 12));
        }
    }
}
