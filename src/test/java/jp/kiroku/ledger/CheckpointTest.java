package jp.kiroku.ledger;

import static jp.kiroku.ledger.Rfc6962.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Signed notes and checkpoints. The signed-note layer is held to the example of Go's reference implementation
 * (golang.org/x/mod/sumdb/note, note_test.go): Ed25519 is deterministic, so signing its text with its key must give its
 * note byte for byte, and its notes must verify here.
 */
class CheckpointTest {

    // note_test.go: "PRIVATE+KEY+PeterNeumann+c74f20a3+<base64(0x01 || seed)>" and "PeterNeumann+c74f20a3+<base64(0x01
    // || public key)>"; the JDK takes them wrapped in the fixed PKCS#8 / X.509 prefixes of RFC 8410.
    static final String PETER_SEED = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    static final String PETER_PUBLIC = "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    static final String ENOCH_PUBLIC = "ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
    static final String GO_TEXT = "If you think cryptography is the answer to your problem,\n"
            + "then you don't know what your problem is.\n";
    static final String PETER_SIG = "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZS"
            + "NXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    static final String ENOCH_SIG = "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovT"
            + "G01oOTGwnWLox33WWd1RvMc+QQ=\n";

    static final byte[] ROOT8 = hex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
    static final Instant WHEN = Instant.parse("2025-01-01T00:00:00.123456Z");

    static PrivateKey privateFromGo(String seed) throws Exception {
        byte[] b = Base64.getDecoder().decode(seed);
        assertThat(b[0]).as("algorithm byte: Ed25519").isEqualTo((byte) 1);
        byte[] pkcs8 = concat(hex("302e020100300506032b657004220420"), Arrays.copyOfRange(b, 1, 33));
        return KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
    }

