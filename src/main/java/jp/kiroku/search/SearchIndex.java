package jp.kiroku.search;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.DateTimeType;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import jp.kiroku.store.ResourceKey;

/**
 * The search index over current resource versions, and search on it. The caller indexes each write inside the
 * same transaction ({@link #replace}); a search returns the matching resource keys of one page.
 * <p>
 * Supported today: token ({@code code}, {@code system|code}, {@code system|}, {@code |code}, {@code :not},
 * {@code :missing}), string (normalised prefix, {@code :exact}, {@code :missing}), date (all prefixes, partial dates
 * as ranges, {@code :missing}), reference ({@code Type/id}, {@code id}, {@code :Type}, {@code :missing}), {@code _id},
 * {@code _lastUpdated}, {@code _sort} by {@code _lastUpdated}/{@code _id}, {@code _total}.
 */
@Service
public class SearchIndex {

    public static final Set<RestSearchParameterTypeEnum> INDEXED_TYPES = EnumSet.of(RestSearchParameterTypeEnum.TOKEN,
            RestSearchParameterTypeEnum.STRING, RestSearchParameterTypeEnum.DATE, RestSearchParameterTypeEnum.REFERENCE,
            RestSearchParameterTypeEnum.NUMBER, RestSearchParameterTypeEnum.QUANTITY);

    /** Parameters handled by the FHIR layer or HAPI, not predicates on the index. */
    private static final Set<String> CONTROL = Set.of("_count", "_offset", "_sort", "_total", "_format", "_pretty",
            "_summary", "_elements");

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
    private final ParamExtractor extractor;
    private final java.time.ZoneId zone;

