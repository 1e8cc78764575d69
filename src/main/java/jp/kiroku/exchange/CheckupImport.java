package jp.kiroku.exchange;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

import org.hl7.fhir.r4.model.Annotation;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CanonicalType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;
import org.springframework.stereotype.Component;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.StrictErrorHandler;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import jp.kiroku.fhir.Interactions;
import jp.kiroku.identity.Caller;

/**
 * Health-check data import (issue 12, item 2; PHR-03, PHR-06), for the CLI ({@code kiroku checkup import}) and the
 * REST entry ({@code POST /exchange/checkup}). Everything is written through {@link Interactions#transaction} — one
 * FHIR transaction per file — so it is checked (scopes, roles, references, JP Core validation), versioned, indexed,
 * ledgered and audited exactly like a client's transaction; a file is all-or-nothing.
 * <ul>
 * <li><b>CSV</b> ({@link CheckupCsv}, docs/health-checks.md): one Observation per row. Its identity is an identifier
 * ({@link #RESULT_SYSTEM}) hashed from the performer, the patient as the file names them, the examination date and the
 * item code, so a re-import finds it: unchanged results are not written again, changed ones become a new version of
 * the same Observation. The patient is {@code patient_id}, or found by identifier, or created with that identifier.
 * Bad rows are reported by line; by default one bad row means nothing is written, with {@code validRowsOnly} the
 * valid rows are written and the bad ones reported.</li>
 * <li><b>FHIR</b>: a 健診結果報告書 (eCheckupReport) document Bundle. The document itself is kept byte for byte as a
 * DocumentReference in the patient's compartment (so it is sealed under the patient's key, downloaded with their
 * records and disposed with them); its entries — Composition, Observations, Encounter, organisations … — are stored as
 * resources of their own, their references between entries kept, so they are searchable by patient, code and date.
 * The patient is matched by the document Patient's first identifier, or created. Codes (JLAC10, JLAC11, 特定健診項目コード)
 * are kept exactly as sent.</li>
 * </ul>
 */
@Component
public class CheckupImport {

    /** The identifier system of imported health-check results: their identity across re-imports. */
    public static final String RESULT_SYSTEM = "http://kiroku.jp/fhir/NamingSystem/checkup-result";
    /** Profiles Kiroku validates against (JP Core 1.1.2); others cannot be checked offline and are not claimed. */
    static final String JP_CORE_PROFILES = "http://jpfhir.jp/fhir/core/StructureDefinition/";
    /** LOINC 53576-5 as JP documents write it: 検診・健診報告書, for a kept document without a Composition type. */
    static final String DOC_TYPE_SYSTEM = "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes";
    /** How many identifiers one search for existing results asks for. */
    private static final int LOOKUP_CHUNK = 50;

    public enum Format {
        CSV, FHIR;

        /** {@code csv} or {@code fhir}; null: from the file name (.csv, otherwise FHIR JSON/XML). */
        public static Format of(String given, String fileName) {
            if (given != null) {
                return switch (given.toLowerCase(Locale.ROOT)) {
                    case "csv" -> CSV;
                    case "fhir", "json", "xml" -> FHIR;
                    default -> throw new IllegalArgumentException("format must be fhir or csv, not " + given);
                };
            }
            return fileName != null && fileName.toLowerCase(Locale.ROOT).endsWith(".csv") ? CSV : FHIR;
        }
    }

    /**
     * What an import did: whether the file was refused as a whole (bad rows, nothing written), whether anything was
     * written, the resources created, updated (a new version) and left unchanged, the patients created, the rows
     * rejected (line and reason) and notes (e.g. profiles not checked).
     */
    public record Report(Format format, boolean refused, boolean written, int created, int updated, int unchanged, int patientsCreated,
                         List<CheckupCsv.Rejected> rejected, List<String> notes) {

        public String summary() {
            StringBuilder s = new StringBuilder(refused ? "refused, nothing written" : written ? "imported"
                    : "nothing new to write");
            s.append(": ").append(created).append(" created, ").append(updated).append(" updated, ").append(unchanged)
                    .append(" unchanged, ").append(patientsCreated).append(" patients created");
            if (!rejected.isEmpty()) {
                s.append("; ").append(rejected.size()).append(rejected.size() == 1 ? " row" : " rows").append(" rejected");
            }
            return s.toString();
        }
    }

    private final Interactions fhir;
    private final FhirContext ctx;

