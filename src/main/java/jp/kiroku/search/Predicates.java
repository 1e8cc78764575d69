package jp.kiroku.search;

import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.hl7.fhir.r4.model.DateTimeType;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;

/**
 * Turns one search parameter (name, modifier, value) into an SQL condition on a resource "scope": the searched
 * resource itself, or the target of a chained reference, or the source of a {@code _has} reference. Conditions are
 * EXISTS sub-queries on the index tables (for the records a search by patient reads as placed with that patient, date
 * and token conditions are {@code IN} sets of the patient's index rows instead); index rows exist only for current, not
 * deleted resources.
 * Returns null for a parameter or modifier that is not supported (the caller decides: error or ignore).
 */
final class Predicates {

    /** SQL expressions for the type and id of the resource a condition is about; lastUpdated only for resource_current. */
    record Scope(String type, String id, String lastUpdated) {
    }

    /** The growing argument list and a counter for unique table aliases in nested sub-queries. */
    static final class Sql {
        final List<Object> args = new ArrayList<>();
        private int aliases;
        /**
         * Sub-queries end with OFFSET 0, which keeps PostgreSQL from turning them into joins: each is then a check per
         * candidate row, so the plan starts from the query's anchor whatever the values (see SearchIndex#query).
         */
        boolean fenced;
        /**
         * Set for the records placed with this patient (SearchIndex#query): a date or token condition on such a record
         * is then read from the patient's index rows as one set, not probed per record.
         */
        String placedWith;

        /** The end of an EXISTS sub-query. */
        String close() {
            return fenced ? " OFFSET 0)" : ")";
        }

        String alias(String prefix) {
            return prefix + (++aliases);
        }
    }

    private final ParamExtractor extractor;
    private final FhirContext ctx;
    private final ZoneId zone;
    private final IndexValues values;

    Predicates(ParamExtractor extractor, FhirContext ctx, ZoneId zone, IndexValues values) {
        this.extractor = extractor;
        this.ctx = ctx;
        this.zone = zone;
        this.values = values;
    }

    /** The index tables with a (patient_key, res_type, param) index (V34), which a set read per patient needs. */
    private static final Set<ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum> PATIENT_INDEXED = java.util.EnumSet.of(
            ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum.DATE, ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum.TOKEN);

    static String table(ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum type) {
        return switch (type) {
            case TOKEN -> "search_token";
            case STRING -> "search_string";
            case DATE -> "search_date";
            case REFERENCE -> "search_reference";
            case NUMBER -> "search_number";
            case QUANTITY -> "search_quantity";
            case URI -> "search_uri";
            case COMPOSITE -> "search_composite";
            default -> null;
        };
    }

    /**
     * One AND-term for {@code key=value} (key with its modifier or chain; value with comma-separated alternatives),
     * or null when not supported.
     */
    String condition(Scope scope, String type, String key, String value, Sql sql) {
        if (key.startsWith("_has:")) {
            return has(scope, type, key, value, sql);
        }
        int dot = key.indexOf('.');
        if (dot > 0) {
            return chain(scope, type, key.substring(0, dot), key.substring(dot + 1), value, sql);
        }
        int colon = key.indexOf(':');
        String name = colon < 0 ? key : key.substring(0, colon);
        String modifier = colon < 0 ? null : key.substring(colon + 1);
        return simple(scope, type, name, modifier, value, sql);
    }

    /**
     * True when {@link #matches} takes {@code key}: a string parameter of {@code type} (plain or {@code :exact}) or a
     * reference parameter (plain or with a type modifier).
     */
    boolean isAnchor(String type, String key) {
        int colon = key.indexOf(':');
        ParamExtractor.Param p = key.contains(".") ? null : extractor.param(type, colon < 0 ? key : key.substring(0, colon));
        String modifier = colon < 0 ? null : key.substring(colon + 1);
        if (p == null) {
            return false;
        }
        return switch (p.type()) {
            case STRING -> modifier == null || modifier.equals("exact");
            case REFERENCE -> modifier == null || ctx.getResourceTypes().contains(modifier);
            default -> false;
        };
    }

