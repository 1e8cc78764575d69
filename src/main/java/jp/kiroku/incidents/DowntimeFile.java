package jp.kiroku.incidents;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

import jp.kiroku.crypto.Envelope;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The downtime export (BCP-02, READ-04): the current inpatients' emergency summaries (text and PDF) and their FHIR
 * resources, in one file for a standalone PC that reads it while the primary system is down. The whole content is
 * sealed with AES-256-GCM under a key derived from a passphrase with Argon2id (memory-hard, so a stolen file resists
 * guessing); the header (format, salt, Argon2 parameters) is the associated data, so it cannot be altered either.
 * Opening needs nothing but this class: no database, no data directory, no keys.
 */
public final class DowntimeFile {

    private static final byte[] MAGIC = "KIROKU-DOWNTIME\n".getBytes(StandardCharsets.US_ASCII);
    private static final int FORMAT = 1;
    private static final int SALT = 16;
    /** Argon2id with 64 MiB, 3 passes, 1 lane: above OWASP's minimum (19 MiB, 2 passes), well under a second on a PC. */
    private static final int MEMORY_KIB = 64 * 1024;
    private static final int PASSES = 3;
    private static final int LANES = 1;
    private static final int HEADER = MAGIC.length + 4 * 4 + SALT;
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What an export holds: when it was made, of what (a ward, or every inpatient), and each patient's entry. */
    public record Contents(Instant created, String scope, List<Entry> patients) {
    }

    /** One patient: who (for the list), where, the summary as text and as PDF, and the resources as a FHIR Bundle. */
    public record Entry(String id, String name, String kana, String birthDate, String sex, String bed, String text,
                        byte[] pdf, String bundleJson) {
    }

    private DowntimeFile() {
    }

    /** The sealed file. */
    public static byte[] seal(Contents contents, char[] passphrase) {
        byte[] salt = new byte[SALT];
        RANDOM.nextBytes(salt);
        ByteBuffer header = ByteBuffer.allocate(HEADER).put(MAGIC).putInt(FORMAT).putInt(MEMORY_KIB).putInt(PASSES)
                .putInt(LANES).put(salt);
        byte[] sealed = Envelope.seal(key(passphrase, salt, MEMORY_KIB, PASSES, LANES), zip(contents),
                HexFormat.of().formatHex(header.array()));
        return ByteBuffer.allocate(HEADER + sealed.length).put(header.array()).put(sealed).array();
    }

    /** The contents; an {@link IllegalArgumentException} that says why when the file or the passphrase is not right. */
    public static Contents open(byte[] file, char[] passphrase) {
        if (file.length <= HEADER || !java.util.Arrays.equals(file, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new IllegalArgumentException("not a Kiroku downtime export");
        }
        ByteBuffer b = ByteBuffer.wrap(file, MAGIC.length, HEADER - MAGIC.length);
        int format = b.getInt();
        int memory = b.getInt();
        int passes = b.getInt();
        int lanes = b.getInt();
        if (format != FORMAT || memory < 8 || memory > 4 * 1024 * 1024 || passes < 1 || passes > 64 || lanes < 1 || lanes > 64) {
            throw new IllegalArgumentException("a downtime export of an unknown format (" + format + ")");
        }
        byte[] salt = new byte[SALT];
        b.get(salt);
        byte[] plain;
        try {
            plain = Envelope.open(key(passphrase, salt, memory, passes, lanes),
                    java.util.Arrays.copyOfRange(file, HEADER, file.length), HexFormat.of().formatHex(file, 0, HEADER));
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException("the passphrase does not open this downtime export (or the file was altered)");
        }
        return unzip(plain);
    }

    private static byte[] key(char[] passphrase, byte[] salt, int memoryKib, int passes, int lanes) {
        Argon2BytesGenerator argon = new Argon2BytesGenerator();
        argon.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id).withSalt(salt).withMemoryAsKB(memoryKib)
                .withIterations(passes).withParallelism(lanes).build());
        byte[] key = new byte[32];
        argon.generateBytes(passphrase, key);
        return key;
    }

    private static byte[] zip(Contents c) {
        ObjectNode index = JSON.createObjectNode().put("created", c.created().toString()).put("scope", c.scope());
        var list = index.putArray("patients");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (int i = 0; i < c.patients().size(); i++) {
                Entry e = c.patients().get(i);
                list.addObject().put("id", e.id()).put("name", e.name()).put("kana", e.kana()).put("birthDate", e.birthDate())
                        .put("sex", e.sex()).put("bed", e.bed());
                put(zip, i + "/summary.txt", e.text().getBytes(StandardCharsets.UTF_8));
                put(zip, i + "/summary.pdf", e.pdf());
                put(zip, i + "/bundle.json", e.bundleJson().getBytes(StandardCharsets.UTF_8));
            }
            put(zip, "index.json", JSON.writeValueAsBytes(index));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static void put(ZipOutputStream zip, String name, byte[] content) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(content);
        zip.closeEntry();
    }

    private static Contents unzip(byte[] plain) {
        Map<String, byte[]> files = new HashMap<>();
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(plain))) {
            for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                files.put(e.getName(), zip.readAllBytes());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        JsonNode index = JSON.readTree(files.get("index.json"));
        List<Entry> patients = new ArrayList<>();
        int i = 0;
        for (JsonNode p : index.get("patients")) {
            patients.add(new Entry(p.get("id").asString(), p.get("name").asString(), p.get("kana").asString(),
                    p.get("birthDate").asString(), p.get("sex").asString(), p.get("bed").asString(),
                    new String(files.get(i + "/summary.txt"), StandardCharsets.UTF_8), files.get(i + "/summary.pdf"),
                    new String(files.get(i + "/bundle.json"), StandardCharsets.UTF_8)));
            i++;
        }
        return new Contents(Instant.parse(index.get("created").asString()), index.get("scope").asString(), patients);
    }
}
