package jp.kiroku.incidents;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The downtime viewer's own access log (LOG-01 while the primary is down): {@code <export>.audit.jsonl}, one JSON line
 * per view — time, OS user, host, action, patient — chained: each line carries the SHA-256 of the line before (the
 * first, of the export file itself) and its own hash over its exact text, so a changed, inserted or removed line
 * breaks the chain. {@code kiroku bcp import-audit} verifies it and records every line in the audit ledger.
 */
public final class DowntimeAudit {

    /** One view as logged. {@code patient} is null for listing the export. */
    public record Line(int n, Instant time, String user, String host, String action, String patient, String prev,
                       String hash) {
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** A line is its body with {@code "hash"} as the last member: the hash is over the body's exact text. */
    private static final Pattern LINE = Pattern.compile("^(\\{.*),\"hash\":\"([0-9a-f]{64})\"}$");

    private DowntimeAudit() {
    }

    /** The audit file of an export: beside it, named after it. */
    public static Path of(Path export) {
        return export.resolveSibling(export.getFileName() + ".audit.jsonl");
    }

    /** Appends one view to the export's audit file (created at the first view), under a file lock. */
    public static Line append(Path export, String action, String patient) throws IOException {
        Path file = of(export);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE); FileLock lock = ch.lock()) {
            List<Line> lines = parse(new String(Files.readAllBytes(file), StandardCharsets.UTF_8), file);
            String prev = lines.isEmpty() ? sha256(Files.readAllBytes(export)) : lines.get(lines.size() - 1).hash();
            String host;
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.net.UnknownHostException e) {
                host = "localhost";
            }
            ObjectNode body = JSON.createObjectNode().put("n", lines.size() + 1).put("time", Instant.now().toString())
                    .put("user", System.getProperty("user.name", "unknown")).put("host", host).put("action", action)
                    .put("patient", patient).put("prev", prev);
            String text = JSON.writeValueAsString(body);
            String hash = sha256((prev + "\n" + text).getBytes(StandardCharsets.UTF_8));
            String line = text.substring(0, text.length() - 1) + ",\"hash\":\"" + hash + "\"}\n";
            ch.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)), ch.size());
            return read(text, prev, hash);
        }
    }

    /**
     * Every line of an audit file, the chain verified; an {@link IllegalArgumentException} naming the first line that
     * does not hold (altered, inserted, removed or reordered).
     */
    public static List<Line> verify(Path file) throws IOException {
        return parse(Files.readString(file, StandardCharsets.UTF_8), file);
    }

    private static List<Line> parse(String content, Path file) {
        List<Line> out = new ArrayList<>();
        String prev = null;
        int n = 0;
        for (String raw : content.split("\n")) {
            if (raw.isBlank()) {
                continue;
            }
            n++;
            Matcher m = LINE.matcher(raw);
            if (!m.matches()) {
                throw broken(file, n, "is not a line of a downtime audit file");
            }
            String body = m.group(1) + "}";
            Line line;
            try {
                JsonNode node = JSON.readTree(body);
                line = read(body, node.path("prev").asString(), m.group(2));
            } catch (RuntimeException e) {
                throw broken(file, n, "is not a line of a downtime audit file");
            }
            if (line.n() != n || (prev != null && !prev.equals(line.prev()))) {
                throw broken(file, n, "does not follow the line before it (a line was removed, inserted or moved)");
            }
            if (!sha256((line.prev() + "\n" + body).getBytes(StandardCharsets.UTF_8)).equals(line.hash())) {
                throw broken(file, n, "was altered (its hash does not match its content)");
            }
            prev = line.hash();
            out.add(line);
        }
        return out;
    }

    private static Line read(String body, String prev, String hash) {
        JsonNode node = JSON.readTree(body);
        return new Line(node.get("n").asInt(), Instant.parse(node.get("time").asString()), node.get("user").asString(),
                node.get("host").asString(), node.get("action").asString(),
                node.get("patient").isNull() ? null : node.get("patient").asString(), prev, hash);
    }

    private static IllegalArgumentException broken(Path file, int line, String why) {
        return new IllegalArgumentException("the downtime audit file " + file.getFileName() + " is broken: line " + line
                + " " + why + "; nothing was imported");
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