    /**
     * {@code SELECT res_id} of the {@code type} resources that match {@code key=value}, as a search's starting set
     * (SearchIndex#query): the same condition as {@link #condition}, read from the index instead of checked per
     * resource. {@code key} must pass {@link #isAnchor}. With {@code placedElsewhere}, only the resources not placed
     * with that patient.
     */
    String matches(String type, String key, String value, Sql sql, String placedElsewhere) {
        int colon = key.indexOf(':');
        String name = colon < 0 ? key : key.substring(0, colon);
        String modifier = colon < 0 ? null : key.substring(colon + 1);
        ParamExtractor.Param p = extractor.param(type, name);
        boolean reference = p.type() == ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum.REFERENCE;
        String x = sql.alias("x");
        sql.args.add(type);
        List<String> ors = new ArrayList<>();
        for (String v : splitOr(value)) {
            ors.add(valueCondition(p.type(), x + ".", SearchIndex.scope(type, name), v, "exact".equals(modifier),
                    reference ? modifier : null, null, sql.args));
        }
        String placed = "";
        if (placedElsewhere != null) {
            placed = " AND " + x + ".patient_key IS DISTINCT FROM ?";
            sql.args.add(placedElsewhere);
        }
        return "SELECT " + x + ".res_id FROM " + table(p.type()) + " " + x + " WHERE " + x + ".res_type = ? AND " + x
                + ".param = " + literal(name) + " AND (" + String.join(" OR ", ors) + ")" + placed;
    }

    /** {@code subject:Patient.name=x}: some reference of the parameter points at a resource matching the chained one. */
    private String chain(Scope scope, String type, String left, String right, String value, Sql sql) {
        int colon = left.indexOf(':');
        String name = colon < 0 ? left : left.substring(0, colon);
        String targetType = colon < 0 ? null : left.substring(colon + 1);
        ParamExtractor.Param p = extractor.param(type, name);
        if (p == null || p.type() != ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum.REFERENCE || right.contains(".")
                || right.startsWith("_has")) {
            return null; // one level of chaining only
        }
        Set<String> candidates = targetType != null ? Set.of(targetType)
                : !p.targets().isEmpty() ? p.targets() : ctx.getResourceTypes();
        if (targetType != null && !ctx.getResourceTypes().contains(targetType)) {
            throw new SearchException("Unknown resource type '" + targetType + "' in the chain '" + left + "." + right + "'");
        }
        String chainedName = right.contains(":") ? right.substring(0, right.indexOf(':')) : right;
        List<String> ors = new ArrayList<>();
        String r = sql.alias("r");
        for (String target : candidates.stream().sorted().toList()) {
            if (!chainedName.equals("_id") && extractor.param(target, chainedName) == null) {
                continue;
            }
            int mark = sql.args.size();
            sql.args.add(target); // arguments follow the SQL text: the target type, then the chained condition's
            String inner = condition(new Scope(r + ".target_type", r + ".target_id", null), target, right, value, sql);
            if (inner == null) {
                sql.args.subList(mark, sql.args.size()).clear();
                continue;
            }
            ors.add("(" + r + ".target_type = ? AND " + inner + ")");
        }
        if (ors.isEmpty()) {
            return null;
        }
        return "EXISTS (SELECT 1 FROM search_reference " + r + " WHERE " + r + ".res_type = " + scope.type() + " AND "
                + r + ".res_id = " + scope.id() + " AND " + r + ".param = " + literal(name) + " AND ("
                + String.join(" OR ", ors) + ")" + sql.close();
    }

    /** {@code _has:Observation:patient:code=x}: some Observation whose patient is this resource matches code=x. */
    private String has(Scope scope, String type, String key, String value, Sql sql) {
        String[] parts = key.split(":", 4);
        if (parts.length < 4 || parts[3].startsWith("_has")) {
            return null; // one level only
        }
        String source = parts[1];
        String refParam = parts[2];
        if (!ctx.getResourceTypes().contains(source)) {
            throw new SearchException("Unknown resource type '" + source + "' in '" + key + "'");
        }
        ParamExtractor.Param p = extractor.param(source, refParam);
        if (p == null || p.type() != ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum.REFERENCE) {
            return null;
        }
        String r = sql.alias("h");
        String inner = condition(new Scope(r + ".res_type", r + ".res_id", null), source, parts[3], value, sql);
        if (inner == null) {
            return null;
        }
        return "EXISTS (SELECT 1 FROM search_reference " + r + " WHERE " + r + ".res_type = " + literal(source) + " AND "
                + r + ".param = " + literal(refParam) + " AND " + r + ".target_type = " + scope.type() + " AND " + r
                + ".target_id = " + scope.id() + " AND " + inner + sql.close();
    }