    static PublicKey publicFromGo(String key) throws Exception {
        byte[] b = Base64.getDecoder().decode(key);
        assertThat(b[0]).as("algorithm byte: Ed25519").isEqualTo((byte) 1);
        byte[] spki = concat(hex("302a300506032b6570032100"), Arrays.copyOfRange(b, 1, 33));
        return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static KeyPair newKeys() throws Exception {
        return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    }

    @Test
    void signedNotesMatchGosReferenceExample() throws Exception {
        PrivateKey peter = privateFromGo(PETER_SEED);
        PublicKey peterPublic = publicFromGo(PETER_PUBLIC);
        assertThat(SignedNote.keyId("PeterNeumann", SignedNote.rawPublicKey(peterPublic))).isEqualTo(0xc74f20a3);
        assertThat(SignedNote.keyId("EnochRoot", SignedNote.rawPublicKey(publicFromGo(ENOCH_PUBLIC))))
                .isEqualTo(0xaf0cfe78);
        assertThat(SignedNote.rawPublicKey(peter)).as("public key derived from the private one")
                .isEqualTo(SignedNote.rawPublicKey(peterPublic));

        assertThat(SignedNote.sign(GO_TEXT, peter, "PeterNeumann")).isEqualTo(GO_TEXT + "\n" + PETER_SIG);
        assertThat(SignedNote.open(GO_TEXT + "\n" + PETER_SIG, peterPublic, "PeterNeumann")).isEqualTo(GO_TEXT);
        // another key's signature is ignored, as the spec requires, and verifies with that key
        assertThat(SignedNote.open(GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG, peterPublic, "PeterNeumann"))
                .isEqualTo(GO_TEXT);
        assertThat(SignedNote.open(GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG, publicFromGo(ENOCH_PUBLIC), "EnochRoot"))
                .isEqualTo(GO_TEXT);
    }

    @Test
    @Tag("LOG-02")
    void gosBadNotesAreRejected() throws Exception {
        PublicKey peter = publicFromGo(PETER_PUBLIC);
        assertThatThrownBy(() -> SignedNote.open(GO_TEXT + "\n" + PETER_SIG.substring(0, 60) + "ABCD"
                + PETER_SIG.substring(60), peter, "PeterNeumann"))
                .isInstanceOf(CheckpointException.class).hasMessage("Invalid signature for key PeterNeumann+c74f20a3:"
                        + " the note was altered, or signed by another key");
        assertThatThrownBy(() -> SignedNote.open(GO_TEXT.replace("cryptography", "cryptographY") + "\n" + PETER_SIG,
                peter, "PeterNeumann")).hasMessageStartingWith("Invalid signature for key PeterNeumann+c74f20a3");
        assertThatThrownBy(() -> SignedNote.open(GO_TEXT + "\n" + ENOCH_SIG, peter, "PeterNeumann"))
                .isInstanceOf(CheckpointException.class)
                .hasMessage("Not signed by key PeterNeumann+c74f20a3; signed only by unknown keys EnochRoot+af0cfe78");
        String[] malformed = {
            GO_TEXT,
            GO_TEXT + "\n",
            GO_TEXT + "\n" + PETER_SIG.substring(0, PETER_SIG.length() - 1),
            "\u0001" + GO_TEXT + "\n" + PETER_SIG,
            GO_TEXT + "\n" + "\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdng"
                    + "otpRZb6KE6RyyBwJnAM=",
            GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
            GO_TEXT + "\n" + PETER_SIG.repeat(SignedNote.MAX_SIGNATURES + 1),
        };
        for (String note : malformed) {
            assertThatThrownBy(() -> SignedNote.open(note, peter, "PeterNeumann")).as(note)
                    .isInstanceOf(CheckpointException.class).hasMessageStartingWith("Malformed signed note: ");
        }
    }

    @Test
    void checkpointTextIsATlogCheckpointAndParsesBack() throws Exception {
        KeyPair keys = newKeys();
        Checkpoint cp = new Checkpoint("kiroku/record", 8, ROOT8, WHEN);
        String note = cp.sign(keys.getPrivate(), "kiroku/record");

        String body = "kiroku/record\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\ntimestamp 1735689600123\n";
        assertThat(cp.body()).isEqualTo(body);
        assertThat(note).startsWith(body + "\n\u2014 kiroku/record ").endsWith("\n");
        // the signature line, checked with the JDK alone: key ID per the signed-note spec, then Ed25519 over the body
        byte[] blob = Base64.getDecoder().decode(note.substring((body + "\n\u2014 kiroku/record ").length(),
                note.length() - 1));
        assertThat(blob).hasSize(4 + 64);
        byte[] spki = keys.getPublic().getEncoded();
        byte[] raw = Arrays.copyOfRange(spki, spki.length - 32, spki.length);
        byte[] id = Rfc6962.sha256("kiroku/record\n".getBytes(StandardCharsets.UTF_8), new byte[] {1}, raw);
        assertThat(Arrays.copyOf(blob, 4)).isEqualTo(Arrays.copyOf(id, 4));
        Signature ed = Signature.getInstance("Ed25519");
        ed.initVerify(keys.getPublic());
        ed.update(body.getBytes(StandardCharsets.UTF_8));
        assertThat(ed.verify(Arrays.copyOfRange(blob, 4, blob.length))).isTrue();

        Checkpoint parsed = Checkpoint.parse(note, keys.getPublic(), "kiroku/record");
        assertThat(parsed).isEqualTo(cp);
        assertThat(parsed.origin()).isEqualTo("kiroku/record");
        assertThat(parsed.size()).isEqualTo(8);
        assertThat(parsed.rootHash()).isEqualTo(ROOT8);
        assertThat(parsed.timestamp()).isEqualTo(Instant.parse("2025-01-01T00:00:00.123Z"));
    }

    @Test
    @Tag("LOG-02")
    @Tag("INTEG-03")
    void everyAlteredCharacterOfACheckpointIsRejected() throws Exception {
        KeyPair keys = newKeys();
        String note = new Checkpoint("kiroku/audit", 1234567, ROOT8, WHEN).sign(keys.getPrivate(), "kiroku/audit");
        for (int i = 0; i < note.length(); i++) {
            char c = note.charAt(i);
            String altered = note.substring(0, i) + (c == 'A' ? 'B' : 'A') + note.substring(i + 1);
            assertThatThrownBy(() -> Checkpoint.parse(altered, keys.getPublic(), "kiroku/audit"))
                    .as("character %d altered", i).isInstanceOf(CheckpointException.class);
        }
        String sig = note.substring(note.lastIndexOf(' ') + 1, note.length() - 1);
        String tamperedSignature = note.replace(sig, sig.substring(0, 20) + (sig.charAt(20) == 'A' ? 'B' : 'A')
                + sig.substring(21));
        String[] tampered = {
            note.replace("\n1234567\n", "\n1234568\n"),
            note.replace("kiroku/audit\n1234567", "kiroku/recrd\n1234567"),
            note.replace("XcnaeacG", "XcnaeacH"),
            note.replace("timestamp 1735689600123", "timestamp 1735689600124"),
            tamperedSignature,
        };
        for (String t : tampered) {
            assertThat(t).isNotEqualTo(note);
            assertThatThrownBy(() -> Checkpoint.parse(t, keys.getPublic(), "kiroku/audit")).as(t)
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageStartingWith("Invalid signature for key kiroku/audit+");
        }
    }

    /** JDK 17's Ed25519 verifier alone would accept it (a zero 65th byte leaves S unchanged); one note, one text. */
    @Test
    @Tag("LOG-02")
    void aSignatureWithAZeroByteAppendedIsRejected() throws Exception {
        KeyPair keys = newKeys();
        String note = new Checkpoint("kiroku/record", 8, ROOT8, WHEN).sign(keys.getPrivate(), "kiroku/record");
        String b64 = note.substring(note.lastIndexOf(' ') + 1, note.length() - 1);
        byte[] blob = Base64.getDecoder().decode(b64);
        String longer = note.replace(b64, Base64.getEncoder().encodeToString(Arrays.copyOf(blob, blob.length + 1)));
        assertThatThrownBy(() -> Checkpoint.parse(longer, keys.getPublic(), "kiroku/record"))
                .isInstanceOf(CheckpointException.class).hasMessageStartingWith("Invalid signature for key");
    }

    @Test
    @Tag("LOG-02")
    void checkpointsOfAnotherKeyOrKeyNameAreRejected() throws Exception {
        KeyPair keys = newKeys();
        String note = new Checkpoint("kiroku/record", 8, ROOT8, WHEN).sign(keys.getPrivate(), "kiroku/record");
        int realId = SignedNote.keyId("kiroku/record", SignedNote.rawPublicKey(keys.getPublic()));
        KeyPair other = newKeys();
        assertThatThrownBy(() -> Checkpoint.parse(note, other.getPublic(), "kiroku/record"))
                .isInstanceOf(CheckpointException.class)
                .hasMessageStartingWith("Not signed by key kiroku/record+")
                .hasMessageEndingWith("signed only by unknown keys kiroku/record+" + String.format("%08x", realId));
        assertThatThrownBy(() -> Checkpoint.parse(note, keys.getPublic(), "kiroku/audit"))
                .isInstanceOf(CheckpointException.class).hasMessageStartingWith("Not signed by key kiroku/audit+");
        // signed by the right key under a name that is not the one asked: still not a signature by that key
        String otherName = new Checkpoint("kiroku/record", 8, ROOT8, WHEN).sign(keys.getPrivate(), "someone/else");
        assertThatThrownBy(() -> Checkpoint.parse(otherName, keys.getPublic(), "kiroku/record"))
                .hasMessageStartingWith("Not signed by key kiroku/record+");
        // a witness's cosignature alongside ours is ignored
        String cosigned = note + new Checkpoint("kiroku/record", 8, ROOT8, WHEN)
                .sign(other.getPrivate(), "witness.example/w1").substring(cp8Body().length() + 1);
        assertThat(Checkpoint.parse(cosigned, keys.getPublic(), "kiroku/record").size()).isEqualTo(8);
    }

    private static String cp8Body() {
        return new Checkpoint("kiroku/record", 8, ROOT8, WHEN).body();
    }

    @Test
    void signedButMalformedCheckpointsAreRejectedWithTheReason() throws Exception {
        KeyPair keys = newKeys();
        String root = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n";
        String[][] cases = {
            {"kiroku/record\n8\n" + root, "the text has 3 lines, not 4"},
            {"kiroku/record\n8\n" + root + "timestamp 1\nextra\n", "the text has 5 lines, not 4"},
            {"kiroku/record\n08\n" + root + "timestamp 1\n", "the tree size is not a decimal number: 08"},
            {"kiroku/record\n-1\n" + root + "timestamp 1\n", "the tree size is not a decimal number: -1"},
            {"kiroku/record\n99999999999999999999\n" + root + "timestamp 1\n", "not a decimal number"},
            {"kiroku/record\n9999999999999999999\n" + root + "timestamp 1\n", "the tree size is too large"},
            {"kiroku/record\n8\nXcnaeacG\ntimestamp 1\n", "the root hash is not the base64 of 32 bytes"},
            {"kiroku/record\n8\nXcna eacG\ntimestamp 1\n", "the root hash is not base64"},
            {"kiroku/record\n8\n" + root + "time 1\n", "the fourth line is not 'timestamp <milliseconds>'"},
            {"kiroku/record\n8\n" + root + "timestamp +1\n", "the timestamp is not a decimal number"},
            {"kiroku record\n8\n" + root + "timestamp 1\n", "the origin is empty or has spaces or '+'"},
        };
        for (String[] c : cases) {
            String note = SignedNote.sign(c[0], keys.getPrivate(), "k");
            assertThatThrownBy(() -> Checkpoint.parse(note, keys.getPublic(), "k")).as(c[0])
                    .isInstanceOf(CheckpointException.class).hasMessageStartingWith("Malformed checkpoint: ")
                    .hasMessageContaining(c[1]);
        }
        String good = new Checkpoint("kiroku/record", 8, ROOT8, WHEN).sign(keys.getPrivate(), "k");
        assertThatThrownBy(() -> Checkpoint.parse(good.replace("\n", "\r\n"), keys.getPublic(), "k"))
                .hasMessageStartingWith("Malformed signed note: control character U+000D");
        assertThatThrownBy(() -> Checkpoint.parse(good.replace("\n\n", "\n"), keys.getPublic(), "k"))
                .hasMessage("Malformed signed note: no blank line between the text and the signatures");
        assertThatThrownBy(() -> Checkpoint.parse(cp8Body() + "\n", keys.getPublic(), "k"))
                .hasMessage("Malformed signed note: no signature lines after the blank line");
    }

    @Test
    void checkpointFieldsAreValidatedAndCopied() {
        assertThatThrownBy(() -> new Checkpoint("", 1, ROOT8, WHEN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Checkpoint("a b", 1, ROOT8, WHEN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Checkpoint("a+b", 1, ROOT8, WHEN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Checkpoint("a", -1, ROOT8, WHEN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Checkpoint("a", 1, new byte[31], WHEN))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Checkpoint("a", 1, ROOT8, null)).isInstanceOf(NullPointerException.class);

        byte[] root = ROOT8.clone();
        Checkpoint cp = new Checkpoint("a", 1, root, WHEN);
        root[0] ^= 1;
        cp.rootHash()[1] ^= 1;
        assertThat(cp.rootHash()).isEqualTo(ROOT8);
        assertThat(cp).isEqualTo(new Checkpoint("a", 1, ROOT8, Instant.parse("2025-01-01T00:00:00.123Z")))
                .hasSameHashCodeAs(new Checkpoint("a", 1, ROOT8, WHEN));
        assertThat(cp.toString()).contains("size 1", "XcnaeacG");
    }

    @Test
    void theEmptyLogHasACheckpointToo() throws Exception {
        KeyPair keys = newKeys();
        Checkpoint empty = new Checkpoint("kiroku/audit", 0, hex(
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), Instant.EPOCH);
        String note = empty.sign(keys.getPrivate(), "kiroku/audit");
        assertThat(note).startsWith("kiroku/audit\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ntimestamp 0\n\n");
        assertThat(Checkpoint.parse(note, keys.getPublic(), "kiroku/audit")).isEqualTo(empty);
    }
}
