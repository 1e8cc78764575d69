package jp.kiroku;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.context.properties.bind.BindResult;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.handler.NoUnboundElementsBindHandler;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

import jp.kiroku.cli.KirokuCli;
import jp.kiroku.platform.KirokuProperties;
import picocli.CommandLine;

/**
 * The files shipped in {@code deploy/} (issue 13, item 3) stay consistent with the code: every {@code kiroku.*} setting
 * of the example configuration exists in {@link KirokuProperties} and parses, and is documented in
 * docs/configuration.md; every {@code KIROKU_*} variable the unit files, the environment file, the admin wrapper and the
 * Dockerfile use is documented; the commands they run are real subcommands; the units keep their hardening and may write
 * the directories the configuration names; {@code systemd-analyze verify} accepts them where it is installed.
 */
class DeploymentFilesTest {

    static final Path DEPLOY = Path.of("deploy");
    static final Path CONFIGURATION = Path.of("docs/configuration.md");
    static final Pattern PROPERTY_LINE = Pattern.compile("(?m)^#?\\s*((?:kiroku|spring|server)\\.[A-Za-z0-9.\\-\\[\\]]+)\\s*=\\s*(.*)$");
    static final Pattern ENV_VAR = Pattern.compile("\\bKIROKU_[A-Z0-9_]+\\b");
    /** Variables of the launcher and the tests, not settings: documented in operations.md instead. */
    static final Set<String> NOT_SETTINGS = Set.of("KIROKU_JAVA_OPTS");

    @Test
    void theExampleConfigurationBindsToKirokuPropertiesAndIsDocumented() throws IOException {
        Map<String, String> example = properties(DEPLOY.resolve("kiroku.properties.example"));
        Map<String, String> kiroku = new LinkedHashMap<>();
        example.forEach((k, v) -> {
            if (k.startsWith("kiroku.")) {
                kiroku.put(k, v);
            }
        });
        assertThat(kiroku).containsKeys("kiroku.keys-dir", "kiroku.backup.target", "kiroku.backup.at", "kiroku.host");
        // every kiroku.* setting (commented ones too) exists and its example value parses
        BindResult<KirokuProperties> bound = new Binder(new MapConfigurationPropertySource(kiroku))
                .bind("kiroku", Bindable.ofInstance(new KirokuProperties()), new NoUnboundElementsBindHandler(org.springframework.boot.context.properties.bind.BindHandler.DEFAULT));
        assertThat(bound.isBound()).isTrue();
        KirokuProperties props = bound.get();
        assertThat(props.getBackup().getAt()).as("the backup schedule is on").isNotNull();

        Set<String> documented = documentedProperties();
        for (String name : kiroku.keySet()) {
            assertThat(documented.stream().anyMatch(d -> name.equals(d) || name.startsWith(d + ".")))
                    .as("%s (deploy/kiroku.properties.example) is documented in docs/configuration.md", name).isTrue();
        }
    }

    @Test
    void everyEnvironmentVariableShippedIsADocumentedSetting() throws IOException {
        Set<String> documented = documentedVariables();
        String operations = Files.readString(Path.of("docs/operations.md"));
        for (String file : List.of("kiroku.env.example", "kiroku.service", "kiroku-keys-backup.service", "kiroku-admin", "Dockerfile")) {
            Matcher m = ENV_VAR.matcher(Files.readString(DEPLOY.resolve(file)));
            while (m.find()) {
                String var = m.group();
                if (NOT_SETTINGS.contains(var)) {
                    assertThat(operations).as("%s is explained in docs/operations.md", var).contains(var);
                } else {
                    assertThat(documented).as("%s (deploy/%s) is a setting of docs/configuration.md", var, file).contains(var);
                }
            }
        }
    }

