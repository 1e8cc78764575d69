package jp.kiroku.exchange;

import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.hl7.fhir.instance.model.api.IBaseOperationOutcome;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Meta;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.stereotype.Component;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import jp.kiroku.audit.Agent;
import jp.kiroku.fhir.Interactions;
import jp.kiroku.identity.Caller;
import jp.kiroku.platform.KirokuProperties;

/**
 * Imports an SS-MIX2 standardized storage (SHARE-03): patient data (ADT-00), problems (PPR-01), prescription orders
 * (OMP-01) and lab results (OML-11), HL7 v2.5 read with HAPI's v2 library, as JP Core
 * resources written through {@link Interactions#transaction} as the local operator — validated, indexed, ledgered
 * and audited like any FHIR write. Each message is one transaction, so a rejected message never stops the others;
 * every entry is a PUT at a stable id, so an import run again updates the same resources instead of adding copies.
 * Of the files of one order only the newest valid one (condition flag 1) is imported; an order whose files are all
 * cancelled (flag 0) is marked cancelled where an earlier import wrote it.
 */
@Component
public class Ssmix2Import {

    /** The data types that are mapped; files of other types are counted as "not mapped". */
    public static final Set<String> MAPPED = Set.of("ADT-00", "PPR-01", "OMP-01", "OML-11");

    /** The HL7 message type each mapped data type holds. */
    private static final Map<String, String> MESSAGE_TYPES = Map.of("ADT-00", "ADT^A08", "PPR-01", "PPR^ZD1",
            "OMP-01", "RDE^O11", "OML-11", "OUL^R22");

    /**
     * {@code encoding}: the files' character set, or null to detect it per file; {@code institution}: the 10-digit
     * medical institution number (医療機関コード) whose patient ids the storage holds.
     */
    public record Options(Charset encoding, String institution) {
        public Options {
            if (institution == null || !institution.matches("[0-9]{10}")) {
                throw new IllegalArgumentException("the institution number must be 10 digits (医療機関コード: prefecture 2, "
                        + "kind 1, number 7), not " + institution);
            }
        }
    }

    /** Told how many files there are, then once per file done (the CLI draws its progress bar with it). */
    public interface Listener {
        void files(int total);

        void done(String dataType);
    }

    /** Ids per {@code _id} search when the current versions are looked up. */
    private static final int SEARCH_CHUNK = 50;

    private final Interactions fhir;
    private final KirokuProperties props;
    private final FhirContext ctx;

    Ssmix2Import(Interactions fhir, KirokuProperties props, FhirContext ctx) {
        this.fhir = fhir;
        this.props = props;
        this.ctx = ctx;
    }

    public Ssmix2Report run(Path root, Options options, Listener listener) {
        Ssmix2Storage.Scan scan = Ssmix2Storage.scan(root);
        listener.files(scan.entries().size());
        Run run = new Run(options, listener);
        Map<String, List<Ssmix2Storage.Entry>> orders = new LinkedHashMap<>();
        for (Ssmix2Storage.Entry e : scan.entries()) {
            run.count(e.dataType()).found++;
            if (e.problem() != null) {
                run.reject(e, e.problem());
            } else if (!MAPPED.contains(e.dataType())) {
                run.count(e.dataType()).notMapped++;
                listener.done(e.dataType());
            } else {
                orders.computeIfAbsent(e.orderKey(), k -> new ArrayList<>()).add(e);
            }
        }
        Map<String, List<List<Ssmix2Storage.Entry>>> byPatient = new TreeMap<>();
        orders.values().forEach(files -> byPatient.computeIfAbsent(files.get(0).patientId(), k -> new ArrayList<>()).add(files));
        byPatient.forEach(run::patient);
        Map<String, Ssmix2Report.TypeCount> types = new TreeMap<>();
        run.counts.forEach((type, c) -> types.put(type, new Ssmix2Report.TypeCount(c.found, c.imported, c.superseded,
                c.cancelled, c.notMapped, c.rejected)));
        return new Ssmix2Report(types, new TreeMap<>(run.written), run.unchanged, List.copyOf(run.rejected), scan.ignored());
    }

