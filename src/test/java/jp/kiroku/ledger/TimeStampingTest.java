package jp.kiroku.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import javax.sql.DataSource;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.tsp.TSPAlgorithms;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampResponseGenerator;
import org.bouncycastle.tsp.TimeStampTokenGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import com.sun.net.httpserver.HttpServer;

import jp.kiroku.platform.ClockCheck;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.platform.ProcessRole;
import jp.kiroku.support.ServerTest;

/** Checkpoints are time-stamped by an RFC 3161 authority (here one started by the test, BouncyCastle's). */
@Tag("LOG-02")
@Tag("LOG-03")
class TimeStampingTest extends ServerTest {

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    DataSource dataSource;
    @Autowired
    List<LeafSource> sources;
    @Autowired
    KirokuProperties serverProps;

    HttpServer tsa;
    AtomicLong stamped = new AtomicLong();
    X509Certificate tsaCert;

    @BeforeEach
    void startTsa() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair key = g.generateKeyPair();
        X500Name name = new X500Name("CN=Test TSA, O=Kiroku tests");
        Instant now = Instant.now();
        var builder = new JcaX509v3CertificateBuilder(name, BigInteger.ONE, Date.from(now.minusSeconds(60)),
                Date.from(now.plus(Duration.ofDays(1))), name, key.getPublic());
        builder.addExtension(Extension.extendedKeyUsage, true, new ExtendedKeyUsage(KeyPurposeId.id_kp_timeStamping));
        tsaCert = new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(key.getPrivate())));
        TimeStampTokenGenerator tokens = new TimeStampTokenGenerator(new JcaSimpleSignerInfoGeneratorBuilder()
                .build("SHA256withRSA", key.getPrivate(), tsaCert), new JcaDigestCalculatorProviderBuilder().build()
                .get(new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256)), new ASN1ObjectIdentifier("1.3.6.1.4.1.99999.1"));
        tokens.addCertificates(new JcaCertStore(List.of(tsaCert)));
        TimeStampResponseGenerator responses = new TimeStampResponseGenerator(tokens, TSPAlgorithms.ALLOWED);
        tsa = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        tsa.createContext("/tsa", exchange -> {
            try {
                TimeStampRequest request = new TimeStampRequest(exchange.getRequestBody().readAllBytes());
                byte[] answer = responses.generate(request, BigInteger.valueOf(stamped.incrementAndGet()), new Date())
                        .getEncoded();
                exchange.getResponseHeaders().add("Content-Type", "application/timestamp-reply");
                exchange.sendResponseHeaders(200, answer.length);
                exchange.getResponseBody().write(answer);
            } catch (Exception e) {
                exchange.sendResponseHeaders(500, -1);
            }
            exchange.close();
        });
        tsa.start();
    }

    @AfterEach
    void stopTsa() {
        tsa.stop(0);
    }

    @Test
    void everyCheckpointIsStampedAndTheStampIsVerified() {
        Ledgers stamping = ledgers(URI.create("http://127.0.0.1:" + tsa.getAddress().getPort() + "/tsa"));
        admin.post("Patient", "{\"resourceType\":\"Patient\"}");
        stamping.checkpointNow();
        assertThat(stamped.get()).isGreaterThanOrEqualTo(1);
        var row = jdbc.queryForMap("SELECT note, timestamp_token FROM ledger_checkpoint WHERE log = 1 ORDER BY size DESC LIMIT 1");
        byte[] token = (byte[]) row.get("timestamp_token");
        assertThat(token).isNotNull();
        TimeStamps.Stamp stamp = TimeStamps.verify(token, (String) row.get("note"));
        assertThat(stamp.authority()).contains("CN=Test TSA");
        assertThat(stamp.time()).isBetween(Instant.now().minusSeconds(120), Instant.now().plusSeconds(5));
        // the stamp is over this note and no other
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TimeStamps.verify(token, row.get("note") + " "))
                .hasMessageContaining("another text");
        assertThat(stamping.verify(List.of(), n -> { }).ok()).isTrue();
    }

    @Test
    void withoutTheTsaTheCheckpointIsStillSignedUnstamped() {
        tsa.stop(0);
        Ledgers stamping = ledgers(URI.create("http://127.0.0.1:" + tsa.getAddress().getPort() + "/tsa"));
        admin.post("Patient", "{\"resourceType\":\"Patient\"}");
        stamping.checkpointNow();
        var row = jdbc.queryForMap("SELECT timestamp_token FROM ledger_checkpoint WHERE log = 1 ORDER BY size DESC LIMIT 1");
        assertThat(row.get("timestamp_token")).isNull();
    }

    private Ledgers ledgers(URI tsaUrl) {
        KirokuProperties props = new KirokuProperties();
        props.setDataDir(serverProps.getDataDir());
        props.setKeysDir(serverProps.getKeysDir());
        props.getLedger().setTsaUrl(tsaUrl);
        return new Ledgers(jdbc, new TransactionTemplate(new DataSourceTransactionManager(dataSource)), sources,
                java.time.Clock.systemUTC(), new ClockCheck(List.of("true"), Duration.ofSeconds(1), false), props,
                ProcessRole.ADMIN);
    }
}
