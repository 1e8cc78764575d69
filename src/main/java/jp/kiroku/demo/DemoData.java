package jp.kiroku.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.core.env.Environment;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import ca.uhn.fhir.context.FhirContext;
import jp.kiroku.audit.Agent;
import jp.kiroku.fhir.Interactions;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.Caller;
import jp.kiroku.identity.DemoAccounts;
import jp.kiroku.identity.NewAccount;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.platform.ProcessRole;
import jp.kiroku.platform.SecretFiles;

/**
 * The demo's content, at the first {@code serve --demo} on a database (later starts find {@code loaded_at} set):
 * the JP Core 1.1.2 examples as one transaction and three Synthea patients as one transaction each, written through
 * {@link Interactions#transaction} as the local operator (validated, indexed, ledgered and audited like any write;
 * every entry a PUT at its own id, so a start interrupted half-way can simply load again); an active CareTeam per
 * patient naming the demo clinicians' Practitioners; one demo account per role. The credentials go to a 0600 file in
 * the data directory and are printed on the console at every demo start.
 */
@Component
@ConditionalOnProperty(name = "kiroku.demo", havingValue = "true")
class DemoData implements ApplicationRunner {

    private static final Logger log = LoggerFactory.getLogger("jp.kiroku");

    /** The patient account's record: the JP Core example patient (山田 太郎). */
    static final String PATIENT = "jp-patient-example-1";

    /** One account per role; clinicians stand for the Practitioner {@code Practitioner/<username>}. */
    private record Person(String username, String role, String profession, String name, String kana, boolean inCare) {
    }

    private static final List<Person> PEOPLE = List.of(
            new Person("demo-physician", "physician", "physician", "デモ 医師", "デモ イシ", true),
            new Person("demo-nurse", "nurse", "nurse", "デモ 看護師", "デモ カンゴシ", true),
            new Person("demo-pharmacist", "pharmacist", "pharmacist", "デモ 薬剤師", "デモ ヤクザイシ", true),
            new Person("demo-assistant", "doctor-assistant", "medical-clerk", "デモ 医師事務作業補助者", "デモ ホジョシャ", true),
            new Person("demo-clerk", "clerk", "medical-clerk", "デモ 医事課", "デモ イジカ", true),
            new Person("demo-admin", "admin", "system-administrator", "デモ 管理者", "デモ カンリシャ", false),
            new Person("demo-auditor", "auditor", "other", "デモ 企画管理者", "デモ キカクカンリシャ", false),
            new Person("demo-patient", "patient", null, "山田 太郎", "ヤマダ タロウ", false));

    private final Interactions fhir;
    private final DemoAccounts demoAccounts;
    private final Accounts accounts;
    private final FhirContext ctx;
    private final JdbcTemplate jdbc;
    private final KirokuProperties props;
    private final ProcessRole role;
    private final Clock clock;

    DemoData(Interactions fhir, DemoAccounts demoAccounts, Accounts accounts, FhirContext ctx, JdbcTemplate jdbc,
             KirokuProperties props, @Value("${kiroku.runtime.role:serve}") ProcessRole role, Clock clock) {
        this.fhir = fhir;
        this.demoAccounts = demoAccounts;
        this.accounts = accounts;
        this.ctx = ctx;
        this.jdbc = jdbc;
        this.props = props;
        this.role = role;
        this.clock = clock;
    }

    @Override
    public void run(ApplicationArguments args) {
        if (role != ProcessRole.SERVE || Boolean.TRUE.equals(jdbc.queryForObject(
                "SELECT loaded_at IS NOT NULL FROM demo_installation", Boolean.class))) {
            return;
        }
        long started = System.nanoTime();
        Caller operator = new Caller(Agent.localOperator(), List.of("system/*.cruds"));
        List<String> patients = new ArrayList<>();
        List<Resource> jpCore = resources("demo/jpcore/*.json").stream().map(this::parse).map(Resource.class::cast).toList();
        fhir.transaction(operator, putAll(jpCore));
        jpCore.stream().filter(Patient.class::isInstance).forEach(p -> patients.add(p.getIdElement().getIdPart()));
        for (org.springframework.core.io.Resource file : resources("demo/synthea/*.json")) {
            Bundle synthea = atOwnIds((Bundle) parse(file));
            fhir.transaction(operator, synthea);
            synthea.getEntry().stream().map(Bundle.BundleEntryComponent::getResource).filter(Patient.class::isInstance)
                    .forEach(p -> patients.add(p.getIdElement().getIdPart()));
        }
        fhir.transaction(operator, putAll(careTeams(patients)));
        List<DemoAccounts.Credentials> created = new ArrayList<>();
        for (Person p : PEOPLE) {
            if (accounts.find(p.username()).isEmpty()) {
                created.add(demoAccounts.create(account(p), Agent.localOperator()));
            }
        }
        if (!created.isEmpty()) {
            SecretFiles.write(credentialsFile(), table(created).getBytes(StandardCharsets.UTF_8));
        }
        jdbc.update("UPDATE demo_installation SET loaded_at = ?", Timestamp.from(clock.instant()));
        log.info("Demo data loaded: {} JP Core examples, {} patients in all, {} demo accounts ({} ms)", jpCore.size(),
                patients.size(), created.size(), (System.nanoTime() - started) / 1_000_000);
    }

