package jp.kiroku.platform;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Maps {@code kiroku.tls.*} onto Spring Boot's {@code server.ssl.*} (NET-03/04; docs/operations.md, "TLS"), in a
 * property source of the lowest precedence, so that a {@code server.ssl.*} property set explicitly wins key by key.
 * Whenever TLS is on (from either), the protocols default to TLS 1.3 only ({@code kiroku.tls.allow-tls12}: also TLS 1.2)
 * and the cipher suites to the CRYPTREC 「TLS暗号設定ガイドライン」 (GL-3001-3.0.1) high-security ones that the JDK offers:
 * ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 only — no CBC, no RSA key exchange, no SHA-1 MAC — and handshake
 * signatures without SHA-1 ({@link #SIGNATURE_SCHEMES}).
 */
public class TlsSettings implements EnvironmentPostProcessor, Ordered {

    /** TLS 1.3 suites (RFC 8446) that the JDK implements; the guideline's TLS 1.3 list less the CCM ones. */
    public static final List<String> TLS13_SUITES = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256");
    /** TLS 1.2 suites of the guideline's high-security type: ECDHE (ECDSA or RSA certificates) with AEAD ciphers. */
    public static final List<String> TLS12_SUITES = List.of("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    /**
     * The handshake signatures the server makes and asks for: no SHA-1 (nor SHA-224). The JDK 17 server would otherwise
     * sign a TLS 1.2 handshake with ECDSA+SHA1 for a client that offers only that. A -D setting of the JVM wins.
     */
    public static final String SIGNATURE_SCHEMES = "ecdsa_secp256r1_sha256,ecdsa_secp384r1_sha384,ecdsa_secp521r1_sha512,"
            + "ed25519,ed448,rsa_pss_rsae_sha256,rsa_pss_rsae_sha384,rsa_pss_rsae_sha512,rsa_pss_pss_sha256,"
            + "rsa_pss_pss_sha384,rsa_pss_pss_sha512,rsa_pkcs1_sha256,rsa_pkcs1_sha384,rsa_pkcs1_sha512";

    static final String SOURCE = "kiroku-tls";

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE; // after the configuration files (kiroku.yml) are read
    }

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment env, SpringApplication application) {
        KirokuProperties.Tls tls = Binder.get(env).bind("kiroku.tls", KirokuProperties.Tls.class)
                .orElseGet(KirokuProperties.Tls::new);
        Map<String, Object> ssl = map(tls, rawCertificate(env));
        if (ssl.containsKey("server.ssl.certificate") || ssl.containsKey("server.ssl.key-store") || rawCertificate(env)) {
            if (env.getProperty("server.ssl.enabled", Boolean.class, true)) {
                ssl.put("server.ssl.enabled-protocols", tls.isAllowTls12() ? "TLSv1.2,TLSv1.3" : "TLSv1.3");
                ssl.put("server.ssl.ciphers", String.join(",", tls.isAllowTls12()
                        ? concat(TLS13_SUITES, TLS12_SUITES) : TLS13_SUITES));
                if (System.getProperty("jdk.tls.server.SignatureSchemes") == null) { // read when JSSE first starts
                    System.setProperty("jdk.tls.server.SignatureSchemes", SIGNATURE_SCHEMES);
                }
            }
        }
        if (!ssl.isEmpty()) {
            env.getPropertySources().addLast(new MapPropertySource(SOURCE, ssl));
        }
    }

    private static boolean rawCertificate(ConfigurableEnvironment env) {
        return env.containsProperty("server.ssl.bundle") || env.containsProperty("server.ssl.key-store")
                || env.containsProperty("server.ssl.certificate");
    }

    /** The server.ssl.* properties that kiroku.tls.* stands for; refuses contradictions and missing files plainly. */
    static Map<String, Object> map(KirokuProperties.Tls tls, boolean raw) {
        Map<String, Object> ssl = new LinkedHashMap<>();
        boolean pem = tls.getCertificate() != null || tls.getPrivateKey() != null;
        if (pem && tls.getKeystore() != null) {
            throw new TlsSettingsException("kiroku.tls.certificate/private-key and kiroku.tls.keystore are both set; use one of them");
        }
        if ((pem || tls.getKeystore() != null) && raw) {
            throw new TlsSettingsException("Both kiroku.tls.* and server.ssl.* name the server's certificate; use one of them"
                    + " (kiroku.tls.* is the documented way)");
        }
        if (pem) {
            if (tls.getCertificate() == null || tls.getPrivateKey() == null) {
                throw new TlsSettingsException("kiroku.tls.certificate and kiroku.tls.private-key go together; one of them is missing");
            }
            ssl.put("server.ssl.certificate", readable(tls.getCertificate(), "kiroku.tls.certificate"));
            ssl.put("server.ssl.certificate-private-key", readable(tls.getPrivateKey(), "kiroku.tls.private-key"));
        } else if (tls.getKeystore() != null) {
            ssl.put("server.ssl.key-store", readable(tls.getKeystore(), "kiroku.tls.keystore"));
            ssl.put("server.ssl.key-store-type", "PKCS12");
            String password = tls.getKeystorePassword();
            if (tls.getKeystorePasswordFile() != null) {
                if (password != null) {
                    throw new TlsSettingsException("kiroku.tls.keystore-password and kiroku.tls.keystore-password-file are both set; use one of them");
                }
                try {
                    password = Files.readString(Path.of(readable(tls.getKeystorePasswordFile(),
                            "kiroku.tls.keystore-password-file")), StandardCharsets.UTF_8).strip();
                } catch (IOException e) {
                    throw new TlsSettingsException("Cannot read kiroku.tls.keystore-password-file " + tls.getKeystorePasswordFile()
                            + ": " + e.getMessage());
                }
            }
            if (password == null) {
                throw new TlsSettingsException("kiroku.tls.keystore needs its password: KIROKU_TLS_KEYSTORE_PASSWORD or"
                        + " kiroku.tls.keystore-password-file");
            }
            ssl.put("server.ssl.key-store-password", password);
            if (tls.getKeyAlias() != null) {
                ssl.put("server.ssl.key-alias", tls.getKeyAlias());
            }
        }
        String clientAuth = tls.getClientAuth() == null ? "none" : tls.getClientAuth().strip().toLowerCase(Locale.ROOT);
        if (!List.of("none", "want", "need").contains(clientAuth)) {
            throw new TlsSettingsException("kiroku.tls.client-auth must be none, want or need, not '" + tls.getClientAuth() + "'");
        }
        if (!clientAuth.equals("none")) {
            if (tls.getClientCa() == null) {
                throw new TlsSettingsException("kiroku.tls.client-auth=" + clientAuth + " needs kiroku.tls.client-ca: the PEM"
                        + " file of the CA that issues the client certificates");
            }
            ssl.put("server.ssl.client-auth", clientAuth);
            ssl.put("server.ssl.trust-certificate", readable(tls.getClientCa(), "kiroku.tls.client-ca"));
        } else if (tls.getClientCa() != null) {
            ssl.put("server.ssl.trust-certificate", readable(tls.getClientCa(), "kiroku.tls.client-ca"));
        }
        return ssl;
    }

    private static String readable(Path file, String setting) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new TlsSettingsException(setting + ": " + file.toAbsolutePath() + " is not a readable file");
        }
        return file.toAbsolutePath().toString();
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new java.util.ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