    private static final class Count {
        int found, imported, superseded, cancelled, notMapped, rejected;
    }

    /** One import: its settings, parser, mapper and tallies. */
    private final class Run {
        final Caller operator = new Caller(Agent.localOperator(), List.of("system/*.cruds"));
        final Ssmix2Messages messages;
        final Ssmix2Mapper mapper;
        final Listener listener;
        final Map<String, Count> counts = new HashMap<>();
        final Map<String, Integer> written = new HashMap<>();
        final List<Ssmix2Report.Rejected> rejected = new ArrayList<>();
        int unchanged;

        Run(Options options, Listener listener) {
            this.messages = new Ssmix2Messages(options.encoding());
            this.mapper = new Ssmix2Mapper(options.institution(), props.getTimeZone());
            this.listener = listener;
        }

        Count count(String type) {
            return counts.computeIfAbsent(type, t -> new Count());
        }

        void reject(Ssmix2Storage.Entry e, String reason) {
            count(e.dataType()).rejected++;
            rejected.add(new Ssmix2Report.Rejected(e.relative(), reason));
            listener.done(e.dataType());
        }

        void skip(Ssmix2Storage.Entry e, boolean cancelled) {
            if (cancelled) {
                count(e.dataType()).cancelled++;
            } else {
                count(e.dataType()).superseded++;
            }
            listener.done(e.dataType());
        }

        /** One patient's orders: the Patient first (from ADT-00, else from another message's PID), then the rest. */
        void patient(String ssmixId, List<List<Ssmix2Storage.Entry>> orders) {
            Map<Ssmix2Storage.Entry, Ssmix2Messages.Parsed> current = new LinkedHashMap<>();
            List<List<Ssmix2Storage.Entry>> cancelledOrders = new ArrayList<>();
            for (List<Ssmix2Storage.Entry> files : orders) {
                files.sort(Comparator.comparing(Ssmix2Storage.Entry::timestamp).thenComparing(Ssmix2Storage.Entry::relative));
                Ssmix2Storage.Entry newest = files.stream().filter(Ssmix2Storage.Entry::valid).reduce((a, b) -> b).orElse(null);
                if (newest == null) {
                    cancelledOrders.add(files);
                    continue;
                }
                files.stream().filter(f -> f != newest).forEach(f -> skip(f, false));
                Ssmix2Messages.Parsed parsed = parse(newest);
                if (parsed != null) {
                    current.put(newest, parsed);
                }
            }
            // the newest ADT-00 is the patient (should a system give ADT-00 order numbers, the older ones are superseded)
            List<Ssmix2Storage.Entry> adts = current.keySet().stream().filter(e -> e.dataType().equals("ADT-00"))
                    .sorted(Comparator.comparing(Ssmix2Storage.Entry::timestamp)).toList();
            Ssmix2Storage.Entry adt = adts.isEmpty() ? null : adts.get(adts.size() - 1);
            adts.stream().filter(e -> e != adt).forEach(e -> {
                current.remove(e);
                skip(e, false);
            });
            Patient patient = null;
            String failure = null;
            if (adt != null) {
                try {
                    patient = mapper.patient(current.remove(adt), ssmixId);
                    failure = write(List.of(patient));
                } catch (Ssmix2Mapper.Refused e) {
                    failure = e.getMessage();
                }
                if (failure != null) {
                    reject(adt, failure);
                    patient = null;
                } else {
                    imported(adt);
                }
            }
            if (patient == null && !current.isEmpty()) {
                // no usable ADT-00: the patient as the first good PID shows them, unless stored already (an earlier
                // import's ADT-00 says more than a PID of an order)
                for (Ssmix2Messages.Parsed p : current.values()) {
                    try {
                        patient = mapper.patient(p, ssmixId);
                        break;
                    } catch (Ssmix2Mapper.Refused e) {
                        // that message is rejected for it below
                    }
                }
                if (patient != null && !stored(List.of(patient)).isEmpty()) {
                    unchanged++;
                } else if (patient != null) {
                    failure = write(List.of(patient));
                    patient = failure == null ? patient : null;
                }
            }
            for (Map.Entry<Ssmix2Storage.Entry, Ssmix2Messages.Parsed> m : current.entrySet()) {
                Ssmix2Storage.Entry e = m.getKey();
                if (patient == null) {
                    reject(e, "the patient " + ssmixId + " could not be imported" + (failure == null ? "" : ": " + failure));
                    continue;
                }
                try {
                    mapper.patient(m.getValue(), ssmixId); // the message's PID must name this patient
                    String error = write(resources(e, m.getValue(), false));
                    if (error == null) {
                        imported(e);
                    } else {
                        reject(e, error);
                    }
                } catch (Ssmix2Mapper.Refused r) {
                    reject(e, r.getMessage());
                }
            }
            cancelledOrders.forEach(this::cancelled);
        }