    /**
     * The credentials table, at every demo start once the server listens. Printed on the console on purpose (the one
     * place Kiroku shows passwords): a newcomer needs them to try each role, and a demo holds fictitious data only.
     */
    @EventListener
    void printCredentials(ApplicationReadyEvent event) {
        Environment env = event.getApplicationContext().getEnvironment();
        String port = env.getProperty("local.server.port");
        if (role != ProcessRole.SERVE || port == null || !Files.exists(credentialsFile())) {
            return;
        }
        boolean tls = env.containsProperty("server.ssl.bundle") || env.containsProperty("server.ssl.certificate")
                || env.containsProperty("server.ssl.key-store");
        String table;
        try {
            table = Files.readString(credentialsFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.out.println("\n==== KIROKU DEMO: fictitious patients and demo accounts only; never enter real data ====\n"
                + "Open " + (tls ? "https" : "http") + "://" + props.getHost() + ":" + port + "/login"
                + " and log in with a user name, its password and a code from an authenticator app set up with its"
                + " TOTP secret (or its otpauth:// URI).\n"
                + "The terminal rule is off in demo mode (kiroku.devices.terminal-required=false): any browser may log in.\n"
                + "The credentials are kept in " + credentialsFile() + " (0600).\n\n" + table
                + "==== END OF DEMO CREDENTIALS ====\n");
        System.out.flush();
    }

    private Path credentialsFile() {
        return props.getDataDir().toAbsolutePath().resolve("demo-accounts.txt");
    }

    static String table(List<DemoAccounts.Credentials> all) {
        StringBuilder s = new StringBuilder(String.format("%-16s  %-17s  %-16s  %-32s  %s%n", "USER", "PASSWORD", "ROLE",
                "TOTP SECRET (BASE32)", "OTPAUTH URI"));
        for (DemoAccounts.Credentials c : all) {
            String role = PEOPLE.stream().filter(p -> p.username().equals(c.username())).map(Person::role)
                    .findFirst().orElse("?");
            s.append(String.format("%-16s  %-17s  %-16s  %-32s  %s%n", c.username(), c.password(), role, c.totpSecret(),
                    c.otpauthUri()));
        }
        return s.toString();
    }

    private static NewAccount account(Person p) {
        boolean patient = "patient".equals(p.role());
        return new NewAccount(p.username(), patient ? "patient" : "staff", List.of(p.role()), p.name(), p.kana(), null,
                null, p.profession(), null, null, patient ? "Patient/" + PATIENT
                : p.inCare() ? "Practitioner/" + p.username() : null);
    }

    /** The demo clinicians' Practitioners and an active CareTeam per patient naming them: the chart is in their care. */
    private static List<Resource> careTeams(List<String> patients) {
        List<Resource> out = new ArrayList<>();
        List<Person> clinicians = PEOPLE.stream().filter(Person::inCare).toList();
        for (Person p : clinicians) {
            Practitioner practitioner = new Practitioner();
            practitioner.setId(p.username());
            practitioner.addName(new HumanName().setText(p.name()));
            out.add(practitioner);
        }
        for (String patient : patients) {
            CareTeam team = new CareTeam().setStatus(CareTeam.CareTeamStatus.ACTIVE)
                    .setSubject(new Reference("Patient/" + patient)).setName("Kiroku demo");
            team.setId("demo-care-" + patient);
            clinicians.forEach(p -> team.addParticipant().setMember(new Reference("Practitioner/" + p.username())));
            out.add(team);
        }
        return out;
    }

    private static Bundle putAll(List<Resource> resources) {
        Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        for (Resource r : resources) {
            String ref = r.fhirType() + "/" + r.getIdElement().getIdPart();
            tx.addEntry().setFullUrl(ref).setResource(r).getRequest().setMethod(Bundle.HTTPVerb.PUT).setUrl(ref);
        }
        return tx;
    }

    /**
     * A Synthea transaction with each POST turned into a PUT at the resource's own id ({@code urn:uuid:} references
     * stay: they resolve to the entries). The parser gives an entry's resource its fullUrl as id; the id is the uuid.
     */
    private static Bundle atOwnIds(Bundle bundle) {
        for (Bundle.BundleEntryComponent e : bundle.getEntry()) {
            Resource r = e.getResource();
            String id = r.getIdElement().getIdPart().replaceFirst("^urn:uuid:", "");
            r.setId(id);
            e.getRequest().setMethod(Bundle.HTTPVerb.PUT).setUrl(r.fhirType() + "/" + id);
        }
        return bundle;
    }

    private org.hl7.fhir.instance.model.api.IBaseResource parse(org.springframework.core.io.Resource file) {
        try (InputStream in = file.getInputStream()) {
            return ctx.newJsonParser().parseResource(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<org.springframework.core.io.Resource> resources(String pattern) {
        try {
            return Arrays.stream(new PathMatchingResourcePatternResolver().getResources("classpath:" + pattern))
                    .sorted(Comparator.comparing(org.springframework.core.io.Resource::getFilename)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
