package jp.kiroku.search;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.hl7.fhir.instance.model.api.IBaseResource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import jp.kiroku.store.KeyArrays;
import jp.kiroku.store.RecordStore;
import jp.kiroku.store.ResourceKey;

/**
 * The search index over current resource versions, and search on it. The caller indexes each write inside the
 * same transaction ({@link #replace}). A search is parsed into a {@link Query} ({@link #query}; the parameter
 * conditions are built by {@link Predicates}), then run for keys or a count; includes, compartments and
 * Patient/$everything are key look-ups on the reference index. docs/fhir-api.md lists what is supported.
 */
@Service
public class SearchIndex {

    public static final Set<RestSearchParameterTypeEnum> INDEXED_TYPES = EnumSet.of(RestSearchParameterTypeEnum.TOKEN,
            RestSearchParameterTypeEnum.STRING, RestSearchParameterTypeEnum.DATE, RestSearchParameterTypeEnum.REFERENCE,
            RestSearchParameterTypeEnum.NUMBER, RestSearchParameterTypeEnum.QUANTITY, RestSearchParameterTypeEnum.URI,
            RestSearchParameterTypeEnum.COMPOSITE);

    /**
     * The parameters by which a search names one patient ({@code patient=X}, {@code subject=Patient/X}), in the order a
     * search's one patient is looked for: the caller finds X by them, {@link #query} anchors on the first one given.
     */
    public static final List<String> PATIENT_PARAMS = List.of("patient", "subject", "subject:Patient", "patient:Patient");

    /** Parameters handled by the FHIR layer or HAPI, not predicates on the index. */
    private static final Set<String> CONTROL = Set.of("_count", "_offset", "_sort", "_total", "_format", "_pretty",
            "_summary", "_elements", "_include", "_revinclude", "_snapshot");

    /** The compartments R4 defines. */
    private static final Set<String> COMPARTMENTS = Set.of("Patient", "Encounter", "RelatedPerson", "Practitioner", "Device");

    /**
     * One write to index: rows null means the resource was deleted (it leaves the index); {@code fresh} means it had
     * no index rows before (a create, or a re-create after a delete), so there is nothing to remove.
     */
    public record Entry(ResourceKey key, String patientKey, IndexRows rows, boolean fresh) {
    }

    /** A supported search parameter, for the CapabilityStatement. */
    public record ParamInfo(String name, RestSearchParameterTypeEnum type) {
    }

    private final JdbcTemplate jdbc;
    private final RecordStore store;
    private final FhirContext ctx;
    private final ParamExtractor extractor;
    private final Predicates predicates;
    private final IndexValues values;
    private final Map<String, Map<String, List<String>>> compartments = new java.util.concurrent.ConcurrentHashMap<>();

    SearchIndex(JdbcTemplate jdbc, RecordStore store, FhirContext ctx, jp.kiroku.platform.KirokuProperties props,
                jp.kiroku.crypto.BlindIndex blind) {
        this.jdbc = jdbc;
        this.store = store;
        this.ctx = ctx;
        this.values = new IndexValues(blind);
        this.extractor = new ParamExtractor(ctx, props.getTimeZone());
        this.predicates = new Predicates(extractor, ctx, props.getTimeZone(), values);
    }

    /** Prepares extraction for every type (seconds of CPU); meant for a background thread after start-up. */
    public void warmUp() {
        extractor.warmUp();
    }

    public IndexRows extract(IBaseResource resource) {
        return extractor.extract(resource);
    }

    /** The parameters a type can be searched by (besides _id and _lastUpdated). */
    public List<ParamInfo> params(String resourceType) {
        return extractor.params(resourceType).stream().map(p -> new ParamInfo(p.name(), p.type())).toList();
    }

    /**
     * Every form in which the index could hold {@code value} (for a residual scan after a disposal): its keyed hash as a
     * token, an :exact string, a uri or a unit, and the hash of its whole normalised prefix under every string, uri and
     * composite parameter of every type — under each index key generation in use.
     */
    public java.util.Set<String> storedForms(String value) {
        java.util.Set<String> out = new java.util.LinkedHashSet<>(List.of(values.searched(value)));
        String norm = TextNormalizer.normalize(value);
        String prefix = norm.codePoints().limit(IndexValues.PREFIX_LIMIT)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        for (String type : ctx.getResourceTypes()) {
            for (ParamExtractor.Param p : extractor.params(type)) {
                switch (p.type()) {
                    case STRING, COMPOSITE -> out.addAll(List.of(values.searchedPrefix(scope(type, p.name()), prefix, value)));
                    case URI -> out.addAll(List.of(values.searchedUriBelow(scope(type, p.name()), value)));
                    default -> { }
                }
            }
        }
        return out;
    }