        /** An order whose every file is cancelled: what an earlier import wrote of it is marked cancelled. */
        private void cancelled(List<Ssmix2Storage.Entry> files) {
            Ssmix2Storage.Entry newest = files.get(files.size() - 1);
            files.stream().filter(f -> f != newest).forEach(f -> skip(f, true));
            Ssmix2Messages.Parsed parsed = parse(newest);
            if (parsed == null) {
                return;
            }
            try {
                List<Resource> cancelled = resources(newest, parsed, true);
                Map<String, Resource> stored = stored(cancelled);
                List<Resource> existing = cancelled.stream().filter(r -> stored.containsKey(key(r))).toList();
                String error = existing.isEmpty() ? null : write(existing);
                if (error == null) {
                    skip(newest, true);
                } else {
                    reject(newest, error);
                }
            } catch (Ssmix2Mapper.Refused r) {
                reject(newest, r.getMessage());
            }
        }

        /**
         * The current versions of those of {@code resources} that are stored (deleted ones are not), by "Type/id": one
         * {@code _id} search per type and 50 ids.
         */
        private Map<String, Resource> stored(List<? extends Resource> resources) {
            Map<String, List<String>> ids = new TreeMap<>();
            resources.forEach(r -> ids.computeIfAbsent(r.fhirType(), t -> new ArrayList<>()).add(r.getIdElement().getIdPart()));
            Map<String, Resource> out = new HashMap<>();
            ids.forEach((type, all) -> {
                for (int i = 0; i < all.size(); i += SEARCH_CHUNK) {
                    List<String> chunk = all.subList(i, Math.min(all.size(), i + SEARCH_CHUNK));
                    Bundle found = fhir.search(operator, type, Map.of("_id", List.of(String.join(",", chunk)),
                            "_count", List.of(Integer.toString(SEARCH_CHUNK))));
                    found.getEntry().stream().map(Bundle.BundleEntryComponent::getResource).filter(r -> r != null)
                            .forEach(r -> out.put(key(r), r));
                }
            });
            return out;
        }

        private List<Resource> resources(Ssmix2Storage.Entry e, Ssmix2Messages.Parsed parsed, boolean cancelled)
                throws Ssmix2Mapper.Refused {
            String order = e.orderNumber();
            return switch (e.dataType()) {
                case "ADT-00" -> List.of(mapper.patient(parsed, e.patientId()));
                case "PPR-01" -> mapper.conditions(parsed, e.patientId(), cancelled);
                case "OMP-01" -> mapper.medicationRequests(parsed, e.patientId(), order, cancelled);
                case "OML-11" -> mapper.observations(parsed, e.patientId(), order, cancelled);
                default -> throw new Ssmix2Mapper.Refused("data type " + e.dataType() + " is not mapped");
            };
        }

