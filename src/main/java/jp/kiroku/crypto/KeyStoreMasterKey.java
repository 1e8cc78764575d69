package jp.kiroku.crypto;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.List;

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
    /** The register of destroyed data keys kept beside the master key (one key id and time per line). */
    static final String DESTROYED = "destroyed-data-keys.txt";
    /** Left in the keys directory by {@link #destroyAll}: the store is never created again there. */
    public static final String DECOMMISSIONED = "DECOMMISSIONED";
    private static final String PREFIX = "kiroku-master-";

    /** The keys of the store as last read, and the file's modification time then. */
    private record Held(java.util.SortedMap<Integer, SecretKey> keys, java.nio.file.attribute.FileTime modified) {
        int current() {
            return keys.lastKey();
        }
    }

    private final Path file;
    private final char[] passphrase;
    private final boolean trial;
    private volatile Held held;

    /** Opens the store in {@code keysDir}, creating it (and, in a trial, its passphrase file) at the first start. */
    public static KeyStoreMasterKey open(Path keysDir, String passphrase, Path passphraseFile) {
        if (Files.exists(keysDir.resolve(DECOMMISSIONED))) {
            String when;
            try {
                when = Files.readString(keysDir.resolve(DECOMMISSIONED), StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                when = "(unreadable marker)";
            }
            throw new IllegalStateException("This installation was decommissioned (" + when + "): its keys are destroyed"
                    + " and Kiroku does not start on it again (" + keysDir.resolve(DECOMMISSIONED) + ")");
        }
        boolean trial = (passphrase == null || passphrase.isEmpty()) && passphraseFile == null;
        char[] secret = passphrase(keysDir, passphrase, passphraseFile);
        if (trial) {
            LOG.warn("TRIAL KEYS: the master key store and its passphrase are both in {}: keys kept beside the data"
                    + " protect nothing. Set KIROKU_MASTER_KEY_PASSPHRASE and put kiroku.keys-dir on other storage"
                    + " (docs/operations.md).", keysDir);
        }
        return new KeyStoreMasterKey(keysDir.resolve(STORE), secret, trial);
    }

    /**
     * The passphrase as configured: given, read from a file, or (a trial) the one written beside the store, created at
     * the first start. At least 12 characters.
     */
    public static char[] passphrase(Path keysDir, String passphrase, Path passphraseFile) {
        boolean trial = (passphrase == null || passphrase.isEmpty()) && passphraseFile == null;
        char[] secret;
        try {
            if (!trial) {
                secret = (passphrase != null && !passphrase.isEmpty() ? passphrase
                        : Files.readString(passphraseFile, StandardCharsets.UTF_8).strip()).toCharArray();
            } else {
                secret = new String(SecretFiles.createIfAbsent(keysDir.resolve(TRIAL_PASSPHRASE),
                        SecretFiles.randomToken(32).getBytes(StandardCharsets.US_ASCII)), StandardCharsets.US_ASCII).toCharArray();
            }
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read the master key passphrase file " + passphraseFile + ": "
                    + e.getMessage(), e);
        }
        if (secret.length < 12) {
            throw new IllegalStateException("The master key passphrase must have at least 12 characters");
        }
        return secret;
    }

    private KeyStoreMasterKey(Path file, char[] passphrase, boolean trial) {
        this.file = file;
        this.passphrase = passphrase;
        this.trial = trial;
        createIfAbsent();
        this.held = read();
    }

    private void createIfAbsent() {
        if (Files.exists(file)) {
            return;
        }
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, passphrase);
            store.setEntry(PREFIX + 1, new KeyStore.SecretKeyEntry(newKey()), new KeyStore.PasswordProtection(passphrase));
            SecretFiles.createIfAbsent(file, bytes(store)); // a racing process's store wins; read it after
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("Cannot create the master key store " + file + ": " + e.getMessage(), e);
        }
    }

    private static SecretKey newKey() throws GeneralSecurityException {
        KeyGenerator g = KeyGenerator.getInstance("AES");
        g.init(256);
        return g.generateKey();
    }

    private byte[] bytes(KeyStore store) throws IOException, GeneralSecurityException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        store.store(out, passphrase);
        return out.toByteArray();
    }

    private KeyStore load() {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(file)) {
                store.load(in, passphrase);
            }
            return store;
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

    private synchronized Held read() {
        try {
            var modified = Files.getLastModifiedTime(file);
            KeyStore store = load();
            java.util.SortedMap<Integer, SecretKey> keys = new java.util.TreeMap<>();
            for (String alias : java.util.Collections.list(store.aliases())) {
                if (alias.startsWith(PREFIX)) {
                    keys.put(Integer.parseInt(alias.substring(PREFIX.length())), (SecretKey) store.getKey(alias, passphrase));
                }
            }
            if (keys.isEmpty()) {
                throw new IllegalStateException("The master key store " + file + " holds no master key");
            }
            held = new Held(keys, modified);
            return held;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("Cannot read the master key store " + file + ": " + e.getMessage(), e);
        }
    }

    /** The keys, re-read when another process (a rotation run by the admin CLI) has replaced the file. */
    private Held fresh() {
        try {
            return Files.getLastModifiedTime(file).equals(held.modified()) ? held : read();
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read the master key store " + file + ": " + e.getMessage(), e);
        }
    }

    /** True when the passphrase lies beside the store (a trial): the compliance report flags it. */
    public boolean trial() {
        return trial;
    }

    @Override
    public String masterKeyId() {
        return PREFIX + fresh().current();
    }

    @Override
    public byte[] wrap(byte[] dataKey, String context) {
        Held h = fresh();
        return Envelope.seal(h.keys().get(h.current()).getEncoded(), dataKey, "kiroku-data-key:" + context);
    }

    @Override
    public byte[] unwrap(byte[] wrapped, String context, String masterKeyId) {
        int n = number(masterKeyId);
        SecretKey key = held.keys().get(n);
        if (key == null) {
            key = read().keys().get(n); // added by another process since this one last read the store
        }
        if (key == null) {
            throw new IllegalStateException("the master key " + masterKeyId + " is not in " + file + " (removed by a rotation)");
        }
        return Envelope.open(key.getEncoded(), wrapped, "kiroku-data-key:" + context);
    }

    private static int number(String masterKeyId) {
        if (masterKeyId == null || !masterKeyId.startsWith(PREFIX)) {
            throw new IllegalStateException("not a master key of this key store: " + masterKeyId);
        }
        return Integer.parseInt(masterKeyId.substring(PREFIX.length()));
    }

    @Override
    public List<String> masterKeyIds() {
        return fresh().keys().keySet().stream().map(n -> PREFIX + n).toList();
    }

    @Override
    public synchronized String addMasterKey() {
        try {
            KeyStore store = load();
            int next = read().current() + 1;
            store.setEntry(PREFIX + next, new KeyStore.SecretKeyEntry(newKey()), new KeyStore.PasswordProtection(passphrase));
            SecretFiles.write(file, bytes(store));
            read();
            return PREFIX + next;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("Cannot add a master key to " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void recordDestroyed(String keyId) {
        Path register = file.resolveSibling(DESTROYED);
        try {
            if (!Files.exists(register)) {
                SecretFiles.write(register, new byte[0]);
            }
            Files.writeString(register, keyId + " " + java.time.Instant.now() + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new IllegalStateException("Cannot record the destroyed key in " + register + ": " + e.getMessage(), e);
        }
    }

    @Override
    public java.util.Set<String> destroyedKeyIds() {
        Path register = file.resolveSibling(DESTROYED);
        try {
            if (!Files.exists(register)) {
                return java.util.Set.of();
            }
            java.util.Set<String> ids = new java.util.HashSet<>();
            for (String line : Files.readAllLines(register, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    ids.add(line.strip().split("\\s+")[0]);
                }
            }
            return ids;
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read " + register + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized List<String> destroyAll() {
        Path dir = file.getParent();
        List<String> destroyed = new java.util.ArrayList<>();
        try {
            SecretFiles.write(dir.resolve(DECOMMISSIONED), ("decommissioned " + java.time.Instant.now() + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            for (Path f : List.of(file, dir.resolve(TRIAL_PASSPHRASE))) {
                if (Files.exists(f)) {
                    SecretFiles.destroy(f);
                    destroyed.add(f.getFileName().toString());
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("Cannot destroy the master key store " + file + ": " + e.getMessage(), e);
        }
        held = new Held(new java.util.TreeMap<>(), null);
        return destroyed;
    }

    @Override
    public synchronized void removeMasterKey(String masterKeyId) {
        int n = number(masterKeyId);
        if (n == read().current()) {
            throw new IllegalStateException("the current master key cannot be removed");
        }
        try {
            KeyStore store = load();
            store.deleteEntry(masterKeyId);
            SecretFiles.write(file, bytes(store));
            read();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("Cannot remove a master key from " + file + ": " + e.getMessage(), e);
        }
    }
}