    /**
     * Names of parameters and types come from HAPI's definitions or were checked against them; they are written into
     * the SQL as quoted literals (so that argument order follows the text), never raw user input.
     */
    static String literal(String s) {
        if (!s.matches("[A-Za-z0-9_\\-.:]+")) {
            throw new SearchException("Invalid name '" + s + "'");
        }
        return "'" + s + "'";
    }

    private String simple(Scope scope, String type, String name, String modifier, String value, Sql sql) {
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
                ors.add(scope.id() + " = ?");
                sql.args.add(v);
            }
            return "(" + String.join(" OR ", ors) + ")";
        }
        if (name.equals("_lastUpdated")) {
            if (modifier != null || scope.lastUpdated() == null) {
                return null;
            }
            for (String v : splitOr(value)) {
                ors.add(dateCondition(scope.lastUpdated(), scope.lastUpdated() + " + interval '1 millisecond'", v, sql.args));
            }
            return "(" + String.join(" OR ", ors) + ")";
        }
        ParamExtractor.Param p = extractor.param(type, name);
        if (p == null) {
            return null;
        }
        String x = sql.alias("x");
        // the searched record placed with the patient: its rows are among the patient's, read once (one hashed set)
        boolean asSet = sql.placedWith != null && scope.lastUpdated() != null && PATIENT_INDEXED.contains(p.type());
        String exists = asSet
                ? scope.id() + " IN (SELECT " + x + ".res_id FROM " + table(p.type()) + " " + x + " WHERE " + x
                        + ".patient_key = ? AND " + x + ".res_type = ? AND " + x + ".param = " + literal(name)
                : "EXISTS (SELECT 1 FROM " + table(p.type()) + " " + x + " WHERE " + x + ".res_type = " + scope.type()
                        + " AND " + x + ".res_id = " + scope.id() + " AND " + x + ".param = " + literal(name);
        String close = asSet ? ")" : sql.close();
        if ("missing".equals(modifier)) {
            if (!value.equals("true") && !value.equals("false")) {
                throw new SearchException(name + ":missing takes true or false, not '" + value + "'");
            }
            placedArgs(asSet, type, sql);
            return value.equals("true") ? "NOT " + exists + close : exists + close;
        }
        boolean not = false;
        String refType = null;
        String uriMode = null;
        switch (p.type()) {
            case TOKEN -> {
                if ("not".equals(modifier)) {
                    not = true;
                } else if ("of-type".equals(modifier)) {
                    return ofType(scope, name, value, sql);
                } else if ("text".equals(modifier)) {
                    throw new SearchException(name + ":text cannot be answered: token indexes hold codes only (keyed "
                            + "hashes under encryption), not display text");
                } else if (modifier != null) {
                    return null;
                }
            }
            case STRING -> {
                if ("contains".equals(modifier) || "text".equals(modifier)) {
                    throw new SearchException(name + ":" + modifier + " cannot be answered: string indexes hold only "
                            + "keyed hashes of normalised prefixes");
                }
                if (modifier != null && !"exact".equals(modifier)) {
                    return null;
                }
            }
            case REFERENCE -> {
                if (modifier != null) {
                    if (!ctx.getResourceTypes().contains(modifier)) {
                        return null;
                    }
                    refType = modifier;
                }
            }
            case URI -> {
                if (modifier != null && !modifier.equals("below") && !modifier.equals("above")) {
                    return null;
                }
                uriMode = modifier;
            }
            default -> {
                if (modifier != null) {
                    return null;
                }
            }
        }
        String col = x + ".";
        String hashScope = SearchIndex.scope(type, name);
        placedArgs(asSet, type, sql);
        for (String v : splitOr(value)) {
            ors.add(switch (p.type()) {
                case COMPOSITE -> compositeCondition(col, hashScope, p.composite().valueType(), v, sql.args);
                default -> valueCondition(p.type(), col, hashScope, v, "exact".equals(modifier), refType, uriMode, sql.args);
            });
        }
        String clause = exists + " AND (" + String.join(" OR ", ors) + ")" + close;
        return not ? "NOT (" + clause + ")" : clause;
    }

    /** The arguments of a set read from the patient's index rows (its patient and type), in the order of the text. */
    private static void placedArgs(boolean asSet, String type, Sql sql) {
        if (asSet) {
            sql.args.add(sql.placedWith);
            sql.args.add(type);
        }
    }

    /** One value of a parameter of this type against the index columns that start with {@code col}. */
    private String valueCondition(ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum type, String col, String hashScope, String v,
                                  boolean exact, String refType, String uriMode, List<Object> args) {
        return switch (type) {
            case TOKEN -> tokenCondition(col, v, args);
            case STRING -> stringCondition(col, hashScope, v, exact, args);
            case DATE -> dateCondition(col + "lo", col + "hi", v, args);
            case REFERENCE -> referenceCondition(col, v, refType, args);
            case NUMBER -> rangeCondition(col + "value", v, args);
            case QUANTITY -> quantityCondition(col, v, args);
            case URI -> uriCondition(col, hashScope, v, uriMode, args);
            default -> throw new IllegalStateException(type.name());
        };
    }

    /** {@code token$value}: both from the same element (one row of search_composite); the value in the v_ columns. */
    private String compositeCondition(String col, String hashScope, ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum valueType,
                                      String v, List<Object> args) {
        int dollar = v.indexOf('$');
        if (dollar < 0) {
            throw new SearchException("A composite value is token$value (e.g. http://loinc.org|8480-6$gt100), not '" + v + "'");
        }
        String first = tokenCondition(col, v.substring(0, dollar), args);
        String second = valueCondition(valueType, col + "v_", hashScope, v.substring(dollar + 1), false, null, null, args);
        return "(" + first + " AND " + second + ")";
    }

    /** {@code identifier:of-type=typeSystem|typeCode|value}, from the rows extracted under "identifier:of-type". */
    private String ofType(Scope scope, String name, String value, Sql sql) {
        String x = sql.alias("x");
        List<String> ors = new ArrayList<>();
        for (String v : splitOr(value)) {
            String[] parts = v.split("\\|", 3);
            if (parts.length != 3 || parts[1].isEmpty() || parts[2].isEmpty()) {
                throw new SearchException(name + ":of-type takes typeSystem|typeCode|value (e.g. "
                        + "http://terminology.hl7.org/CodeSystem/v2-0203|MR|12345), not '" + v + "'");
            }
            String code = equal(x + ".code", parts[1] + "|" + parts[2], sql.args);
            ors.add("(" + code + (parts[0].isEmpty() ? " AND " + x + ".system IS NULL)"
                    : " AND " + equal(x + ".system", parts[0], sql.args) + ")"));
        }
        return "EXISTS (SELECT 1 FROM search_token " + x + " WHERE " + x + ".res_type = " + scope.type() + " AND " + x
                + ".res_id = " + scope.id() + " AND " + x + ".param = " + literal(name + ParamExtractor.OF_TYPE) + " AND ("
                + String.join(" OR ", ors) + ")" + sql.close();
    }

    private String tokenCondition(String x, String v, List<Object> args) {
        int bar = v.indexOf('|');
        if (bar < 0) {
            return equal(x + "code", v, args);
        }
        String system = v.substring(0, bar);
        String code = v.substring(bar + 1);
        if (system.isEmpty()) {
            return "(" + x + "system IS NULL AND " + equal(x + "code", code, args) + ")";
        }
        if (code.isEmpty()) {
            return equal(x + "system", system, args);
        }
        return "(" + equal(x + "code", code, args) + " AND " + equal(x + "system", system, args) + ")";
    }

    /** A stored keyed hash equals the value's: {@code = ?} with one key generation in use, {@code = ANY(?)} during a rotation. */
    private String equal(String column, String value, List<Object> args) {
        return equalAny(column, values.searched(value), args);
    }

    private static String equalAny(String column, String[] hashes, List<Object> args) {
        if (hashes.length == 1) {
            args.add(hashes[0]);
            return column + " = ?";
        }
        args.add(hashes);
        return column + " = ANY(?::text[])";
    }

    /** Default string search: the normalised value is a prefix (its hash is among the stored prefix hashes). */
    private String stringCondition(String x, String hashScope, String v, boolean exact, List<Object> args) {
        if (exact) {
            return equal(x + "exact", v, args);
        }
        args.add(values.searchedPrefix(hashScope, TextNormalizer.normalize(v), v));
        return x + "prefixes && ?::text[]";
    }

    /**
     * uri: exact; :below = the stored uri is the value or lies below it (whole path segments: {@code http://a.org/fhir}
     * matches {@code http://a.org/fhir/ValueSet/1}, not {@code http://a.org/fhirx}); :above = the reverse.
     */
    private String uriCondition(String x, String hashScope, String v, String mode, List<Object> args) {
        if ("below".equals(mode)) {
            String same = equal(x + "uri", v, args);
            args.add(values.searchedUriBelow(hashScope, v));
            return "(" + same + " OR " + x + "prefixes && ?::text[])";
        }
        if ("above".equals(mode)) {
            return equalAny(x + "uri", values.searchedUriAbove(v), args);
        }
        return equal(x + "uri", v, args);
    }

    /**
     * FHIR's comparison prefixes on a number: eq, ne and ap use the precision of the searched value (100 means
     * [99.5, 100.5)); gt, lt, ge, le (and sa, eb) compare the stored value with the searched one.
     */
    private static String rangeCondition(String column, String raw, List<Object> args) {
        String prefix = "eq";
        String value = raw;
        if (raw.length() > 2 && raw.substring(0, 2).matches("eq|ne|lt|gt|le|ge|sa|eb|ap")) {
            prefix = raw.substring(0, 2);
            value = raw.substring(2);
        }
        Numbers.Range r = Numbers.parse(value);
        BigDecimal v = new BigDecimal(value);
        switch (prefix) {
            case "eq" -> {
                args.add(r.lo());
                args.add(r.hi());
                return "(" + column + " >= ? AND " + column + " < ?)";
            }
            case "ne" -> {
                args.add(r.lo());
                args.add(r.hi());
                return "NOT (" + column + " >= ? AND " + column + " < ?)";
            }
            case "gt", "sa" -> {
                args.add(v);
                return column + " > ?";
            }
            case "lt", "eb" -> {
                args.add(v);
                return column + " < ?";
            }
            case "ge" -> {
                args.add(v);
                return column + " >= ?";
            }
            case "le" -> {
                args.add(v);
                return column + " <= ?";
            }
            default -> { // ap: within 10 % of the value
                BigDecimal margin = v.abs().multiply(new BigDecimal("0.1"));
                args.add(v.subtract(margin));
                args.add(v.add(margin));
                return "(" + column + " >= ? AND " + column + " <= ?)";
            }
        }
    }

    /** [prefix]number|system|code, or [prefix]number||unit, or a bare number. */
    private String quantityCondition(String x, String v, List<Object> args) {
        String[] parts = v.split("\\|", -1);
        String clause = rangeCondition(x + "value", parts[0], args);
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
            sb.append(" AND ").append(equal(x + "system", system, args));
            if (!code.isEmpty()) {
                sb.append(" AND ").append(equal(x + "code", code, args));
            }
        } else if (!code.isEmpty()) {
            sb.append(" AND (").append(equal(x + "code", code, args)).append(" OR ").append(equal(x + "unit", code, args)).append(")");
        }
        return sb.append(")").toString();
    }

    private String referenceCondition(String x, String v, String typeModifier, List<Object> args) {
        String type = typeModifier;
        String id = v;
        if (v.contains("://")) {
            throw new SearchException("Absolute reference values are not supported in search: " + v);
        }
        int slash = v.lastIndexOf('/');
        if (slash >= 0) {
            type = v.substring(0, slash);
            id = v.substring(slash + 1);
            if (!ctx.getResourceTypes().contains(type)) {
                throw new SearchException("Invalid reference '" + v + "': " + type + " is not an R4 resource type");
            }
        }
        args.add(id);
        if (type == null) {
            return x + "target_id = ?";
        }
        args.add(type);
        return "(" + x + "target_id = ? AND " + x + "target_type = ?)";
    }

    /** FHIR's date prefixes over ranges: the resource's [lo, hi) against the search value's [vlo, vhi). */
    private String dateCondition(String lo, String hi, String raw, List<Object> args) {
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

    static List<String> splitOr(String value) {
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