        /** The file read and parsed as the HL7 message its data type holds, or null when it was rejected. */
        private Ssmix2Messages.Parsed parse(Ssmix2Storage.Entry e) {
            try {
                Ssmix2Messages.Parsed parsed = messages.parse(Files.readAllBytes(e.path()));
                String expected = MESSAGE_TYPES.get(e.dataType());
                if (!expected.equals(parsed.type())) {
                    reject(e, "data type " + e.dataType() + " holds " + expected + " messages, this one is " + parsed.type()
                            + " (MSH-9)");
                    return null;
                }
                return parsed;
            } catch (IOException x) {
                reject(e, "cannot read the file: " + x.getMessage());
            } catch (Ssmix2Messages.Malformed x) {
                reject(e, x.getMessage());
            }
            return null;
        }

        private void imported(Ssmix2Storage.Entry e) {
            count(e.dataType()).imported++;
            listener.done(e.dataType());
        }

        /**
         * Writes the resources as one transaction of PUTs, leaving out those whose stored current version says the
         * same (an import run again adds no versions); null when done, else why it was refused.
         */
        private String write(List<? extends Resource> resources) {
            Map<String, Resource> stored = stored(resources);
            List<Resource> changed = resources.stream().filter(r -> !same(r, stored.get(key(r)))).map(Resource.class::cast)
                    .toList();
            unchanged += resources.size() - changed.size();
            if (changed.isEmpty()) {
                return null;
            }
            Bundle bundle = new Bundle().setType(Bundle.BundleType.TRANSACTION);
            for (Resource r : changed) {
                String url = r.fhirType() + "/" + r.getIdElement().getIdPart();
                bundle.addEntry().setFullUrl(url).setResource(r).getRequest().setMethod(Bundle.HTTPVerb.PUT).setUrl(url);
            }
            try {
                fhir.transaction(operator, bundle);
            } catch (BaseServerResponseException e) {
                return "refused by the server (" + e.getStatusCode() + "): " + outcome(e);
            }
            changed.forEach(r -> written.merge(r.fhirType(), 1, Integer::sum));
            return null;
        }
    }

    private static String key(Resource r) {
        return r.fhirType() + "/" + r.getIdElement().getIdPart();
    }

    /**
     * The same content, whatever the server keeps in meta (version, time, tags) and the narrative it may add; compared
     * as JSON, which does not tell a Quantity from a SimpleQuantity or a time zone from its offset, as storage does not.
     */
    private boolean same(Resource mapped, Resource stored) {
        if (stored == null) {
            return false;
        }
        var json = ctx.newJsonParser();
        return json.encodeResourceToString(comparable(mapped)).equals(json.encodeResourceToString(comparable(stored)));
    }

    private static Resource comparable(Resource r) {
        Resource c = r.copy();
        c.setIdElement(new IdType(r.fhirType(), r.getIdElement().getIdPart()));
        c.setMeta(new Meta().setProfile(r.getMeta().getProfile()));
        if (c instanceof DomainResource d) {
            d.setText(null);
        }
        return c;
    }

    /** The first error of the server's OperationOutcome (where, what), or the exception's message. */
    private static String outcome(BaseServerResponseException e) {
        IBaseOperationOutcome oo = e.getOperationOutcome();
        if (oo instanceof OperationOutcome outcome) {
            for (OperationOutcome.OperationOutcomeIssueComponent issue : outcome.getIssue()) {
                if (issue.getSeverity() == OperationOutcome.IssueSeverity.ERROR
                        || issue.getSeverity() == OperationOutcome.IssueSeverity.FATAL) {
                    String where = issue.getExpression().isEmpty() ? "" : issue.getExpression().get(0).getValue() + ": ";
                    return where + issue.getDiagnostics();
                }
            }
        }
        return e.getMessage();
    }
}
