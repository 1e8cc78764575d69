package jp.kiroku.exchange;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.Group;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.model.Structure;
import ca.uhn.hl7v2.parser.DefaultModelClassFactory;
import ca.uhn.hl7v2.parser.PipeParser;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;

/**
 * Reads one SS-MIX2 file as an HL7 v2.5 message with HAPI's v2 parser (hapi-structures-v25): the character set
 * (ISO-2022-JP, Shift_JIS/Windows-31J, UTF-8, EUC-JP, or detected), segments separated by CR (CR LF and LF accepted),
 * and the message's segments in order. HAPI's value checks are off (real SS-MIX2 data bends some of them); the
 * mapper checks the values it uses.
 */
final class Ssmix2Messages {

    /** The character set of the files, or null to detect it per file (see {@link #decode}). */
    private final Charset charset;
    private final PipeParser parser;

    Ssmix2Messages(Charset charset) {
        this.charset = charset;
        HapiContext hapi = new DefaultHapiContext(ValidationContextFactory.noValidation());
        hapi.setModelClassFactory(new JapaneseStructures());
        hapi.getParserConfiguration().setDefaultObx2Type("ST");
        hapi.getParserConfiguration().setInvalidObx2Type("ST");
        this.parser = hapi.getPipeParser();
    }

    /** A parsed message: its type (MSH-9.1^MSH-9.2) and its non-empty segments in message order. */
    record Parsed(String type, List<Segment> segments) {

        List<Segment> all(String name) {
            return segments.stream().filter(s -> s.getName().equals(name)).toList();
        }
    }

    /** A file that is not a readable SS-MIX2 HL7 v2.5 message. */
    static final class Malformed extends Exception {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    Parsed parse(byte[] bytes) throws Malformed {
        String text = decode(bytes).replace("\r\n", "\r").replace('\n', '\r');
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        text = text.strip();
        if (!text.startsWith("MSH|")) {
            throw new Malformed("not an HL7 v2 message: it does not start with an MSH segment");
        }
        String[] msh = text.substring(0, text.indexOf('\r') < 0 ? text.length() : text.indexOf('\r')).split("\\|", -1);
        if (msh.length < 12 || !msh[11].startsWith("2.5") || msh[11].startsWith("2.5.")) {
            throw new Malformed("HL7 version " + (msh.length < 12 ? "missing" : "'" + msh[11] + "'")
                    + " (MSH-12); SS-MIX2 messages are HL7 v2.5");
        }
        try {
            Message message = parser.parse(text);
            List<Segment> segments = new ArrayList<>();
            flatten(message, segments);
            Segment header = segments.get(0);
            return new Parsed(Terser.get(header, 9, 0, 1, 1) + "^" + Terser.get(header, 9, 0, 2, 1), segments);
        } catch (HL7Exception | RuntimeException e) {
            throw new Malformed("HL7 v2.5 parse error: " + e.getMessage());
        }
    }

    private static void flatten(Group group, List<Segment> out) throws HL7Exception {
        for (String name : group.getNames()) {
            for (Structure s : group.getAll(name)) {
                if (s instanceof Segment segment) {
                    if (!segment.isEmpty()) {
                        out.add(segment);
                    }
                } else if (s instanceof Group g) {
                    flatten(g, out);
                }
            }
        }
    }

    /**
     * The text of a file in the configured character set, or detected: escape sequences of ISO-2022-JP (ESC $ B, ESC
     * ( B, ESC ( J, ESC $ @) mean ISO-2022-JP (the SS-MIX2 default, MSH-18 "~ISO IR87"); bytes that decode as strict
     * UTF-8 are UTF-8 (plain ASCII included); anything else is read as Windows-31J (Shift_JIS with the vendor
     * characters common in Japanese hospital systems).
     */
    String decode(byte[] bytes) throws Malformed {
        Charset cs = charset != null ? charset : detect(bytes);
        try {
            return cs.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new Malformed("not valid " + cs.name() + " text" + (charset == null ? " (detected)" : "")
                    + "; give the character set with --encoding");
        }
    }

    static Charset detect(byte[] bytes) {
        for (int i = 0; i + 2 < bytes.length; i++) {
            if (bytes[i] == 0x1B && (bytes[i + 1] == '$' || bytes[i + 1] == '(')) {
                return Charset.forName("ISO-2022-JP");
            }
        }
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
            return StandardCharsets.UTF_8;
        } catch (CharacterCodingException e) {
            return Charset.forName("windows-31j");
        }
    }

    /**
     * HAPI's v2.5 structures, plus SS-MIX2's Japanese event {@code PPR^ZD1} (problems, JAHIS 病名情報), whose structure
     * is PPR_PC1's with Z segments (ZPR, ZI1, which HAPI keeps as non-standard segments).
     */
    private static final class JapaneseStructures extends DefaultModelClassFactory {
        @Override
        public Class<? extends Message> getMessageClass(String name, String version, boolean isExplicit) throws HL7Exception {
            if ("PPR_ZD1".equals(name)) {
                return ca.uhn.hl7v2.model.v25.message.PPR_PC1.class;
            }
            return super.getMessageClass(name, version, isExplicit);
        }
    }
}
