package jp.kiroku.exchange;

/** Identifier and code systems the exchange formats share (JP Core 1.1.2), defined once for all of them. */
final class CodeSystems {

    private CodeSystems() {
    }

    /** A medical institution's local patient ids: this prefix + its 10-digit number (JP Core). */
    static final String PATIENT_ID_PREFIX = "urn:oid:1.2.392.100495.20.3.51.1";
    /** JLAC10 17-digit codes (MEDIS 臨床検査マスター). */
    static final String JLAC10 = "urn:oid:1.2.392.200119.4.504";
    /** The extension that says whether a name is in kanji (IDE) or kana (SYL). */
    static final String NAME_REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
}
