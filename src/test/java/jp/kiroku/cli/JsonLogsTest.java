package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.PersonLogin;
import jp.kiroku.support.WebSession;

/**
 * {@code kiroku serve --kiroku.log-format=json} as a real process (issue 13, item 2): every line it logs is one JSON
 * object (Elastic Common Schema), and requests that carry a patient's name and identifier, a password and a token leave
 * none of them in the log.
 */
class JsonLogsTest {

    @Test
    @Tag("LOG-01")
    void logsAreJsonAndCarryNoPhiPasswordOrToken(@TempDir Path tmp) throws Exception {
        Path data = Files.createTempDirectory(tmp, "kiroku-jsonlog-");
        Path log = data.resolveSibling(data.getFileName() + ".log");
        int port = ServeProcessTest.freePort();
        String root = "http://127.0.0.1:" + port;
        Process server = ServeProcessTest.kiroku("serve", "--data-dir", data.toString(), "--port", Integer.toString(port),
                "--kiroku.log-format=json").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String family = "構造化" + suffix;
        String mrn = "MRN" + suffix;
        String password = "Json-Password-" + suffix + "!";
        String bearer;
        try {
            FhirHttp anonymous = new FhirHttp(root);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (true) {
                assertThat(server.isAlive()).as("serve exited:\n%s", Files.readString(log)).isTrue();
                assertThat(System.nanoTime()).as("serve did not become ready:\n%s", Files.readString(log))
                        .isLessThan(deadline);
                try {
                    if (anonymous.get(root + "/actuator/health/readiness").status() == 200) {
                        break;
                    }
                } catch (RuntimeException notYet) {
                    // not listening yet
                }
                Thread.sleep(250);
            }
            bearer = FhirHttp.fetchToken(root, "process-test", "process-test-secret-0123456789abcdefghij", null);
            FhirHttp admin = anonymous.withToken(bearer);
            String patient = "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:oid:1.2.392.100495.20.3.51.1"
                    + "1311234567\",\"value\":\"" + mrn + "\"}],\"name\":[{\"family\":\"" + family + "\"}]}";
            assertThat(admin.post("Patient", patient).status()).isEqualTo(201);
            String name = URLEncoder.encode(family, StandardCharsets.UTF_8);
            admin.get("Patient?name=" + name + "&identifier=" + mrn + "&password=" + password + "&token=" + bearer);
            anonymous.get("Patient?name=" + name + "&access_token=" + bearer);
            admin.post("Patient", patient.replace("\"name\"", "\"nmae\"")); // refused: unknown element
            admin.get(name + "/" + mrn); // no such type
            PersonLogin.passwordStep(new WebSession(root), "json-" + suffix, password);
            FhirHttp.fetchToken(root, "process-test", "process-test-secret-0123456789abcdefghij", null);
        } finally {
            server.destroy(); // SIGTERM: graceful stop, which logs too
            if (!server.waitFor(60, TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
        List<String> lines = Files.readAllLines(log).stream().filter(l -> !l.isBlank()).toList();
        assertThat(lines).isNotEmpty();
        ObjectMapper json = new ObjectMapper();
        boolean ready = false;
        for (String line : lines) {
            JsonNode event = json.readTree(line); // throws on a line that is not JSON
            assertThat(event.isObject()).as(line).isTrue();
            assertThat(event.has("@timestamp") && event.has("message")).as(line).isTrue();
            ready |= event.path("message").asText().contains("Kiroku is ready");
        }
        assertThat(ready).as("the start-up line, as JSON").isTrue();
        String all = String.join("\n", lines);
        assertThat(all).doesNotContain(suffix).doesNotContain(family).doesNotContain(mrn).doesNotContain(password)
                .doesNotContain(bearer).doesNotContain("process-test-secret");
    }
}
