package jp.kiroku.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The data directory's owner lock ({@code <data-dir>/run/kiroku.lock}). The operating system releases it when the
 * owning process dies, even by {@code kill -9}, so a crash never leaves the directory locked.
 */
public final class DataDirectoryLock implements AutoCloseable {

    /**
     * Lock files this process holds. On Linux closing any channel of a file drops every lock the process holds on it,
     * so a second look from the same process (an admin command run inside a test's server) must not even open one.
     */
    private static final java.util.Set<Path> HELD = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private DataDirectoryLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the lock, or returns empty when another process (a running server) holds it. */
    public static Optional<DataDirectoryLock> tryAcquire(Path dataDir) {
        try {
            Path run = SecretFiles.privateDirectories(dataDir.resolve("run"));
            Path file = run.resolve("kiroku.lock").toAbsolutePath().normalize();
            if (!HELD.add(file)) {
                return Optional.empty();
            }
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                FileLock l = ch.tryLock();
                if (l == null) {
                    ch.close();
                    HELD.remove(file);
                    return Optional.empty();
                }
                return Optional.of(new DataDirectoryLock(file, ch, l));
            } catch (OverlappingFileLockException sameJvm) {
                ch.close();
                HELD.remove(file);
                return Optional.empty();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot lock data directory " + dataDir.toAbsolutePath(), e);
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException ignored) {
            // the OS releases it with the process anyway
        } finally {
            HELD.remove(file);
        }
    }
}