    /** Replaces the index rows of these resources with their new current versions' values. Joins the caller's transaction. */
    public void replace(List<Entry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        List<Entry> stale = entries.stream().filter(e -> !e.fresh()).toList();
        for (String table : List.of("search_token", "search_string", "search_date", "search_reference", "search_number",
                "search_quantity", "search_uri", "search_composite")) {
            if (!stale.isEmpty()) {
                jdbc.batchUpdate("DELETE FROM " + table + " WHERE res_type = ? AND res_id = ?", stale, 500, (ps, e) -> {
                    ps.setString(1, e.key().type());
                    ps.setString(2, e.key().id());
                });
            }
        }
        List<Object[]> tokens = new ArrayList<>();
        List<Object[]> strings = new ArrayList<>();
        List<Object[]> dates = new ArrayList<>();
        List<Object[]> refs = new ArrayList<>();
        List<Object[]> numbers = new ArrayList<>();
        List<Object[]> quantities = new ArrayList<>();
        List<Object[]> uris = new ArrayList<>();
        List<Object[]> composites = new ArrayList<>();
        for (Entry e : entries) {
            if (e.rows() == null) {
                continue;
            }
            String t = e.key().type();
            String id = e.key().id();
            String p = e.patientKey();
            e.rows().tokens.forEach(r -> tokens.add(new Object[] {t, id, r.param(), values.stored(r.system()),
                    values.stored(r.code()), p}));
            e.rows().strings.forEach(r -> strings.add(new Object[] {t, id, r.param(), values.prefixes(scope(t, r.param()),
                    r.norm()), values.stored(r.exact()), p}));
            e.rows().dates.forEach(r -> dates.add(new Object[] {t, id, r.param(), Timestamp.from(r.lo()), Timestamp.from(r.hi()), p}));
            e.rows().references.forEach(r -> refs.add(new Object[] {t, id, r.param(), r.targetType(), r.targetId(), p}));
            e.rows().numbers.forEach(r -> numbers.add(new Object[] {t, id, r.param(), r.value(), p}));
            e.rows().quantities.forEach(r -> quantities.add(new Object[] {t, id, r.param(), r.value(), values.stored(r.system()),
                    values.stored(r.code()), values.stored(r.unit()), p}));
            e.rows().uris.forEach(r -> uris.add(new Object[] {t, id, r.param(), values.stored(r.uri()),
                    values.uriPrefixes(scope(t, r.param()), r.uri()), p}));
            e.rows().composites.forEach(r -> composites.add(new Object[] {t, id, r.param(), values.stored(r.system()),
                    values.stored(r.code()), values.stored(r.vSystem()), values.stored(r.vCode()), r.vValue(),
                    values.stored(r.vUnit()), timestamp(r.vLo()), timestamp(r.vHi()), values.prefixes(scope(t, r.param()),
                    r.vNorm()), values.stored(r.vExact()), p}));
        }
        insert("INSERT INTO search_token (res_type, res_id, param, system, code, patient_key) VALUES (?,?,?,?,?,?)", tokens);
        insert("INSERT INTO search_string (res_type, res_id, param, prefixes, exact, patient_key) VALUES (?,?,?,?,?,?)", strings);
        insert("INSERT INTO search_date (res_type, res_id, param, lo, hi, patient_key) VALUES (?,?,?,?,?,?)", dates);
        insert("INSERT INTO search_reference (res_type, res_id, param, target_type, target_id, patient_key) VALUES (?,?,?,?,?,?)", refs);
        insert("INSERT INTO search_number (res_type, res_id, param, value, patient_key) VALUES (?,?,?,?,?)", numbers);
        insert("INSERT INTO search_quantity (res_type, res_id, param, value, system, code, unit, patient_key)"
                + " VALUES (?,?,?,?,?,?,?,?)", quantities);
        insert("INSERT INTO search_uri (res_type, res_id, param, uri, prefixes, patient_key) VALUES (?,?,?,?,?,?)", uris);
        insert("INSERT INTO search_composite (res_type, res_id, param, system, code, v_system, v_code, v_value, v_unit, v_lo,"
                + " v_hi, v_prefixes, v_exact, patient_key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", composites);
    }

    /** What a string's or uri's prefix hashes are bound to: its type and parameter. */
    static String scope(String type, String param) {
        return type + "." + param;
    }

    private static Timestamp timestamp(Instant i) {
        return i == null ? null : Timestamp.from(i);
    }

    private void insert(String sql, List<Object[]> rows) {
        if (!rows.isEmpty()) {
            jdbc.batchUpdate(sql, rows);
        }
    }

