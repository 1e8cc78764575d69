package jp.kiroku.crypto;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

import jp.kiroku.platform.SecretFiles;

/**
 * Backups of the keys directory, kept apart from the data backups and only for a short time (issue 8, item 4): a data
 * backup without its keys is unreadable, and a key backup outlives a disposal by at most the key-backup retention (then
 * a destroyed data key, wrapped in an old data backup, has no master key left to open it). Each backup is a directory
 * {@code kiroku-keys-<UTC time>}: the master key store as it is (PKCS#12 under the passphrase), the other key files
 * sealed with AES-256-GCM under a key derived from the same passphrase (PBKDF2-HMAC-SHA-256), and a manifest with every
 * file's SHA-256 and the date after which the backup is pruned. The files are made read-only. In a trial (the
 * passphrase written beside the store) the passphrase file is copied too, so that the backup opens — and protects
 * nothing, like the trial itself.
 */
public final class KeyBackups {

    static final String PREFIX = "kiroku-keys-";
    private static final String SEALED = "other-keys.zip.sealed";
    private static final String MANIFEST = "manifest.properties";
    private static final int ITERATIONS = 600_000;
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    /** A backup made, and the older ones pruned. */
    public record Result(Path backup, List<String> files, Instant expires, List<Path> pruned) {
    }

    private KeyBackups() {
    }