    CheckupImport(Interactions fhir, FhirContext ctx) {
        this.fhir = fhir;
        this.ctx = ctx;
    }

    /** Imports a file's content in the given format (see the class comment). */
    public Report importContent(Caller caller, Format format, String content, boolean validRowsOnly) {
        return format == Format.CSV ? importCsv(caller, content, validRowsOnly) : importDocument(caller, content);
    }

    // ---------------------------------------------------------------------------------------------------------- CSV

    public Report importCsv(Caller caller, String text, boolean validRowsOnly) {
        CheckupCsv.Parsed parsed = CheckupCsv.parse(text);
        List<CheckupCsv.Rejected> rejected = new ArrayList<>(parsed.rejected());
        // the patients, each once: by id (must exist), or by identifier (found once, or created)
        Map<String, String> patientRef = new HashMap<>();
        Map<String, String> patientRefused = new HashMap<>();
        Map<String, Patient> toCreate = new LinkedHashMap<>();
        for (CheckupCsv.Row row : parsed.rows()) {
            String key = row.patientKey();
            if (patientRef.containsKey(key) || patientRefused.containsKey(key)) {
                continue;
            }
            if (row.patientId() != null) {
                try {
                    fhir.read(caller, "Patient", row.patientId());
                    patientRef.put(key, "Patient/" + row.patientId());
                } catch (ResourceNotFoundException | ResourceGoneException e) {
                    patientRefused.put(key, "no Patient/" + row.patientId());
                }
                continue;
            }
            List<String> found = ids(fhir.search(caller, "Patient", Map.of("identifier",
                    List.of(escape(row.identifierSystem()) + "|" + escape(row.identifierValue())), "_count",
                    List.of("3"))));
            if (found.size() == 1) {
                patientRef.put(key, "Patient/" + found.get(0));
            } else if (found.size() > 1) {
                patientRefused.put(key, "the patient identifier " + key + " matches " + found.size() + " patients");
            } else {
                patientRef.put(key, "urn:uuid:" + UUID.randomUUID());
                toCreate.put(key, newPatient(row));
            }
        }
        // each result once per file, its identity from the source
        Map<String, CheckupCsv.Row> byIdentity = new LinkedHashMap<>();
        for (CheckupCsv.Row row : parsed.rows()) {
            String refused = patientRefused.get(row.patientKey());
            if (refused != null) {
                rejected.add(new CheckupCsv.Rejected(row.line(), refused));
                continue;
            }
            CheckupCsv.Row earlier = byIdentity.putIfAbsent(identity(row), row);
            if (earlier != null) {
                rejected.add(new CheckupCsv.Rejected(row.line(), "the same patient, examination date, performer and item"
                        + " as line " + earlier.line()));
            }
        }
        rejected.sort(java.util.Comparator.comparingInt(CheckupCsv.Rejected::line));
        if (byIdentity.isEmpty() || !rejected.isEmpty() && !validRowsOnly) {
            return new Report(Format.CSV, !rejected.isEmpty(), false, 0, 0, 0, 0, rejected, rejected.isEmpty()
                    ? List.of("no result rows") : List.of("nothing was written: correct the rejected rows, or import"
                    + " the valid rows only (--valid-rows-only / valid-rows-only=true)"));
        }
        Map<String, Observation> existing = existingResults(caller, new ArrayList<>(byIdentity.keySet()));
        Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        Map<String, Patient> created = new LinkedHashMap<>();
        int unchanged = 0;
        int updated = 0;
        int newResults = 0;
        for (var e : byIdentity.entrySet()) {
            CheckupCsv.Row row = e.getValue();
            String ref = patientRef.get(row.patientKey());
            Patient create = toCreate.get(row.patientKey());
            if (create != null && created.putIfAbsent(row.patientKey(), create) == null) {
                tx.addEntry().setFullUrl(ref).setResource(create).getRequest().setMethod(Bundle.HTTPVerb.POST)
                        .setUrl("Patient").setIfNoneExist("identifier=" + token(row.identifierSystem(),
                                row.identifierValue()));
            }
            Observation wanted = observation(row, e.getKey(), ref);
            Observation old = existing.get(e.getKey());
            if (old == null) {
                newResults++;
                tx.addEntry().setResource(wanted).getRequest().setMethod(Bundle.HTTPVerb.PUT)
                        .setUrl("Observation/ck-" + e.getKey());
            } else if (sameResult(old, wanted)) {
                unchanged++;
            } else {
                updated++;
                String id = old.getIdElement().getIdPart();
                wanted.setSubject(old.getSubject()); // the patient it was filed under
                tx.addEntry().setResource(wanted).getRequest().setMethod(Bundle.HTTPVerb.PUT).setUrl("Observation/" + id)
                        .setIfMatch("W/\"" + old.getMeta().getVersionId() + "\"");
            }
        }
        int patientsCreated = 0;
        if (!tx.getEntry().isEmpty()) {
            Bundle response = fhir.transaction(caller, tx);
            for (int i = 0; i < response.getEntry().size(); i++) {
                String status = response.getEntry().get(i).getResponse().getStatus();
                if (tx.getEntry().get(i).getResource() instanceof Patient && status != null && status.startsWith("201")) {
                    patientsCreated++; // not one another import created in the meantime (the condition matched it)
                }
            }
        }
        return new Report(Format.CSV, false, !tx.getEntry().isEmpty(), newResults, updated, unchanged, patientsCreated,
                rejected, rejected.isEmpty() ? List.of() : List.of("the valid rows were imported; the rejected rows were not"));
    }

