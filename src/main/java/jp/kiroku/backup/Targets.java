package jp.kiroku.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A backup target directory: one sub-directory per generation, written under a ".partial-" name and renamed when
 * complete (so a crash never leaves something that looks like a backup). A write-once generation has its files made
 * read-only (0444) and its directory closed (0555) as soon as they are written; Kiroku never rewrites or deletes it.
 * (Mode bits stop every writer but root and the owner that changes them back; real immutability comes from the
 * storage: chattr +i, a WORM share or an object store with Object Lock — docs/operations.md.)
 */
final class Targets {

    static final String PARTIAL = ".partial-";
    static final String WRITE_ONCE_MARK = "WRITE-ONCE";

    private Targets() {
    }

    static void makeReadOnly(Path file) throws IOException {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
    }

    static void closeDirectory(Path dir) throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
    }

    static boolean isWriteOnce(Path generation) {
        return Files.exists(generation.resolve(WRITE_ONCE_MARK));
    }

    /** The complete generations in {@code target}, oldest first (by the time in their names). */
    static List<Path> generations(Path target) throws IOException {
        if (!Files.isDirectory(target)) {
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        try (Stream<Path> list = Files.list(target)) {
            list.filter(p -> Files.isDirectory(p) && !p.getFileName().toString().startsWith(".")
                    && Files.isRegularFile(p.resolve(Manifest.FILE))).forEach(out::add);
        }
        out.sort(Comparator.comparing(p -> p.getFileName().toString()));
        return out;
    }

    /**
     * Generations left unfinished (a crash, a full disk) more than a day ago; a younger one may still be written by
     * another process.
     */
    static List<Path> stalePartials(Path target, java.time.Instant now) throws IOException {
        if (!Files.isDirectory(target)) {
            return List.of();
        }
        try (Stream<Path> list = Files.list(target)) {
            return list.filter(p -> Files.isDirectory(p) && p.getFileName().toString().startsWith(PARTIAL)).filter(p -> {
                try {
                    return Files.getLastModifiedTime(p).toInstant().isBefore(now.minus(java.time.Duration.ofDays(1)));
                } catch (IOException e) {
                    return false;
                }
            }).toList();
        }
    }

    /** Deletes a generation (a plain one: write-once generations are refused before this). */
    static void delete(Path generation) throws IOException {
        try (Stream<Path> walk = Files.walk(generation)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