    /** Backs the keys directory up into a new directory under {@code target}, then prunes backups past retention there. */
    public static Result create(Path keysDir, char[] passphrase, Path target, Instant now, Duration retention) throws IOException {
        Path backup = Files.createDirectories(target).resolve(PREFIX + STAMP.format(now));
        Files.createDirectory(backup, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Map<String, String> hashes = new LinkedHashMap<>();
        ByteArrayOutputStream others = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(others); Stream<Path> files = Files.list(keysDir)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                String name = f.getFileName().toString();
                if (name.startsWith(".") || name.equals(KeyStoreMasterKey.DECOMMISSIONED)) {
                    continue;
                }
                byte[] content = Files.readAllBytes(f);
                if (name.equals(KeyStoreMasterKey.STORE) || name.equals(KeyStoreMasterKey.TRIAL_PASSPHRASE)) {
                    write(backup.resolve(name), content, hashes);
                } else {
                    zip.putNextEntry(new ZipEntry(name));
                    zip.write(content);
                    zip.closeEntry();
                }
            }
        }
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        write(backup.resolve(SEALED), Envelope.seal(derive(passphrase, salt), others.toByteArray(), SEALED), hashes);
        Instant expires = now.plus(retention);
        StringBuilder manifest = new StringBuilder("# Kiroku key backup: restore with 'kiroku keys restore --from <this dir>'\n")
                .append("created=").append(now).append('\n').append("expires=").append(expires).append('\n')
                .append("salt=").append(HexFormat.of().formatHex(salt)).append('\n').append("iterations=").append(ITERATIONS)
                .append('\n');
        hashes.forEach((name, sha) -> manifest.append("sha256.").append(name).append('=').append(sha).append('\n'));
        write(backup.resolve(MANIFEST), manifest.toString().getBytes(StandardCharsets.UTF_8), null);
        backup.toFile().setWritable(false, false);
        return new Result(backup, new ArrayList<>(hashes.keySet()), expires, prune(target, now));
    }

    /** Removes (overwriting first) every backup under {@code target} whose expiry has passed. */
    public static List<Path> prune(Path target, Instant now) throws IOException {
        List<Path> pruned = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(target)) {
            for (Path d : dirs.filter(p -> p.getFileName().toString().startsWith(PREFIX) && Files.isDirectory(p)).toList()) {
                Map<String, String> m = manifest(d);
                if (m.containsKey("expires") && !Instant.parse(m.get("expires")).isAfter(now)) {
                    d.toFile().setWritable(true, true);
                    try (Stream<Path> files = Files.list(d)) {
                        for (Path f : files.toList()) {
                            f.toFile().setWritable(true, true);
                            SecretFiles.destroy(f);
                        }
                    }
                    Files.delete(d);
                    pruned.add(d);
                }
            }
        }
        return pruned;
    }

    /**
     * Restores a backup into an empty keys directory (one that holds no master key store): every file's hash is checked
     * first, and nothing is written when one differs or the passphrase does not open the sealed keys.
     */
    public static List<String> restore(Path backup, java.util.function.Supplier<char[]> passphrase, Path keysDir)
            throws IOException {
        if (Files.exists(keysDir.resolve(KeyStoreMasterKey.STORE))) {
            throw new IllegalStateException(keysDir + " already holds a master key store: restore into an empty keys directory");
        }
        if (Files.exists(keysDir.resolve(KeyStoreMasterKey.DECOMMISSIONED))) {
            throw new IllegalStateException(keysDir + " belongs to a decommissioned installation");
        }
        Map<String, String> m = manifest(backup);
        for (var e : m.entrySet()) {
            if (e.getKey().startsWith("sha256.")) {
                String name = e.getKey().substring("sha256.".length());
                if (!sha256(Files.readAllBytes(backup.resolve(name))).equals(e.getValue())) {
                    throw new IllegalStateException("the key backup's file " + name + " does not match its manifest: it was"
                            + " altered or damaged; use another backup");
                }
            }
        }
        List<String> restored = new ArrayList<>();
        Files.createDirectories(keysDir);
        Path trial = backup.resolve(KeyStoreMasterKey.TRIAL_PASSPHRASE);
        if (Files.exists(trial) && !Files.exists(keysDir.resolve(KeyStoreMasterKey.TRIAL_PASSPHRASE))) {
            SecretFiles.write(keysDir.resolve(KeyStoreMasterKey.TRIAL_PASSPHRASE), Files.readAllBytes(trial)); // a trial's
            restored.add(KeyStoreMasterKey.TRIAL_PASSPHRASE);
        }
        byte[] zipped;
        try {
            zipped = Envelope.open(derive(passphrase.get(), HexFormat.of().parseHex(m.get("salt"))),
                    Files.readAllBytes(backup.resolve(SEALED)), SEALED);
        } catch (IllegalStateException e) {
            throw new IllegalStateException("the passphrase does not open this key backup");
        }
        if (Files.exists(backup.resolve(KeyStoreMasterKey.STORE))) {
            SecretFiles.write(keysDir.resolve(KeyStoreMasterKey.STORE), Files.readAllBytes(backup.resolve(KeyStoreMasterKey.STORE)));
            restored.add(KeyStoreMasterKey.STORE);
        }
        try (ZipInputStream zip = new ZipInputStream(new java.io.ByteArrayInputStream(zipped))) {
            for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                String name = Path.of(e.getName()).getFileName().toString(); // no paths out of the keys directory
                SecretFiles.write(keysDir.resolve(name), zip.readAllBytes());
                restored.add(name);
            }
        }
        return restored;
    }

    private static Map<String, String> manifest(Path backup) throws IOException {
        java.util.Properties p = new java.util.Properties();
        Path file = backup.resolve(MANIFEST);
        if (!Files.exists(file)) {
            return Map.of();
        }
        try (var in = Files.newInputStream(file)) {
            p.load(in);
        }
        Map<String, String> out = new LinkedHashMap<>();
        p.stringPropertyNames().forEach(k -> out.put(k, p.getProperty(k)));
        return out;
    }

    private static void write(Path file, byte[] content, Map<String, String> hashes) throws IOException {
        Files.write(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
        if (hashes != null) {
            hashes.put(file.getFileName().toString(), sha256(content));
        }
    }

    private static byte[] derive(char[] passphrase, byte[] salt) {
        try {
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(new PBEKeySpec(passphrase, salt,
                    ITERATIONS, 256)).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2 is not available", e);
        }
    }

    private static String sha256(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