    /** The identity of a result: source (performer), the patient as the file names them, date and item code. */
    static String identity(CheckupCsv.Row row) {
        String source = row.performerIdentifier() != null ? row.performerIdentifier()
                : row.performer() != null ? row.performer() : "";
        return hash("csv", source, row.patientKey(), row.examDate().toString(), row.codeSystem(), row.code());
    }

    private Patient newPatient(CheckupCsv.Row row) {
        Patient p = new Patient();
        p.addIdentifier().setSystem(row.identifierSystem()).setValue(row.identifierValue());
        if (row.name() != null) {
            p.addName(name(row.name(), "IDE"));
        }
        if (row.kana() != null) {
            p.addName(name(row.kana(), "SYL"));
        }
        if (row.birthDate() != null) {
            p.setBirthDateElement(new DateType(row.birthDate().toString()));
        }
        if (row.gender() != null) {
            p.setGender(Enumerations.AdministrativeGender.fromCode(row.gender()));
        }
        return p;
    }

    /** A Japanese name as JP Core writes it: family and given split at the first space, IDE (kanji) or SYL (kana). */
    private static HumanName name(String text, String representation) {
        HumanName n = new HumanName().setUse(HumanName.NameUse.OFFICIAL).setText(text);
        n.addExtension(CodeSystems.NAME_REPRESENTATION,
                new org.hl7.fhir.r4.model.CodeType(representation));
        String[] parts = text.strip().split("[\\s\u3000]+", 2);
        n.setFamily(parts[0]);
        if (parts.length > 1) {
            n.addGiven(parts[1]);
        }
        return n;
    }

