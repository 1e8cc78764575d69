package jp.kiroku.backup;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

import jp.kiroku.crypto.Envelope;

/**
 * A segment file: a piece of one table's COPY stream, compressed (deflate, fastest level: bodies are already
 * encrypted and do not shrink, the rest does) and sealed with AES-256-GCM under the generation's backup key, bound to
 * the generation and its own name, so that a segment cannot be altered, swapped or moved unnoticed. The manifest
 * holds each file's SHA-256, which verification checks without the key.
 */
final class Segments {

    private Segments() {
    }

    static Manifest.Segment write(Path generation, String file, byte[] plain, int length, byte[] key, String generationId,
                                  boolean writeOnce) throws IOException {
        Deflater deflater = new Deflater(Deflater.BEST_SPEED);
        deflater.setInput(plain, 0, length);
        deflater.finish();
        ByteArrayOutputStream packed = new ByteArrayOutputStream(length / 2 + 64);
        byte[] buf = new byte[1 << 16];
        while (!deflater.finished()) {
            packed.write(buf, 0, deflater.deflate(buf));
        }
        deflater.end();
        byte[] sealed = Envelope.seal(key, packed.toByteArray(), aad(generationId, file));
        Path target = generation.resolve(file);
        Files.write(target, sealed, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
        if (writeOnce) {
            Targets.makeReadOnly(target);
        }
        return new Manifest.Segment(file, sha256(sealed), sealed.length);
    }

    /** The segment's plain bytes; an {@link IllegalStateException} naming the segment when it is damaged. */
    static byte[] read(Path generation, Manifest.Segment s, byte[] key, String generationId) {
        byte[] sealed = readChecked(generation, s);
        byte[] packed;
        try {
            packed = Envelope.open(key, sealed, aad(generationId, s.file()));
        } catch (IllegalStateException e) {
            throw damaged(generation, s, "it does not decrypt with the backup key (" + e.getMessage() + ")");
        }
        Inflater inflater = new Inflater();
        inflater.setInput(packed);
        ByteArrayOutputStream out = new ByteArrayOutputStream(packed.length * 2 + 64);
        byte[] buf = new byte[1 << 16];
        try {
            while (!inflater.finished()) {
                int n = inflater.inflate(buf);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    throw damaged(generation, s, "its compressed content ends early");
                }
                out.write(buf, 0, n);
            }
        } catch (DataFormatException e) {
            throw damaged(generation, s, "its compressed content is corrupt");
        } finally {
            inflater.end();
        }
        return out.toByteArray();
    }

    /** A table's plain COPY stream, segment after segment, each read, checked and opened when the stream reaches it. */
    static java.io.InputStream stream(Path generation, Manifest m, Manifest.Table t, byte[] key,
                                      java.util.function.LongConsumer progress) {
        java.util.Iterator<Manifest.Segment> it = t.segments().iterator();
        return new java.io.SequenceInputStream(new java.util.Enumeration<java.io.InputStream>() {
            @Override
            public boolean hasMoreElements() {
                return it.hasNext();
            }

            @Override
            public java.io.InputStream nextElement() {
                byte[] plain = read(generation, it.next(), key, m.id());
                progress.accept(plain.length);
                return new java.io.ByteArrayInputStream(plain);
            }
        });
    }

    /** The file's bytes once their length and SHA-256 are those the manifest gives. */
    static byte[] readChecked(Path generation, Manifest.Segment s) {
        Path file = generation.resolve(s.file());
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw damaged(generation, s, "the file is missing");
        } catch (IOException e) {
            throw damaged(generation, s, "it cannot be read: " + e.getMessage());
        }
        if (bytes.length != s.bytes() || !sha256(bytes).equals(s.sha256())) {
            throw damaged(generation, s, "its SHA-256 is not the one in the manifest (" + bytes.length + " bytes, "
                    + s.bytes() + " expected)");
        }
        return bytes;
    }

    static IllegalStateException damaged(Path generation, Manifest.Segment s, String why) {
        return new IllegalStateException("backup segment " + generation.getFileName() + "/" + s.file() + " is damaged: "
                + why);
    }

    private static String aad(String generationId, String file) {
        return "kiroku-backup:" + generationId + ":" + file;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
