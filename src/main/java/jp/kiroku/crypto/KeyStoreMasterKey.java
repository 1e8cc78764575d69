package jp.kiroku.crypto;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;

import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import jp.kiroku.platform.SecretFiles;

/**
 * The master key in a PKCS#12 key store, {@code <keys-dir>/master-key.p12}, protected by a passphrase given directly
 * (to come from KIROKU_MASTER_KEY_PASSPHRASE once the store uses it) or read from a file.
 * Without either (a trial), a random passphrase is written beside the store, with a loud warning: keys kept next to
 * the data protect nothing. A wrong passphrase stops the start with a clear error.
 */
public final class KeyStoreMasterKey implements KeyProvider {

    private static final Logger LOG = LoggerFactory.getLogger(KeyStoreMasterKey.class);
    static final String STORE = "master-key.p12";
    static final String TRIAL_PASSPHRASE = "master-key.passphrase";
    private static final String ALIAS = "kiroku-master-1";

    private final SecretKey key;
    private final boolean trial;

    /** Opens the store in {@code keysDir}, creating it (and, in a trial, its passphrase file) at the first start. */
    public static KeyStoreMasterKey open(Path keysDir, String passphrase, Path passphraseFile) {
        boolean trial = (passphrase == null || passphrase.isEmpty()) && passphraseFile == null;
        char[] secret;
        try {
            if (!trial) {
                secret = (passphrase != null && !passphrase.isEmpty() ? passphrase
                        : Files.readString(passphraseFile, StandardCharsets.UTF_8).strip()).toCharArray();
            } else {
                secret = new String(SecretFiles.createIfAbsent(keysDir.resolve(TRIAL_PASSPHRASE),
                        SecretFiles.randomToken(32).getBytes(StandardCharsets.US_ASCII)), StandardCharsets.US_ASCII).toCharArray();
                LOG.warn("TRIAL KEYS: the master key store and its passphrase are both in {}: keys kept beside the data"
                        + " protect nothing. Set KIROKU_MASTER_KEY_PASSPHRASE and put kiroku.keys-dir on other storage"
                        + " (docs/operations.md).", keysDir);
            }
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read the master key passphrase file " + passphraseFile + ": "
                    + e.getMessage(), e);
        }
        if (secret.length < 12) {
            throw new IllegalStateException("The master key passphrase must have at least 12 characters");
        }
        return new KeyStoreMasterKey(load(keysDir.resolve(STORE), secret), trial);
    }

    private KeyStoreMasterKey(SecretKey key, boolean trial) {
        this.key = key;
        this.trial = trial;
    }

    private static SecretKey load(Path file, char[] passphrase) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            if (!Files.exists(file)) {
                store.load(null, passphrase);
                KeyGenerator g = KeyGenerator.getInstance("AES");
                g.init(256);
                store.setEntry(ALIAS, new KeyStore.SecretKeyEntry(g.generateKey()), new KeyStore.PasswordProtection(passphrase));
                java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
                try (OutputStream out = bytes) {
                    store.store(out, passphrase);
                }
                SecretFiles.createIfAbsent(file, bytes.toByteArray()); // a racing process's store wins; read it below
                store = KeyStore.getInstance("PKCS12");
            }
            try (InputStream in = Files.newInputStream(file)) {
                store.load(in, passphrase);
            }
            return (SecretKey) store.getKey(ALIAS, passphrase);
        } catch (IOException e) {
            if (e.getCause() instanceof java.security.UnrecoverableKeyException || String.valueOf(e.getMessage())
                    .contains("password")) {
                throw new IllegalStateException("Cannot open the master key store " + file + ": wrong passphrase"
                        + " (KIROKU_MASTER_KEY_PASSPHRASE). Kiroku does not start without its master key.");
            }
            throw new IllegalStateException("Cannot read the master key store " + file + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Cannot open the master key store " + file + ": " + e.getMessage(), e);
        }
    }

    /** True when the passphrase lies beside the store (a trial): the compliance report flags it. */
    public boolean trial() {
        return trial;
    }

    @Override
    public String masterKeyId() {
        return ALIAS;
    }

    @Override
    public byte[] wrap(byte[] dataKey, String context) {
        return Envelope.seal(key.getEncoded(), dataKey, "kiroku-data-key:" + context);
    }

    @Override
    public byte[] unwrap(byte[] wrapped, String context) {
        return Envelope.open(key.getEncoded(), wrapped, "kiroku-data-key:" + context);
    }
}