    /** A compartment to search in: {@code Patient/123/Observation} is type Observation in compartment (Patient, 123). */
    public record Compartment(String type, String id) {
    }

    /**
     * Parses a search of {@code type}: every parameter becomes an SQL condition (repeated = AND, comma = OR). Under
     * strict handling an unknown parameter or modifier is an error; otherwise it is ignored and reported.
     */
    public Query query(String type, Map<String, List<String>> params, boolean strict, Compartment compartment) {
        return query(type, params, strict, compartment, null);
    }

    /**
     * The same for a search that names one patient by id ({@code patient=X}, {@code subject=X}, X's compartment): it starts
     * from the index rows of that parameter that refer to X (in X's compartment: every row that refers to X) — a
     * condition every match meets anyway — and checks everything else per candidate, so its plan does not depend on
     * the values and is prepared once per connection instead of planned for every search (planning cost as much as
     * running it, bench/RESULTS.md 2026-12-07). Its cost is bounded by X's own records, however common a code or date
     * is among all patients. A search by string parameters alone is anchored the same way ({@link #stringAnchor}).
     */
    public Query query(String type, Map<String, List<String>> params, boolean strict, Compartment compartment,
                       String onePatient) {
        // a Patient is not among the rows that refer to it (its own compartment holds it by id)
        boolean byPatient = onePatient != null && !type.equals("Patient");
        // the parameter whose matches the search starts from (its condition then is not checked again per row)
        String anchor = compartment != null ? null : byPatient ? patientAnchor(type, params) : stringAnchor(type, params);
        List<String> ignored = new ArrayList<>();
        if (byPatient && anchor != null) {
            return byPatient(type, params, strict, anchor, onePatient, ignored);
        }
        Predicates.Sql sql = new Predicates.Sql();
        StringBuilder where = new StringBuilder("c.res_type = ? AND NOT c.deleted");
        sql.args.add(type);
        if (anchor != null) {
            where.append(" AND c.res_id IN (").append(predicates.matches(type, anchor, params.get(anchor).get(0), sql, null))
                    .append(" OFFSET 0)");
        } else if (byPatient) { // the patient's compartment: the rows that refer to X, by any parameter
            where.append(" AND c.res_id IN (SELECT a.res_id FROM search_reference a WHERE a.res_type = ? AND a.target_id = ?"
                    + " OFFSET 0)");
            sql.args.add(type);
            sql.args.add(onePatient);
        }
        boolean anchored = byPatient || anchor != null;
        sql.fenced = anchored;
        if (compartment != null) {
            where.append(" AND ").append(compartmentCondition(type, compartment, sql));
        }
        conditions(type, params, anchor, strict, sql, ignored).forEach(c -> where.append(" AND ").append(c));
        return query(type, "resource_current c", where.toString(), sql.args, params, strict, ignored, anchored);
    }

    /**
     * A search naming one patient X by one parameter, in two parts that never overlap. The records placed with X (nearly
     * all) come from one range scan of X's records of the type; the anchor and the date and token conditions are sets
     * read once from X's index rows. The records that name X but are placed with another patient come from the
     * anchor's rows, every condition checked per record, as in any anchored search. Probing X's index rows record by
     * record cost ~1 ms of a date search's ~1.4 ms of SQL (bench/RESULTS.md, 2026-12-07, "searches by patient").
     */
    private Query byPatient(String type, Map<String, List<String>> params, boolean strict, String anchor, String patient,
                            List<String> ignored) {
        String value = params.get(anchor).get(0);
        Predicates.Sql placed = new Predicates.Sql();
        placed.fenced = true;
        placed.placedWith = patient;
        placed.args.add(patient);
        placed.args.add(type);
        StringBuilder here = new StringBuilder("c.patient_key = ? AND c.res_type = ? AND NOT c.deleted AND (c.res_id IN (")
                .append(predicates.matches(type, anchor, value, placed, null)).append(")");
        conditions(type, params, anchor, strict, placed, ignored).forEach(c -> here.append(" AND ").append(c));
        // IS TRUE: inside an expression the sub-queries stay sets hashed once; at the top of WHERE PostgreSQL would turn
        // them into joins, which a kept plan (it expects one row per patient) drives by probing record by record
        here.append(") IS TRUE");
        Predicates.Sql other = new Predicates.Sql();
        other.fenced = true;
        other.args.add(type);
        StringBuilder elsewhere = new StringBuilder("c.res_type = ? AND NOT c.deleted AND c.res_id IN (")
                .append(predicates.matches(type, anchor, value, other, patient)).append(" OFFSET 0)");
        conditions(type, params, anchor, strict, other, new ArrayList<>()).forEach(c -> elsewhere.append(" AND ").append(c));
        List<Object> args = new ArrayList<>(placed.args);
        args.addAll(other.args);
        return query(type, "(SELECT c.* FROM resource_current c WHERE " + here + " UNION ALL SELECT c.* FROM resource_current c"
                + " WHERE " + elsewhere + ") c", "TRUE", args, params, strict, ignored, true);
    }