    @Test
    void theUnitsAreHardenedAndMayWriteWhatTheConfigurationNames() throws IOException {
        Map<String, List<String>> unit = unit(DEPLOY.resolve("kiroku.service"));
        assertThat(unit.get("User")).containsExactly("kiroku");
        assertThat(unit.get("ProtectSystem")).containsExactly("strict");
        assertThat(unit.get("NoNewPrivileges")).containsExactly("yes");
        assertThat(unit.get("PrivateTmp")).containsExactly("yes");
        assertThat(unit.get("CapabilityBoundingSet")).as("no capabilities").containsExactly("");
        assertThat(unit.get("Restart")).containsExactly("on-failure");
        assertThat(unit.get("UMask")).containsExactly("0077");
        assertThat(unit.get("EnvironmentFile")).containsExactly("/etc/kiroku/kiroku.env");
        assertThat(unit.get("LoadCredential")).containsExactly("master-key-passphrase:/etc/kiroku/credentials/master-key-passphrase");
        Map<String, String> env = environment(unit);
        assertThat(env).containsEntry("KIROKU_MASTER_KEY_PASSPHRASE_FILE", "%d/master-key-passphrase")
                .containsEntry("SPRING_CONFIG_ADDITIONAL_LOCATION", "optional:file:/etc/kiroku/kiroku.properties");
        assertThat(unit.get("ExecStart").get(0)).endsWith(" serve");

        Map<String, String> example = properties(DEPLOY.resolve("kiroku.properties.example"));
        String dataDir = env.get("KIROKU_DATA_DIR");
        List<String> writable = Arrays.asList(unit.get("ReadWritePaths").get(0).split("\\s+"));
        assertThat(writable).as("kiroku.service may write the data, keys and backup directories")
                .contains(dataDir, example.get("kiroku.keys-dir"), example.get("kiroku.backup.target"));
        assertThat(unit.get("WorkingDirectory")).containsExactly(dataDir);

        Map<String, List<String>> keys = unit(DEPLOY.resolve("kiroku-keys-backup.service"));
        assertThat(environment(keys)).containsAllEntriesOf(env.entrySet().stream().filter(e -> !e.getKey().equals("KIROKU_JAVA_OPTS"))
                .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
        assertThat(keys.get("LoadCredential")).isEqualTo(unit.get("LoadCredential"));
        assertThat(keys.get("User")).containsExactly("kiroku");
        String exec = keys.get("ExecStart").get(0);
        String to = exec.replaceAll(".*--to\\s+(\\S+).*", "$1");
        assertThat(Arrays.asList(keys.get("ReadWritePaths").get(0).split("\\s+"))).contains(dataDir, example.get("kiroku.keys-dir"), to);
        assertThat(keys.get("RequiresMountsFor")).containsExactly(to);
        assertThat(unit(DEPLOY.resolve("kiroku-keys-backup.timer")).get("OnCalendar")).hasSize(1);

        // the commands they run are the CLI's
        assertCommand(unit.get("ExecStart").get(0));
        assertCommand(exec);
        assertCommand("x.jar doctor");
    }

    @Test
    void theDockerfileRunsAsANonRootUserWithAVolumeAndAHealthCheck() throws IOException {
        String docker = Files.readString(DEPLOY.resolve("Dockerfile"));
        List<String> from = lines(docker, "FROM ");
        assertThat(from).as("multi-stage").hasSize(2);
        assertThat(from.get(1)).isEqualTo("FROM eclipse-temurin:17-jre");
        assertThat(lines(docker, "USER ")).singleElement().satisfies(u -> assertThat(u).doesNotContain("root").isNotEqualTo("USER 0"));
        String dataDir = docker.replaceAll("(?s).*KIROKU_DATA_DIR=(\\S+).*", "$1");
        assertThat(lines(docker, "VOLUME ")).singleElement().satisfies(v -> assertThat(v).contains("\"" + dataDir + "\""));
        assertThat(docker).contains("HEALTHCHECK").contains("/actuator/health").contains("CMD [\"serve\"]");
        String port = docker.replaceAll("(?s).*KIROKU_PORT=(\\d+).*", "$1");
        assertThat(lines(docker, "EXPOSE ")).containsExactly("EXPOSE " + port);
    }

    @Test
    void systemdAcceptsTheUnits(@TempDir Path tmp) throws Exception {
        Path analyze = Path.of("/usr/bin/systemd-analyze");
        Assumptions.assumeTrue(Files.isExecutable(analyze), "systemd-analyze is not installed: the unit files are not verified");
        Path dir = Files.createTempDirectory(tmp, "kiroku-units-");
        List<String> command = new ArrayList<>(List.of(analyze.toString(), "verify"));
        for (String name : List.of("kiroku.service", "kiroku-keys-backup.service", "kiroku-keys-backup.timer")) {
            Files.copy(DEPLOY.resolve(name), dir.resolve(name));
            command.add(dir.resolve(name).toString());
        }
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        // verify reports unknown keys and bad values on its output but exits 0: both must be clean
        assertThat(out).as("systemd-analyze verify").isBlank();
        assertThat(p.exitValue()).isZero();
    }

    private static void assertCommand(String execStart) {
        String args = execStart.substring(execStart.indexOf(".jar ") + 5).trim();
        CommandLine cli = new CommandLine(new KirokuCli());
        CommandLine.ParseResult parsed = cli.parseArgs(args.split("\\s+"));
        assertThat(parsed.hasSubcommand()).as("'%s' is a kiroku command", args).isTrue();
    }

    private static List<String> lines(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).toList();
    }

    /** key=value of a properties file, commented-out settings included (they must be valid too). */
    static Map<String, String> properties(Path file) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = PROPERTY_LINE.matcher(Files.readString(file));
        while (m.find()) {
            out.put(m.group(1), m.group(2).trim());
        }
        return out;
    }

    /** A unit file's directives (all sections), each with its values in order. */
    static Map<String, List<String>> unit(Path file) throws IOException {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank() || line.startsWith("#") || line.startsWith("[")) {
                continue;
            }
            int eq = line.indexOf('=');
            out.computeIfAbsent(line.substring(0, eq), k -> new ArrayList<>()).add(line.substring(eq + 1));
        }
        return out;
    }

    static Map<String, String> environment(Map<String, List<String>> unit) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String e : unit.getOrDefault("Environment", List.of())) {
            env.put(e.substring(0, e.indexOf('=')), e.substring(e.indexOf('=') + 1));
        }
        return env;
    }

    static Set<String> documentedProperties() throws IOException {
        return column(Pattern.compile("(?m)^\\| `(kiroku\\.[a-z0-9.\\-]+)` \\|"));
    }

    static Set<String> documentedVariables() throws IOException {
        return column(Pattern.compile("(?m)^\\| `kiroku\\.[a-z0-9.\\-]+` \\| `(KIROKU_[A-Z0-9_]+)` \\|"));
    }

    private static Set<String> column(Pattern p) throws IOException {
        Set<String> out = new LinkedHashSet<>();
        Matcher m = p.matcher(Files.readString(CONFIGURATION));
        while (m.find()) {
            out.add(m.group(1));
        }
        assertThat(out).as("the settings table of docs/configuration.md").hasSizeGreaterThan(50);
        return out;
    }
}
