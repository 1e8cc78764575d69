package jp.kiroku.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/** Files that hold secrets: created owner-only (0600) and atomically, so a reader never sees half a secret. */
public final class SecretFiles {

    private static final SecureRandom RANDOM = new SecureRandom();

    private SecretFiles() {
    }

    /** A URL-safe random string carrying {@code bytes} bytes of entropy. */
    public static String randomToken(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** Writes {@code content} to {@code file} with mode 0600, replacing it atomically. */
    public static void write(Path file, byte[] content) {
        try {
            privateDirectories(file.toAbsolutePath().getParent());
            Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), ".tmp-", ".secret",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(tmp, content);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + file, e);
        }
    }

    /**
     * Creates {@code file} with {@code content} (mode 0600) unless it exists; returns what the file holds afterwards,
     * so that two processes racing to create the same secret end up using the same one.
     */
    public static byte[] createIfAbsent(Path file, byte[] content) {
        try {
            privateDirectories(file.toAbsolutePath().getParent());
            if (!Files.exists(file)) {
                Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), ".tmp-", ".secret",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.write(tmp, content);
                try {
                    Files.createLink(file, tmp); // fails if another process won the race
                } catch (FileAlreadyExistsException raced) {
                    // keep theirs
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create " + file, e);
        }
    }

    /**
     * Creates {@code dir} and whichever of its parents are missing owner-only (0700: the data and keys directories hold
     * records and keys; {@code kiroku doctor} checks it); directories that exist keep their mode.
     */
    public static Path privateDirectories(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            return abs;
        }
        if (abs.getParent() != null) {
            privateDirectories(abs.getParent());
        }
        try {
            Files.createDirectory(abs, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException raced) {
            // another process made it
        } catch (UnsupportedOperationException notPosix) {
            Files.createDirectories(abs);
        }
        return abs;
    }

    /** Overwrites the file with random bytes, forces them to the disk, then removes it (destroying a key file). */
    public static void destroy(Path file) throws IOException {
        long size = Files.size(file);
        byte[] noise = new byte[(int) Math.min(Math.max(size, 1), 1 << 20)];
        RANDOM.nextBytes(noise);
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            for (long written = 0; written < size; ) {
                written += ch.write(java.nio.ByteBuffer.wrap(noise, 0, (int) Math.min(noise.length, size - written)), written);
            }
            ch.force(true);
        }
        Files.delete(file);
    }
}