    private static Observation observation(CheckupCsv.Row row, String identity, String patientRef) {
        Observation o = new Observation();
        o.addIdentifier().setSystem(RESULT_SYSTEM).setValue(identity);
        o.setStatus(Observation.ObservationStatus.FINAL);
        o.addCategory(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/observation-category",
                "laboratory", "Laboratory")));
        o.setCode(new CodeableConcept(new Coding(row.codeSystem(), row.code(), row.itemName())).setText(row.itemName()));
        o.setSubject(new Reference(patientRef));
        o.setEffective(new DateTimeType(row.examDate().toString()));
        if (row.performer() != null || row.performerIdentifier() != null) {
            Reference performer = new Reference().setDisplay(row.performer());
            if (row.performerIdentifier() != null) {
                performer.setType("Organization").setIdentifier(new Identifier()
                        .setSystem("http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no")
                        .setValue(row.performerIdentifier()));
            }
            o.addPerformer(performer);
        }
        if (row.number() != null) {
            Quantity q = new Quantity().setValue(row.number());
            if (row.comparator() != null) {
                q.setComparator(Quantity.QuantityComparator.fromCode(row.comparator()));
            }
            if (row.unit() != null) {
                q.setUnit(row.unit()).setSystem(CheckupCsv.UCUM).setCode(row.unit());
            }
            o.setValue(q);
        } else {
            o.setValue(new StringType(row.text()));
        }
        if (row.interpretation() != null) {
            o.addInterpretation(new CodeableConcept(new Coding(CheckupCsv.INTERPRETATION, row.interpretation(), null)));
        }
        if (row.low() != null || row.high() != null || row.rangeText() != null) {
            var range = o.addReferenceRange();
            if (row.low() != null) {
                range.setLow(bound(row.low(), row.unit()));
            }
            if (row.high() != null) {
                range.setHigh(bound(row.high(), row.unit()));
            }
            if (row.rangeText() != null) {
                range.setText(row.rangeText());
            }
        }
        if (row.comment() != null) {
            o.addNote(new Annotation().setText(row.comment()));
        }
        return o;
    }

    private static org.hl7.fhir.r4.model.SimpleQuantity bound(java.math.BigDecimal v, String unit) {
        var q = new org.hl7.fhir.r4.model.SimpleQuantity();
        q.setValue(v);
        if (unit != null) {
            q.setUnit(unit).setSystem(CheckupCsv.UCUM).setCode(unit);
        }
        return q;
    }

    /** The current Observations carrying these identities (a search per chunk, audited as the caller's search). */
    private Map<String, Observation> existingResults(Caller caller, List<String> identities) {
        Map<String, Observation> out = new HashMap<>();
        for (int i = 0; i < identities.size(); i += LOOKUP_CHUNK) {
            List<String> chunk = identities.subList(i, Math.min(identities.size(), i + LOOKUP_CHUNK));
            String any = String.join(",", chunk.stream().map(v -> RESULT_SYSTEM + "|" + v).toList());
            Bundle page = fhir.search(caller, "Observation", Map.of("identifier", List.of(any), "_count",
                    List.of(String.valueOf(2 * LOOKUP_CHUNK))));
            for (var entry : page.getEntry()) {
                if (entry.getResource() instanceof Observation o) {
                    o.getIdentifier().stream().filter(id -> RESULT_SYSTEM.equals(id.getSystem()))
                            .forEach(id -> out.putIfAbsent(id.getValue(), o));
                }
            }
        }
        return out;
    }

    /** The same result: everything equal but the server's id and meta and the patient reference (identity has it). */
    static boolean sameResult(Observation stored, Observation wanted) {
        Observation a = stored.copy();
        Observation b = wanted.copy();
        for (Observation o : List.of(a, b)) {
            o.setId((String) null);
            o.setMeta(null);
            o.setSubject(null);
            o.setText(null);
        }
        return a.equalsDeep(b);
    }

    private static List<String> ids(Bundle searchset) {
        return searchset.getEntry().stream()
                .filter(e -> e.getSearch().getMode() == null || e.getSearch().getMode() == Bundle.SearchEntryMode.MATCH)
                .filter(Bundle.BundleEntryComponent::hasResource)
                .map(e -> e.getResource().getIdElement().getIdPart()).distinct().toList();
    }

    /** A token search value {@code system|value}, FHIR-escaped and URL-encoded for a conditional URL. */
    private static String token(String system, String value) {
        return URLEncoder.encode(escape(system), StandardCharsets.UTF_8) + "|"
                + URLEncoder.encode(escape(value), StandardCharsets.UTF_8);
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace(",", "\\,").replace("|", "\\|").replace("$", "\\$");
    }

    // ----------------------------------------------------------------------------------------------- FHIR document

    /**
     * A 健診結果報告書 document Bundle (JSON or XML): checked (a document with an identifier, the Composition first, its
     * subject a Patient entry with an identifier, every entry with a fullUrl), kept unchanged as a DocumentReference,
     * and its entries stored (see the class comment). A document already imported with the same bytes writes nothing.
     */
    public Report importDocument(Caller caller, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        boolean xml = body.stripLeading().startsWith("<");
        IParser parser = (xml ? ctx.newXmlParser() : ctx.newJsonParser()).setParserErrorHandler(new StrictErrorHandler());
        Bundle doc;
        try {
            doc = parser.parseResource(Bundle.class, body);
        } catch (DataFormatException | ClassCastException e) {
            throw new InvalidRequestException("Not a FHIR R4 Bundle: " + e.getMessage());
        }
        if (doc.getType() != Bundle.BundleType.DOCUMENT) {
            throw new UnprocessableEntityException("Bundle.type must be 'document' (a 健診結果報告書), not '"
                    + (doc.getType() == null ? "missing" : doc.getType().toCode()) + "'");
        }
        if (!doc.hasIdentifier() || !doc.getIdentifier().hasSystem() || !doc.getIdentifier().hasValue()) {
            throw new UnprocessableEntityException("A document Bundle needs identifier.system and identifier.value (bdl-9);"
                    + " they are its identity across re-imports");
        }
        if (doc.getEntry().isEmpty() || !(doc.getEntryFirstRep().getResource() instanceof Composition composition)) {
            throw new UnprocessableEntityException("A document Bundle starts with its Composition (bdl-11)");
        }
        Map<String, Bundle.BundleEntryComponent> byFullUrl = new LinkedHashMap<>();
        for (int i = 0; i < doc.getEntry().size(); i++) {
            var e = doc.getEntry().get(i);
            if (!e.hasFullUrl() || !e.hasResource()) {
                throw new UnprocessableEntityException("Bundle.entry[" + i + "] needs a fullUrl and a resource");
            }
            if (byFullUrl.put(e.getFullUrl(), e) != null) {
                throw new UnprocessableEntityException("Bundle.entry[" + i + "]: fullUrl " + e.getFullUrl() + " twice");
            }
        }
        Map<String, String> localIdToFullUrl = new HashMap<>();
        byFullUrl.forEach((url, e) -> {
            if (e.getResource().hasIdElement() && e.getResource().getIdElement().hasIdPart()) {
                localIdToFullUrl.putIfAbsent(e.getResource().fhirType() + "/" + e.getResource().getIdElement().getIdPart(),
                        url);
            }
        });
        String subjectUrl = resolve(composition.getSubject().getReference(), localIdToFullUrl);
        var subjectEntry = subjectUrl == null ? null : byFullUrl.get(subjectUrl);
        if (subjectEntry == null || !(subjectEntry.getResource() instanceof Patient docPatient)) {
            throw new UnprocessableEntityException("Composition.subject must refer to the document's Patient entry");
        }
        Identifier pid = docPatient.getIdentifier().stream().filter(i -> i.hasSystem() && i.hasValue()).findFirst()
                .orElseThrow(() -> new UnprocessableEntityException("The document's Patient needs an identifier"
                        + " (system and value): it is how the patient is matched to an existing record"));

        String docKey = doc.getIdentifier().getSystem() + "|" + doc.getIdentifier().getValue();
        String referenceId = "ck-" + hash("document", docKey);
        String sha1 = Base64.getEncoder().encodeToString(digest("SHA-1", bytes));
        DocumentReference kept = null;
        try {
            kept = (DocumentReference) fhir.read(caller, "DocumentReference", referenceId);
        } catch (ResourceNotFoundException | ResourceGoneException e) {
            // not imported before
        }
        if (kept != null && kept.getContent().stream().anyMatch(c -> sha1.equals(c.getAttachment().getHashElement()
                .getValueAsString()))) {
            return new Report(Format.FHIR, false, false, 0, 0, doc.getEntry().size() + 1, 0, List.of(),
                    List.of("document " + docKey + " was imported before with the same content: nothing written"));
        }

        String examDate = examDate(composition, byFullUrl, localIdToFullUrl, doc);
        List<String> notes = new ArrayList<>();
        Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        for (var e : byFullUrl.values()) {
            Resource r = e.getResource().copy();
            relink(r, localIdToFullUrl);
            dropUncheckableProfiles(r, notes);
            r.setIdElement(null);
            var entry = tx.addEntry().setFullUrl(e.getFullUrl()).setResource(r);
            if (e == subjectEntry) {
                entry.getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Patient")
                        .setIfNoneExist("identifier=" + token(pid.getSystem(), pid.getValue()));
                continue;
            }
            String id = "ck-" + hash("entry", docKey, e.getFullUrl());
            if (r instanceof Observation o) {
                o.addIdentifier().setSystem(RESULT_SYSTEM).setValue(hash("entry", docKey, e.getFullUrl()));
                if (!o.hasEffective() && examDate != null) {
                    o.setEffective(new DateTimeType(examDate));
                }
            }
            entry.getRequest().setMethod(Bundle.HTTPVerb.PUT).setUrl(r.fhirType() + "/" + id);
        }
        DocumentReference reference = new DocumentReference();
        reference.setMasterIdentifier(doc.getIdentifier().copy());
        reference.setStatus(Enumerations.DocumentReferenceStatus.CURRENT);
        reference.setType(composition.hasType() ? composition.getType().copy()
                : new CodeableConcept(new Coding(DOC_TYPE_SYSTEM, "53576-5", "検診・健診報告書")));
        composition.getCategory().forEach(c -> reference.addCategory(c.copy()));
        reference.setSubject(new Reference(subjectUrl));
        reference.setDate(doc.hasTimestamp() ? doc.getTimestamp() : new Date());
        reference.setDescription(composition.getTitle());
        reference.addContent().setAttachment(new Attachment().setContentType(xml ? "application/fhir+xml"
                        : "application/fhir+json").setData(bytes).setSize(bytes.length).setTitle(composition.getTitle())
                .setHashElement(new org.hl7.fhir.r4.model.Base64BinaryType(sha1)));
        reference.getContext().addRelated(new Reference(doc.getEntryFirstRep().getFullUrl()));
        tx.addEntry().setResource(reference).getRequest().setMethod(Bundle.HTTPVerb.PUT)
                .setUrl("DocumentReference/" + referenceId);

        Bundle response = fhir.transaction(caller, tx);
        int created = 0;
        int updated = 0;
        int patientsCreated = 0;
        int unchanged = 0;
        for (int i = 0; i < response.getEntry().size(); i++) {
            String status = response.getEntry().get(i).getResponse().getStatus();
            boolean patient = "Patient".equals(tx.getEntry().get(i).getResource().fhirType());
            if (status != null && status.startsWith("201")) {
                if (patient) {
                    patientsCreated++;
                } else {
                    created++;
                }
            } else if (patient) {
                unchanged++; // matched an existing patient, which the import leaves as it is
            } else {
                updated++;
            }
        }
        return new Report(Format.FHIR, false, true, created, updated, unchanged, patientsCreated, List.of(), notes);
    }

    /** A reference to an entry as its fullUrl (references by Type/id of an entry's resource are mapped too). */
    private static String resolve(String reference, Map<String, String> localIdToFullUrl) {
        if (reference == null) {
            return null;
        }
        return localIdToFullUrl.getOrDefault(reference, reference);
    }

    /** References written as Type/id of another entry become that entry's fullUrl, which the transaction resolves. */
    private void relink(Resource r, Map<String, String> localIdToFullUrl) {
        for (var info : ctx.newTerser().getAllResourceReferences(r)) {
            String value = info.getResourceReference().getReferenceElement().getValue();
            String url = value == null ? null : localIdToFullUrl.get(value);
            if (url != null) {
                info.getResourceReference().setReference(url);
            }
        }
    }

    /**
     * The eCheckupReport and JP-CLINS profiles are not available offline, so they cannot be checked; a stored copy
     * claiming them would be refused (an unknown profile is an error). JP Core claims stay and are validated; the
     * others are noted in the report, and the kept document still carries them.
     */
    private static void dropUncheckableProfiles(Resource r, List<String> notes) {
        List<CanonicalType> keep = new ArrayList<>();
        for (CanonicalType p : r.getMeta().getProfile()) {
            if (p.getValue() != null && p.getValue().startsWith(JP_CORE_PROFILES)) {
                keep.add(p);
            } else {
                String note = "profile not available offline, not validated: " + p.getValue();
                if (!notes.contains(note)) {
                    notes.add(note);
                }
            }
        }
        r.getMeta().setProfile(keep);
    }

    /** The examination date: the Composition's event period, else its Encounter's period, else the Bundle's time. */
    private static String examDate(Composition c, Map<String, Bundle.BundleEntryComponent> byFullUrl,
                                   Map<String, String> localIdToFullUrl, Bundle doc) {
        for (var event : c.getEvent()) {
            if (event.getPeriod().hasStart()) {
                return event.getPeriod().getStartElement().getValueAsString();
            }
        }
        String encounterUrl = resolve(c.getEncounter().getReference(), localIdToFullUrl);
        if (encounterUrl != null && byFullUrl.get(encounterUrl) != null
                && byFullUrl.get(encounterUrl).getResource() instanceof Encounter enc && enc.getPeriod().hasStart()) {
            return enc.getPeriod().getStartElement().getValueAsString();
        }
        return doc.hasTimestamp() ? doc.getTimestampElement().getValueAsString().substring(0, 10) : null;
    }

    // ---------------------------------------------------------------------------------------------------------- util

    /** The first 32 hex digits of SHA-256 over the parts (unit-separated): ids and identifier values. */
    static String hash(String... parts) {
        return HexFormat.of().formatHex(digest("SHA-256", String.join("\u001f", parts)
                .getBytes(StandardCharsets.UTF_8))).substring(0, 32);
    }

    private static byte[] digest(String algorithm, byte[] bytes) {
        try {
            return MessageDigest.getInstance(algorithm).digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