    /** The conditions of every parameter but the anchor and the control ones; unsupported ones fail or are ignored. */
    private List<String> conditions(String type, Map<String, List<String>> params, String anchor, boolean strict,
                                    Predicates.Sql sql, List<String> ignored) {
        Predicates.Scope root = new Predicates.Scope("c.res_type", "c.res_id", "c.last_updated");
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : params.entrySet()) {
            String key = e.getKey();
            String name = key.contains(":") ? key.substring(0, key.indexOf(':')) : key;
            if (name.equals("_sort") || CONTROL.contains(name) || key.equals(anchor)) {
                continue;
            }
            for (String value : e.getValue()) {
                String clause = predicates.condition(root, type, key, value, sql);
                if (clause == null) {
                    if (strict) {
                        throw new SearchException("Unsupported search parameter or modifier '" + key + "' for " + type);
                    }
                    ignored.add(key);
                    break;
                }
                out.add(clause);
            }
        }
        return out;
    }

    private Query query(String type, String from, String where, List<Object> args, Map<String, List<String>> params,
                        boolean strict, List<String> ignored, boolean anchored) {
        List<String> sortValues = List.of();
        for (Map.Entry<String, List<String>> e : params.entrySet()) {
            if (e.getKey().equals("_sort") || e.getKey().startsWith("_sort:")) {
                sortValues = e.getValue();
            }
        }
        List<Query.SortKey> sort = sortKeys(type, sortValues, strict, ignored);
        String sortUsed = sort.isEmpty() ? null : String.join(",", sort.stream().map(k -> (k.desc() ? "-" : "") + k.name()).toList());
        return new Query(type, from, where, args, orderBy(sort), sort, ignored, sortUsed, anchored);
    }

    /**
     * The string parameter a search by strings alone starts from (e.g. {@code Patient?family=山}): the first, when every
     * parameter is a plain or {@code :exact} string given once; else null. Like a search naming one patient, it then keeps
     * its plan: it reads the name's own matches, which any plan must, and checks the other strings per candidate.
     */
    private String stringAnchor(String type, Map<String, List<String>> params) {
        String first = null;
        for (Map.Entry<String, List<String>> e : params.entrySet()) {
            String name = e.getKey().contains(":") ? e.getKey().substring(0, e.getKey().indexOf(':')) : e.getKey();
            if (name.equals("_sort") || CONTROL.contains(name)) {
                continue;
            }
            if (e.getValue().size() != 1 || !predicates.isAnchor(type, e.getKey())
                    || extractor.param(type, name).type() != RestSearchParameterTypeEnum.STRING) {
                return null;
            }
            first = first == null ? e.getKey() : first;
        }
        return first;
    }

    /**
     * The parameter that names the one patient ({@code patient=X}, {@code subject=Patient/X}), given once: its own
     * rows are the anchor (only that parameter's, where the compartment's anchor reads every row that refers to X).
     */
    private String patientAnchor(String type, Map<String, List<String>> params) {
        for (String key : PATIENT_PARAMS) {
            List<String> values = params.get(key);
            if (values != null && values.size() == 1 && predicates.isAnchor(type, key)) {
                return key;
            }
        }
        return null;
    }

    /** The keys of the matches from {@code offset}, at most {@code limit}, in the query's order (SQL-sortable only). */
    public List<ResourceKey> keys(Query q, int offset, int limit) {
        if (q.anchored) { // offset and limit in the text: a prepared plan then knows them, and they rarely change
            return jdbc.query(prepared(ordered(q, "c.res_type, c.res_id") + " OFFSET " + offset + " LIMIT " + limit, q.args),
                    KEY);
        }
        return jdbc.query(planned(ordered(q, "c.res_type, c.res_id") + " OFFSET ? LIMIT ?", withRange(q, offset, limit)),
                KEY);
    }

    /**
     * The keys of the first matches, at most {@code limit}, with the current versions of matches {@code pageFrom}
     * (exclusive) to {@code pageTo} read by the same statement (SQL-sortable queries only; plans kept as by {@link #keys}).
     */
    public RecordStore.KeysAndPage keysAndPage(Query q, int limit, int pageFrom, int pageTo) {
        String keys = ordered(q, "c.res_type, c.res_id, c.version_id");
        if (q.anchored) {
            return store.keysAndPage(keys + " OFFSET 0 LIMIT " + limit, pageFrom, pageTo, sql -> prepared(sql, q.args));
        }
        List<Object> args = withRange(q, 0, limit);
        return store.keysAndPage(keys + " OFFSET ? LIMIT ?", pageFrom, pageTo, sql -> planned(sql, args));
    }

    private static String ordered(Query q, String columns) {
        return "SELECT " + columns + " FROM " + q.from + " WHERE " + q.where + " ORDER BY " + q.order;
    }

    private static List<Object> withRange(Query q, int offset, int limit) {
        List<Object> args = new ArrayList<>(q.args);
        args.add(offset);
        args.add(limit);
        return args;
    }

    /** A statement the driver prepares on the server after a few uses, so that PostgreSQL can keep its plan. */
    private static org.springframework.jdbc.core.PreparedStatementCreator prepared(String sql, List<Object> args) {
        return con -> {
            var ps = con.prepareStatement(sql);
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            return ps;
        };
    }

    public long count(Query q) {
        List<Long> n = jdbc.query(planned("SELECT count(*) FROM " + q.from + " WHERE " + q.where, q.args),
                (rs, i) -> rs.getLong(1));
        return n.isEmpty() ? 0 : n.get(0);
    }

    /**
     * Search SQL is planned for its values every time: one patient's rows and one common code call for different plans,
     * and the generic plan PostgreSQL would settle on after five runs of a server-side prepared statement started from
     * the code (20-88 ms instead of 1-8 ms, bench/RESULTS.md). An unnamed statement (prepare threshold 0) is always
     * planned with its parameters; other statements keep their cached plans.
     */
    private static org.springframework.jdbc.core.PreparedStatementCreator planned(String sql, List<Object> args) {
        return con -> {
            var ps = prepared(sql, args).createPreparedStatement(con);
            ps.unwrap(org.postgresql.PGStatement.class).setPrepareThreshold(0);
            return ps;
        };
    }

    /**
     * Orders resources by the query's sort keys computed from the resources themselves: used for string keys, which
     * the index cannot order (it holds normalised values, keyed hashes under encryption).
     */
    public List<ResourceKey> sortInMemory(Query q, List<IBaseResource> resources) {
        record Row(ResourceKey key, List<Comparable<?>> values) {
        }
        List<Row> rows = new ArrayList<>();
        for (IBaseResource r : resources) {
            IndexRows index = extractor.extract(r);
            List<Comparable<?>> values = new ArrayList<>();
            for (Query.SortKey k : q.sort) {
                values.add(sortValue(r, index, k));
            }
            rows.add(new Row(new ResourceKey(q.type, r.getIdElement().getIdPart()), values));
        }
        java.util.Comparator<Row> order = (a, b) -> {
            for (int i = 0; i < q.sort.size(); i++) {
                int c = compareNullsLast(a.values().get(i), b.values().get(i), q.sort.get(i).desc());
                if (c != 0) {
                    return c;
                }
            }
            return a.key().id().compareTo(b.key().id());
        };
        rows.sort(order);
        return rows.stream().map(Row::key).toList();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static int compareNullsLast(Comparable a, Comparable b, boolean desc) {
        if (a == null || b == null) {
            return a == b ? 0 : a == null ? 1 : -1;
        }
        int c = a.compareTo(b);
        return desc ? -c : c;
    }

    /** The smallest value of the key's parameter for ascending order, the largest for descending (as SQL sorts do). */
    private static Comparable<?> sortValue(IBaseResource r, IndexRows index, Query.SortKey k) {
        java.util.stream.Stream<? extends Comparable<?>> values = switch (k.name()) {
            case "_id" -> java.util.stream.Stream.of(r.getIdElement().getIdPart());
            case "_lastUpdated" -> java.util.stream.Stream.ofNullable(r.getMeta().getLastUpdated()).map(java.util.Date::toInstant);
            default -> switch (k.type()) {
                case STRING -> index.strings.stream().filter(t -> t.param().equals(k.name())).map(IndexRows.Text::norm);
                case DATE -> index.dates.stream().filter(t -> t.param().equals(k.name()))
                        .map(t -> k.desc() ? t.hi() : t.lo());
                case NUMBER -> index.numbers.stream().filter(t -> t.param().equals(k.name())).map(IndexRows.Num::value);
                case QUANTITY -> index.quantities.stream().filter(t -> t.param().equals(k.name())).map(IndexRows.Num::value);
                default -> java.util.stream.Stream.<String>empty();
            };
        };
        @SuppressWarnings({"unchecked", "rawtypes"})
        java.util.Comparator<Comparable> natural = java.util.Comparator.naturalOrder();
        return values.map(v -> (Comparable) v).reduce((a, b) -> k.desc() ? (natural.compare(a, b) >= 0 ? a : b)
                : (natural.compare(a, b) <= 0 ? a : b)).orElse(null);
    }

    private List<Query.SortKey> sortKeys(String type, List<String> values, boolean strict, List<String> ignored) {
        List<Query.SortKey> keys = new ArrayList<>();
        for (String v : values) {
            for (String k : v.split(",")) {
                if (k.isBlank()) {
                    continue;
                }
                boolean desc = k.startsWith("-");
                String name = desc ? k.substring(1) : k;
                if (name.equals("_id") || name.equals("_lastUpdated")) {
                    keys.add(new Query.SortKey(name, desc, name.equals("_id") ? RestSearchParameterTypeEnum.TOKEN
                            : RestSearchParameterTypeEnum.DATE));
                    continue;
                }
                ParamExtractor.Param p = extractor.param(type, name);
                String refusal = p == null ? "'" + name + "' is not a search parameter of " + type
                        : switch (p.type()) {
                            case DATE, NUMBER, QUANTITY, STRING -> null;
                            default -> "sorting by the " + p.type().getCode() + " parameter '" + name + "' is not supported:"
                                    + " its index holds codes or keys (keyed hashes under encryption), not an order";
                        };
                if (refusal != null) {
                    if (strict || p != null) {
                        throw new SearchException("Cannot sort: " + refusal + " (sortable: dates, numbers, quantities,"
                                + " strings, _lastUpdated, _id)");
                    }
                    ignored.add("_sort=" + k);
                    continue;
                }
                keys.add(new Query.SortKey(name, desc, p.type()));
            }
        }
        return keys;
    }

    /** SQL order for date/number/quantity keys (min ascending, max descending), newest first when unsorted. */
    private static String orderBy(List<Query.SortKey> sort) {
        if (sort.isEmpty()) {
            return "c.last_updated DESC, c.res_id";
        }
        List<String> parts = new ArrayList<>();
        for (Query.SortKey k : sort) {
            String dir = k.desc() ? " DESC NULLS LAST" : " ASC NULLS LAST";
            switch (k.name()) {
                case "_id" -> parts.add("c.res_id" + dir);
                case "_lastUpdated" -> parts.add("c.last_updated" + dir);
                default -> {
                    if (k.type() == RestSearchParameterTypeEnum.STRING) {
                        continue; // sorted in memory
                    }
                    String table = Predicates.table(k.type());
                    String column = k.type() == RestSearchParameterTypeEnum.DATE ? (k.desc() ? "s.hi" : "s.lo") : "s.value";
                    parts.add("(SELECT " + (k.desc() ? "max(" : "min(") + column + ") FROM " + table
                            + " s WHERE s.res_type = c.res_type AND s.res_id = c.res_id AND s.param = "
                            + Predicates.literal(k.name()) + ")" + dir);
                }
            }
        }
        parts.add("c.res_id");
        return String.join(", ", parts);
    }

    private String compartmentCondition(String type, Compartment compartment, Predicates.Sql sql) {
        if (!COMPARTMENTS.contains(compartment.type())) {
            throw new SearchException(compartment.type() + " is not a compartment (R4 compartments: " + COMPARTMENTS + ")");
        }
        List<String> params = compartmentParams(compartment.type()).getOrDefault(type, List.of());
        List<String> ors = new ArrayList<>();
        if (!params.isEmpty()) {
            String k = sql.alias("k");
            ors.add("EXISTS (SELECT 1 FROM search_reference " + k + " WHERE " + k + ".res_type = c.res_type AND " + k
                    + ".res_id = c.res_id AND " + k + ".param IN (" + String.join(", ", params.stream().map(Predicates::literal)
                    .toList()) + ") AND " + k + ".target_type = ? AND " + k + ".target_id = ?" + sql.close());
            sql.args.add(compartment.type());
            sql.args.add(compartment.id());
        }
        if (type.equals(compartment.type())) {
            ors.add("c.res_id = ?");
            sql.args.add(compartment.id());
        }
        if (ors.isEmpty()) {
            throw new SearchException(type + " is not in the " + compartment.type() + " compartment");
        }
        return "(" + String.join(" OR ", ors) + ")";
    }

    /** For each resource type in the compartment, its parameters that point at the compartment's owner (R4 definition). */
    private Map<String, List<String>> compartmentParams(String compartment) {
        return compartments.computeIfAbsent(compartment, c -> {
            Map<String, List<String>> out = new java.util.HashMap<>();
            for (String t : ctx.getResourceTypes()) {
                List<String> names = ctx.getResourceDefinition(t).getSearchParamsForCompartmentName(c).stream()
                        .map(ca.uhn.fhir.context.RuntimeSearchParam::getName).sorted().toList();
                if (!names.isEmpty()) {
                    out.put(t, names);
                }
            }
            return Map.copyOf(out);
        });
    }

    /**
     * Patient/$everything: the patient, every resource in its compartment and the resources those reference (one
     * level: practitioners, organizations, medications...), optionally only of some types and changed since a time.
     * Ordered with the patient first, then by type and newest first. At most {@code limit} keys; {@code condition}
     * (over {@code resource_current c}, may be null) narrows them to what the caller reaches.
     */
    public List<ResourceKey> everything(String patientId, Set<String> types, Instant since, String condition,
                                        List<Object> conditionArgs, int limit) {
        Map<String, List<String>> params = compartmentParams("Patient");
        Set<ResourceKey> members = new java.util.LinkedHashSet<>();
        members.add(new ResourceKey("Patient", patientId));
        Set<ResourceKey> unseen = new java.util.HashSet<>(); // members placed with another patient
        jdbc.query("SELECT res_type, res_id, param, patient_key FROM search_reference WHERE target_id = ?"
                + " AND target_type = 'Patient'", rs -> {
                    if (params.getOrDefault(rs.getString(1), List.of()).contains(rs.getString(3))) {
                        ResourceKey member = new ResourceKey(rs.getString(1), rs.getString(2));
                        members.add(member);
                        if (!patientId.equals(rs.getString(4))) {
                            unseen.add(member);
                        }
                    }
                }, patientId);
        // What the members refer to: the reference rows of the records placed with the patient come in one range scan
        // of the patient index of search_reference (one probe per member cost ~1.2 ms, bench/RESULTS.md 2026-12-07),
        // without the rows that refer to the patient (half of them; the patient is listed already); only members placed
        // with another patient are probed.
        Set<ResourceKey> all = new java.util.LinkedHashSet<>(members);
        jdbc.query("SELECT res_type, res_id, target_type, target_id FROM search_reference WHERE patient_key = ?"
                + " AND NOT (target_id = ? AND target_type = 'Patient')", rs -> {
                    if (members.contains(new ResourceKey(rs.getString(1), rs.getString(2)))) {
                        all.add(new ResourceKey(rs.getString(3), rs.getString(4)));
                    }
                }, patientId, patientId);
        all.addAll(withKeys("SELECT DISTINCT r.target_type, r.target_id FROM search_reference r WHERE (r.res_type, r.res_id)"
                + " IN (SELECT * FROM unnest(?::text[], ?::text[]))", unseen, List.of()));
        StringBuilder filter = new StringBuilder("NOT c.deleted");
        List<Object> filterArgs = new ArrayList<>();
        if (types != null && !types.isEmpty()) {
            filter.append(" AND c.res_type IN (").append(String.join(", ", types.stream().map(Predicates::literal).toList()))
                    .append(")");
        }
        if (since != null) {
            filter.append(" AND c.last_updated >= ?");
            filterArgs.add(Timestamp.from(since));
        }
        if (condition != null) {
            filter.append(" AND (").append(condition).append(")");
            filterArgs.addAll(conditionArgs);
        }
        // The patient's own records come in one range scan of the patient index; only the others (what they
        // reference, and members placed with another patient) are looked up key by key: probing every key cost
        // ~2 ms of the ~3.5 ms of SQL a first page took (bench/RESULTS.md, 2026-12-07).
        record Listed(ResourceKey key, Instant updated) {
        }
        List<Listed> listed = new ArrayList<>();
        Set<ResourceKey> placed = new java.util.HashSet<>();
        List<Object> scanArgs = new ArrayList<>(filterArgs);
        scanArgs.add(patientId);
        jdbc.query("SELECT c.res_type, c.res_id, c.last_updated, (" + filter + ") FROM resource_current c"
                + " WHERE c.patient_key = ?", rs -> {
                    ResourceKey k = new ResourceKey(rs.getString(1), rs.getString(2));
                    if (all.contains(k)) {
                        placed.add(k);
                        if (rs.getBoolean(4)) {
                            listed.add(new Listed(k, rs.getTimestamp(3).toInstant()));
                        }
                    }
                }, scanArgs.toArray());
        List<ResourceKey> rest = all.stream().filter(k -> !placed.contains(k)).toList();
        listed.addAll(withKeys("SELECT c.res_type, c.res_id, c.last_updated FROM resource_current c WHERE (c.res_type,"
                + " c.res_id) IN (SELECT * FROM unnest(?::text[], ?::text[])) AND " + filter, rest, filterArgs,
                (rs, i) -> new Listed(new ResourceKey(rs.getString(1), rs.getString(2)), rs.getTimestamp(3).toInstant())));
        // the patient first, then by type, newest first, then by id (written out: a chain of key extractors boxed and
        // compared field by field was 5 % of the server CPU samples of an $everything page)
        listed.sort((x, y) -> {
            boolean px = x.key().type().equals("Patient");
            if (px != y.key().type().equals("Patient")) {
                return px ? -1 : 1;
            }
            int c = x.key().type().compareTo(y.key().type());
            c = c != 0 ? c : y.updated().compareTo(x.updated());
            return c != 0 ? c : x.key().id().compareTo(y.key().id());
        });
        return listed.stream().limit(limit).map(Listed::key).toList();
    }

    /**
     * {@code _include}: the resources that the {@code param} references of {@code sources} point at, optionally only
     * of one target type; at most {@code limit}.
     */
    public List<ResourceKey> referencedBy(Collection<ResourceKey> sources, String param, String targetType, int limit) {
        List<Object> extra = new ArrayList<>();
        String sql = "SELECT DISTINCT r.target_type, r.target_id FROM search_reference r WHERE (r.res_type, r.res_id)"
                + " IN (SELECT * FROM unnest(?::text[], ?::text[])) AND r.param = ?";
        extra.add(param);
        if (targetType != null) {
            sql += " AND r.target_type = ?";
            extra.add(targetType);
        }
        extra.add(limit);
        return withKeys(sql + " LIMIT ?", sources, extra);
    }

    /** {@code _revinclude}: resources of {@code sourceType} whose {@code param} references one of {@code targets}. */
    public List<ResourceKey> referring(Collection<ResourceKey> targets, String sourceType, String param, int limit) {
        return withKeys("SELECT DISTINCT r.res_type, r.res_id FROM search_reference r WHERE (r.target_type, r.target_id)"
                + " IN (SELECT * FROM unnest(?::text[], ?::text[])) AND r.res_type = ? AND r.param = ? LIMIT ?", targets,
                List.of(sourceType, param, limit));
    }

    /** The {@code _include} values a type supports: {@code Type:param} for each of its reference parameters. */
    public List<String> includes(String type) {
        return extractor.params(type).stream().filter(p -> p.type() == RestSearchParameterTypeEnum.REFERENCE)
                .map(p -> type + ":" + p.name()).toList();
    }

    /** The {@code _revinclude} values for a type: {@code Source:param} for every reference parameter that may point at it. */
    public List<String> revIncludes(String type) {
        List<String> out = new ArrayList<>();
        for (String source : ctx.getResourceTypes().stream().sorted().toList()) {
            for (ParamExtractor.Param p : extractor.params(source)) {
                if (p.type() == RestSearchParameterTypeEnum.REFERENCE && (p.targets().isEmpty() || p.targets().contains(type))) {
                    out.add(source + ":" + p.name());
                }
            }
        }
        return out;
    }

    /** Whether {@code param} is a reference parameter of {@code type} (for validating _include/_revinclude). */
    public boolean isReference(String type, String param) {
        ParamExtractor.Param p = extractor.param(type, param);
        return p != null && p.type() == RestSearchParameterTypeEnum.REFERENCE;
    }

    /** Runs SQL whose first two parameters are the key arrays, then {@code extra}; maps rows to keys. */
    private List<ResourceKey> withKeys(String sql, Collection<ResourceKey> keys, List<Object> extra) {
        return withKeys(sql, keys, extra, KEY);
    }

    /** Runs {@code sql} with the keys as its first two (array) parameters, then {@code extra}; nothing for no keys. */
    private <T> List<T> withKeys(String sql, Collection<ResourceKey> keys, List<Object> extra,
                                 org.springframework.jdbc.core.RowMapper<T> rows) {
        if (keys.isEmpty()) {
            return List.of();
        }
        return jdbc.query(con -> {
            var ps = con.prepareStatement(sql);
            KeyArrays.bind(con, ps, 1, keys);
            for (int i = 0; i < extra.size(); i++) {
                ps.setObject(i + 3, extra.get(i));
            }
            return ps;
        }, rows);
    }

    private static final org.springframework.jdbc.core.RowMapper<ResourceKey> KEY =
            (rs, i) -> new ResourceKey(rs.getString(1), rs.getString(2));
}
