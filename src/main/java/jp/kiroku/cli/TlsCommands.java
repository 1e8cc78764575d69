package jp.kiroku.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import jp.kiroku.platform.SecretFiles;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kiroku tls ...}: TLS helpers (NET-03/04; docs/operations.md, "TLS"). */
@Command(name = "tls", mixinStandardHelpOptions = true,
        description = "TLS helpers: a self-signed certificate for trials (production uses a certificate from a CA).",
        subcommands = {TlsCommands.SelfSigned.class})
final class TlsCommands extends CommandGroup {

    private static final Pattern DNS_NAME = Pattern.compile(
            "(?i)^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$");

    @Command(name = "self-signed", mixinStandardHelpOptions = true,
            description = {"Write a self-signed ECDSA P-256 certificate and its key (PEM) for a trial,",
                    "naming the host, 127.0.0.1 and localhost, and print the settings to start with.",
                    "For trials only: clients must be told to trust it; production uses a CA's certificate."})
    static final class SelfSigned implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--host", required = true, description = "The server's DNS name or IP address, as clients reach it.")
        String host;

        @Option(names = "--out", defaultValue = "kiroku-tls",
                description = "Directory for certificate.pem and private-key.pem (default ./kiroku-tls).")
        Path out;

        @Option(names = "--days", defaultValue = "90", description = "Validity in days (default 90; at most 397).")
        int days;

        @Option(names = "--force", description = "Replace an existing certificate and key in --out.")
        boolean force;

        @Override
        public Integer call() throws Exception {
            if (days < 1 || days > 397) {
                throw new IllegalArgumentException("--days must be between 1 and 397, not " + days);
            }
            List<GeneralName> names = subjectNames(host);
            Path certFile = out.resolve("certificate.pem");
            Path keyFile = out.resolve("private-key.pem");
            if (!force && (Files.exists(certFile) || Files.exists(keyFile))) {
                throw new IllegalStateException(certFile.getParent().toAbsolutePath() + " already holds a certificate or key;"
                        + " use --force to replace them, or another --out");
            }
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            KeyPair key = g.generateKeyPair();
            X509Certificate cert = certificate(key, host.strip(), names, days);
            Files.createDirectories(out);
            SecretFiles.write(keyFile, pem(new JcaPKCS8Generator(key.getPrivate(), null)));
            Files.write(certFile, pem(cert));
            String fingerprint = HexFormat.ofDelimiter(":").withUpperCase()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
            PrintWriter o = spec.commandLine().getOut();
            String c = certFile.toAbsolutePath().toString();
            String k = keyFile.toAbsolutePath().toString();
            o.println("Wrote a self-signed certificate for " + host + " (also 127.0.0.1 and localhost), valid " + days + " days.");
            o.println("  certificate: " + c);
            o.println("  private key: " + k + " (owner-only)");
            o.println("  SHA-256 fingerprint: " + fingerprint);
            o.println("FOR TRIALS ONLY: no client trusts it until told to (browsers warn); production uses a CA's certificate.");
            o.println("Start Kiroku with it:");
            o.println("  kiroku serve --host 0.0.0.0 --kiroku.tls.certificate=" + c + " --kiroku.tls.private-key=" + k);
            o.println("or in <data-dir>/kiroku.yml:");
            o.println("  kiroku:");
            o.println("    tls:");
            o.println("      certificate: " + c);
            o.println("      private-key: " + k);
            o.flush();
            return 0;
        }

        private static X509Certificate certificate(KeyPair key, String host, List<GeneralName> names, int days)
                throws GeneralSecurityException, IOException, OperatorCreationException {
            Instant now = Instant.now();
            var subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Kiroku trial (self-signed)")
                    .addRDN(BCStyle.CN, host).build();
            byte[] serial = new byte[16];
            new SecureRandom().nextBytes(serial);
            var b = new JcaX509v3CertificateBuilder(subject, new BigInteger(1, serial), Date.from(now.minus(5, ChronoUnit.MINUTES)),
                    Date.from(now.plus(days, ChronoUnit.DAYS)), subject, key.getPublic());
            var ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key.getPublic()));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())));
        }
    }

    /** The host (a DNS name or an IP address), then 127.0.0.1 and localhost, each once. */
    static List<GeneralName> subjectNames(String host) {
        String h = host == null ? "" : host.strip();
        Set<String> ips = new LinkedHashSet<>();
        Set<String> dns = new LinkedHashSet<>();
        if (h.matches("[0-9.]+") || h.contains(":")) {
            try {
                ips.add(InetAddress.getByName(h.replaceAll("^\\[|\\]$", "")).getHostAddress());
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("--host '" + host + "' is not a valid IP address");
            }
        } else if (DNS_NAME.matcher(h).matches() && !h.matches("[0-9.]+")) {
            dns.add(h.toLowerCase(java.util.Locale.ROOT));
        } else {
            throw new IllegalArgumentException("--host '" + host + "' is neither a DNS name (letters, digits, '-', '.') nor an IP address");
        }
        List<GeneralName> names = new ArrayList<>();
        dns.forEach(d -> names.add(new GeneralName(GeneralName.dNSName, d)));
        ips.forEach(i -> names.add(new GeneralName(GeneralName.iPAddress, i)));
        if (!dns.contains("localhost")) {
            names.add(new GeneralName(GeneralName.dNSName, "localhost"));
        }
        if (!ips.contains("127.0.0.1")) {
            names.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
        }
        return names;
    }

    private static byte[] pem(Object value) {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter p = new JcaPEMWriter(w)) {
            p.writeObject(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return w.toString().getBytes(StandardCharsets.UTF_8);
    }
}