    SearchIndex(JdbcTemplate jdbc, FhirContext ctx, jp.kiroku.platform.KirokuProperties props) {
        this.jdbc = jdbc;
        this.zone = props.getTimeZone();
        this.extractor = new ParamExtractor(ctx, zone);
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

    /** Replaces the index rows of these resources with their new current versions' values. Joins the caller's transaction. */
    public void replace(List<Entry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        List<Entry> stale = entries.stream().filter(e -> !e.fresh()).toList();
        for (String table : List.of("search_token", "search_string", "search_date", "search_reference", "search_number",
                "search_quantity")) {
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
        for (Entry e : entries) {
            if (e.rows() == null) {
                continue;
            }
            String t = e.key().type();
            String id = e.key().id();
            e.rows().tokens.forEach(r -> tokens.add(new Object[] {t, id, r.param(), r.system() == null ? null
                    : IndexValues.token(r.system()), IndexValues.token(r.code()), e.patientKey()}));
            e.rows().strings.forEach(r -> strings.add(new Object[] {t, id, r.param(), IndexValues.text(r.norm()), r.exact(),
                    e.patientKey()}));
            e.rows().dates.forEach(r -> dates.add(new Object[] {t, id, r.param(), Timestamp.from(r.lo()), Timestamp.from(r.hi()),
                    e.patientKey()}));
            e.rows().references.forEach(r -> refs.add(new Object[] {t, id, r.param(), r.targetType(), r.targetId(),
                    e.patientKey()}));
            e.rows().numbers.forEach(r -> numbers.add(new Object[] {t, id, r.param(), r.value(), e.patientKey()}));
            e.rows().quantities.forEach(r -> quantities.add(new Object[] {t, id, r.param(), r.value(),
                    r.system() == null ? null : IndexValues.token(r.system()), r.code() == null ? null : IndexValues.token(r.code()),
                    r.unit(), e.patientKey()}));
        }
        insert("INSERT INTO search_token (res_type, res_id, param, system, code, patient_key) VALUES (?,?,?,?,?,?)", tokens);
        insert("INSERT INTO search_string (res_type, res_id, param, norm, exact, patient_key) VALUES (?,?,?,?,?,?)", strings);
        insert("INSERT INTO search_date (res_type, res_id, param, lo, hi, patient_key) VALUES (?,?,?,?,?,?)", dates);
        insert("INSERT INTO search_reference (res_type, res_id, param, target_type, target_id, patient_key) VALUES (?,?,?,?,?,?)", refs);
        insert("INSERT INTO search_number (res_type, res_id, param, value, patient_key) VALUES (?,?,?,?,?)", numbers);
        insert("INSERT INTO search_quantity (res_type, res_id, param, value, system, code, unit, patient_key)"
                + " VALUES (?,?,?,?,?,?,?,?)", quantities);
    }

    private void insert(String sql, List<Object[]> rows) {
        if (!rows.isEmpty()) {
            jdbc.batchUpdate(sql, rows);
        }
    }

    /**
     * Finds current, not deleted resources of {@code type} matching all parameters (repeated = AND, comma = OR).
     * Under strict handling an unknown parameter or modifier is an error; otherwise it is ignored and reported.
     */
    public SearchResult search(String type, Map<String, List<String>> params, boolean strict, int offset, int count) {
        Map<String, ParamExtractor.Param> known = new LinkedHashMap<>();
        extractor.params(type).forEach(p -> known.put(p.name(), p));
        StringBuilder where = new StringBuilder("c.res_type = ? AND NOT c.deleted");
        List<Object> args = new ArrayList<>(List.of(type));
        List<String> ignored = new ArrayList<>();
        String order = "c.last_updated DESC, c.res_id";
        boolean withTotal = true;
        for (Map.Entry<String, List<String>> e : params.entrySet()) {
            String full = e.getKey();
            int colon = full.indexOf(':');
            String name = colon < 0 ? full : full.substring(0, colon);
            String modifier = colon < 0 ? null : full.substring(colon + 1);
            if (name.equals("_sort")) {
                order = sortOrder(e.getValue(), strict, ignored);
                continue;
            }
            if (name.equals("_total")) {
                withTotal = !e.getValue().contains("none");
                continue;
            }
            if (CONTROL.contains(name)) {
                continue;
            }
            for (String value : e.getValue()) {
                String clause = predicate(type, name, modifier, value, known, args);
                if (clause == null) {
                    if (strict) {
                        throw new SearchException("Unsupported search parameter or modifier '" + full + "' for " + type);
                    }
                    ignored.add(full);
                    break;
                }
                where.append(" AND ").append(clause);
            }
        }
        List<Object> pageArgs = new ArrayList<>(args);
        pageArgs.add(offset);
        pageArgs.add(count);
        List<ResourceKey> keys = jdbc.query("SELECT c.res_type, c.res_id FROM resource_current c WHERE " + where
                + " ORDER BY " + order + " OFFSET ? LIMIT ?", (rs, i) -> new ResourceKey(rs.getString(1), rs.getString(2)),
                pageArgs.toArray());
        Long total = withTotal ? jdbc.queryForObject("SELECT count(*) FROM resource_current c WHERE " + where, Long.class,
                args.toArray()) : null;
        return new SearchResult(keys, total, ignored);
    }

    private static String sortOrder(List<String> values, boolean strict, List<String> ignored) {
        List<String> keys = new ArrayList<>();
        for (String v : values) {
            for (String k : v.split(",")) {
                boolean desc = k.startsWith("-");
                String name = desc ? k.substring(1) : k;
                String column = switch (name) {
                    case "_lastUpdated" -> "c.last_updated";
                    case "_id" -> "c.res_id";
                    default -> null;
                };
                if (column == null) {
                    if (strict) {
                        throw new SearchException("Sorting by '" + name + "' is not supported yet (supported: _lastUpdated, _id)");
                    }
                    ignored.add("_sort=" + k);
                    continue;
                }
                keys.add(column + (desc ? " DESC" : " ASC"));
            }
        }
        keys.add("c.res_id");
        return String.join(", ", keys);
    }

    /** One AND-term (a comma-separated OR inside), or null when the parameter or modifier is not supported. */
    private String predicate(String type, String name, String modifier, String value, Map<String, ParamExtractor.Param> known,
                             List<Object> args) {
        List<String> ors = new ArrayList<>();
        if ((name.equals("_id") || name.equals("_lastUpdated")) && "missing".equals(modifier)) {
            return switch (value) { // every resource has both
                case "true" -> "FALSE";
                case "false" -> "TRUE";
                default -> throw new SearchException(name + ":missing takes true or false, not '" + value + "'");
            };
        }
        if (name.equals("_id")) {
            if (modifier != null) {
                return null;
            }
            for (String v : splitOr(value)) {
                ors.add("c.res_id = ?");
                args.add(v);
            }
            return "(" + String.join(" OR ", ors) + ")";
        }
        if (name.equals("_lastUpdated")) {
            if (modifier != null) {
                return null;
            }
            for (String v : splitOr(value)) {
                ors.add(dateCondition("c.last_updated", "c.last_updated + interval '1 millisecond'", v, zone, args));
            }
            return "(" + String.join(" OR ", ors) + ")";
        }
        ParamExtractor.Param p = known.get(name);
        if (p == null) {
            return null;
        }
        String table = switch (p.type()) {
            case TOKEN -> "search_token";
            case STRING -> "search_string";
            case DATE -> "search_date";
            case REFERENCE -> "search_reference";
            case NUMBER -> "search_number";
            case QUANTITY -> "search_quantity";
            default -> null;
        };
        String exists = "EXISTS (SELECT 1 FROM " + table + " x WHERE x.res_type = c.res_type AND x.res_id = c.res_id AND x.param = ?";
        if ("missing".equals(modifier)) {
            args.add(name);
            return switch (value) {
                case "true" -> "NOT " + exists + ")";
                case "false" -> exists + ")";
                default -> throw new SearchException(name + ":missing takes true or false, not '" + value + "'");
            };
        }
        boolean not = false;
        String refType = null;
        switch (p.type()) {
            case TOKEN -> {
                if ("not".equals(modifier)) {
                    not = true;
                } else if (modifier != null) {
                    return null;
                }
            }
            case STRING -> {
                if ("contains".equals(modifier) || "text".equals(modifier)) {
                    throw new SearchException(name + ":" + modifier + " cannot be answered: string indexes hold only "
                            + "normalised prefixes (they become keyed hashes under encryption)");
                }
                if (modifier != null && !"exact".equals(modifier)) {
                    return null;
                }
            }
            case REFERENCE -> {
                if (modifier != null) {
                    if (!modifier.matches("[A-Z][A-Za-z]+")) {
                        return null;
                    }
                    refType = modifier;
                }
            }
            default -> {
                if (modifier != null) {
                    return null;
                }
            }
        }
        List<Object> local = new ArrayList<>();
        for (String v : splitOr(value)) {
            ors.add(switch (p.type()) {
                case TOKEN -> tokenCondition(v, local);
                case STRING -> stringCondition(v, "exact".equals(modifier), local);
                case DATE -> dateCondition("x.lo", "x.hi", v, zone, local);
                case REFERENCE -> referenceCondition(v, refType, local);
                case NUMBER -> numberCondition(v, local);
                case QUANTITY -> quantityCondition(v, local);
                default -> throw new IllegalStateException();
            });
        }
        args.add(name);
        args.addAll(local);
        String clause = exists + " AND (" + String.join(" OR ", ors) + "))";
        return not ? "NOT " + clause : clause;
    }

    private static String tokenCondition(String v, List<Object> args) {
        int bar = v.indexOf('|');
        if (bar < 0) {
            args.add(IndexValues.token(v));
            return "x.code = ?";
        }
        String system = v.substring(0, bar);
        String code = v.substring(bar + 1);
        if (system.isEmpty()) {
            args.add(IndexValues.token(code));
            return "(x.system IS NULL AND x.code = ?)";
        }
        if (code.isEmpty()) {
            args.add(IndexValues.token(system));
            return "x.system = ?";
        }
        args.add(IndexValues.token(code));
        args.add(IndexValues.token(system));
        return "(x.code = ? AND x.system = ?)";
    }

    private static String stringCondition(String v, boolean exact, List<Object> args) {
        if (exact) {
            args.add(v);
            return "x.exact = ?";
        }
        String norm = IndexValues.text(TextNormalizer.normalize(v));
        args.add(norm.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%");
        return "x.norm LIKE ?";
    }

    /**
     * FHIR's comparison prefixes on a number: eq, ne and ap use the precision of the searched value (100 means
     * [99.5, 100.5)); gt, lt, ge, le (and sa, eb) compare the stored value with the searched one.
     */
    private static String rangeCondition(String raw, List<Object> args) {
        String prefix = "eq";
        String value = raw;
        if (raw.length() > 2 && raw.substring(0, 2).matches("eq|ne|lt|gt|le|ge|sa|eb|ap")) {
            prefix = raw.substring(0, 2);
            value = raw.substring(2);
        }
        Numbers.Range r = Numbers.parse(value);
        java.math.BigDecimal v = new java.math.BigDecimal(value);
        switch (prefix) {
            case "eq" -> {
                args.add(r.lo());
                args.add(r.hi());
                return "(x.value >= ? AND x.value < ?)";
            }
            case "ne" -> {
                args.add(r.lo());
                args.add(r.hi());
                return "NOT (x.value >= ? AND x.value < ?)";
            }
            case "gt", "sa" -> {
                args.add(v);
                return "x.value > ?";
            }
            case "lt", "eb" -> {
                args.add(v);
                return "x.value < ?";
            }
            case "ge" -> {
                args.add(v);
                return "x.value >= ?";
            }
            case "le" -> {
                args.add(v);
                return "x.value <= ?";
            }
            default -> { // ap: within 10 % of the value
                java.math.BigDecimal margin = v.abs().multiply(new java.math.BigDecimal("0.1"));
                args.add(v.subtract(margin));
                args.add(v.add(margin));
                return "(x.value >= ? AND x.value <= ?)";
            }
        }
    }

    private static String numberCondition(String v, List<Object> args) {
        return rangeCondition(v, args);
    }

    /** [prefix]number|system|code, or [prefix]number||unit, or a bare number. */
    private static String quantityCondition(String v, List<Object> args) {
        String[] parts = v.split("\\|", -1);
        String clause = rangeCondition(parts[0], args);
        if (parts.length == 1) {
            return clause;
        }
        if (parts.length != 3) {
            throw new SearchException("A quantity is number|system|code or number||unit, not '" + v + "'");
        }
        String system = parts[1];
        String code = parts[2];
        StringBuilder sb = new StringBuilder("(").append(clause);
        if (!system.isEmpty()) {
            sb.append(" AND x.system = ?");
            args.add(IndexValues.token(system));
            if (!code.isEmpty()) {
                sb.append(" AND x.code = ?");
                args.add(IndexValues.token(code));
            }
        } else if (!code.isEmpty()) {
            sb.append(" AND (x.code = ? OR x.unit = ?)");
            args.add(IndexValues.token(code));
            args.add(code);
        }
        return sb.append(")").toString();
    }

    private static String referenceCondition(String v, String typeModifier, List<Object> args) {
        String type = typeModifier;
        String id = v;
        int slash = v.lastIndexOf('/');
        if (v.contains("://")) {
            throw new SearchException("Absolute reference values are not supported in search yet: " + v);
        }
        if (slash >= 0) {
            type = v.substring(0, slash);
            id = v.substring(slash + 1);
        }
        args.add(id);
        if (type == null) {
            return "x.target_id = ?";
        }
        args.add(type);
        return "(x.target_id = ? AND x.target_type = ?)";
    }

    /** FHIR's date prefixes over ranges: the resource's [lo, hi) against the search value's [vlo, vhi). */
    private static String dateCondition(String lo, String hi, String raw, java.time.ZoneId zone, List<Object> args) {
        String prefix = "eq";
        String value = raw;
        if (raw.length() > 2 && raw.substring(0, 2).matches("eq|ne|lt|gt|le|ge|sa|eb|ap")) {
            prefix = raw.substring(0, 2);
            value = raw.substring(2);
        }
        DateRanges.Range r;
        try {
            r = DateRanges.of(new DateTimeType(value), zone);
        } catch (DataFormatException | IllegalArgumentException e) {
            throw new SearchException("Invalid date '" + raw + "': " + e.getMessage());
        }
        if (r == null) {
            throw new SearchException("Invalid date '" + raw + "'");
        }
        Timestamp vlo = Timestamp.from(r.lo());
        Timestamp vhi = Timestamp.from(r.hi());
        String contained = "(" + lo + " >= ? AND " + hi + " <= ?)";
        switch (prefix) {
            case "eq" -> {
                args.add(vlo);
                args.add(vhi);
                return contained;
            }
            case "ne" -> {
                args.add(vlo);
                args.add(vhi);
                return "NOT " + contained;
            }
            case "gt" -> {
                args.add(vhi);
                return hi + " > ?";
            }
            case "lt" -> {
                args.add(vlo);
                return lo + " < ?";
            }
            case "ge" -> {
                args.add(vhi);
                args.add(vlo);
                args.add(vhi);
                return "(" + hi + " > ? OR " + contained + ")";
            }
            case "le" -> {
                args.add(vlo);
                args.add(vlo);
                args.add(vhi);
                return "(" + lo + " < ? OR " + contained + ")";
            }
            case "sa" -> {
                args.add(vhi);
                return lo + " >= ?";
            }
            case "eb" -> {
                args.add(vlo);
                return hi + " <= ?";
            }
            default -> { // ap: overlaps the value widened by 10 % of its distance from now (at least a day)
                long distance = Math.abs(Duration.between(Instant.now(), r.lo()).toMillis());
                Duration margin = Duration.ofMillis(Math.max(Duration.ofDays(1).toMillis(), distance / 10));
                args.add(Timestamp.from(r.hi().plus(margin)));
                args.add(Timestamp.from(r.lo().minus(margin)));
                return "(" + lo + " < ? AND " + hi + " > ?)";
            }
        }
    }

    private static List<String> splitOr(String value) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\' && i + 1 < value.length()) {
                cur.append(value.charAt(++i)); // FHIR escapes \, \| \$ in values
            } else if (c == ',') {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }
}
