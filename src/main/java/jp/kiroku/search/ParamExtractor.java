package jp.kiroku.search;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.hl7.fhir.instance.model.api.IBase;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.instance.model.api.IPrimitiveType;
import org.hl7.fhir.r4.model.Address;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.Enumeration;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Timing;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.fhirpath.IFhirPath;
import ca.uhn.fhir.fhirpath.IFhirPathEvaluationContext;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;

/**
 * Extracts index values from a resource by evaluating the FHIRPath expressions of the R4 SearchParameters that HAPI's
 * FhirContext knows, for the parameter types Kiroku indexes (token, string, date, reference). Expressions are parsed
 * once per resource type.
 */
final class ParamExtractor {

    private static final Logger log = LoggerFactory.getLogger(ParamExtractor.class);

    /**
     * A search parameter of one resource type, ready to evaluate: its expression split at top-level unions, since
     * evaluating "a | b" de-duplicates with UCUM equality that HAPI does not implement (HAPI-0274 on Quantities).
     */
    record Param(String name, RestSearchParameterTypeEnum type, List<IFhirPath.IParsedExpression> branches,
                 java.util.Set<String> targets, Composite composite) {
    }

    /**
     * A composite parameter of two components (the first a token; the second a token, quantity, date or string):
     * each base element (e.g. each Observation.component) yields pairs of its own values, so that
     * {@code component-code-value-quantity} pairs a component's code with that component's value only.
     */
    record Composite(RestSearchParameterTypeEnum valueType, List<CompositeBase> bases) {
    }

    /** A base element expression and the two components' expressions relative to it (each split at unions). */
    record CompositeBase(IFhirPath.IParsedExpression base, List<IFhirPath.IParsedExpression> first,
                         List<IFhirPath.IParsedExpression> second) {
    }

    private static final java.util.Set<RestSearchParameterTypeEnum> COMPOSITE_VALUES = java.util.EnumSet.of(
            RestSearchParameterTypeEnum.TOKEN, RestSearchParameterTypeEnum.QUANTITY, RestSearchParameterTypeEnum.DATE,
            RestSearchParameterTypeEnum.STRING);

    /** Suffix of the index rows that answer {@code identifier:of-type}. */
    static final String OF_TYPE = ":of-type";

    /** The common parameters on Resource.meta that are indexed like any other (_id and _lastUpdated are columns). */
    private static final java.util.Set<String> META_PARAMS = java.util.Set.of("_tag", "_profile", "_security");

    private final FhirContext ctx;
    private final java.time.ZoneId zone;
    private final Map<String, List<Param>> byType = new ConcurrentHashMap<>();
    /**
     * One engine for all threads: evaluating pre-parsed expressions only reads it (HAPI's JPA server shares one the
     * same way). Creating it loads the R4 structure definitions (seconds), so it is made once, lazily or at warm-up.
     */
    private volatile IFhirPath engine;

    ParamExtractor(FhirContext ctx, java.time.ZoneId zone) {
        this.ctx = ctx;
        this.zone = zone;
    }

    private IFhirPath engine() {
        IFhirPath e = engine;
        if (e == null) {
            synchronized (this) {
                e = engine;
                if (e == null) {
                    e = ctx.newFhirPath();
                    // resolve() only needs the referenced type here ("subject.where(resolve() is Patient)")
                    e.setEvaluationContext(new IFhirPathEvaluationContext() {
                        @Override
                        public IBase resolveReference(IIdType reference, IBase context) {
                            if (reference == null || !reference.hasResourceType()
                                    || !ctx.getResourceTypes().contains(reference.getResourceType())) {
                                return null;
                            }
                            IBaseResource r = ctx.getResourceDefinition(reference.getResourceType()).newInstance();
                            r.setId(reference.getValue());
                            return r;
                        }
                    });
                    engine = e;
                }
            }
        }
        return e;
    }

    private volatile List<org.hl7.fhir.r4.model.SearchParameter> packageParams;

    private List<org.hl7.fhir.r4.model.SearchParameter> packageParams() {
        List<org.hl7.fhir.r4.model.SearchParameter> p = packageParams;
        if (p == null) {
            synchronized (this) {
                if (packageParams == null) {
                    packageParams = PackageSearchParameters.load(ctx);
                }
                p = packageParams;
            }
        }
        return p;
    }

    /** Builds the engine and compiles every type's parameters, so that the first writes do not pay for it. */
    void warmUp() {
        ctx.getResourceTypes().forEach(this::params);
    }

    /** The indexed parameters of a type (the supported types only), in name order. */
    List<Param> params(String resourceType) {
        return byType.computeIfAbsent(resourceType, this::compile);
    }

    /** One indexed parameter of a type, or null. */
    Param param(String resourceType, String name) {
        for (Param p : params(resourceType)) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    private List<Param> compile(String resourceType) {
        List<Param> out = new ArrayList<>();
        IFhirPath engine = engine();
        for (RuntimeSearchParam sp : ctx.getResourceDefinition(resourceType).getSearchParams()) {
            if (sp.getParamType() == RestSearchParameterTypeEnum.COMPOSITE) {
                Composite c = composite(resourceType, sp, engine);
                if (c != null) {
                    out.add(new Param(sp.getName(), sp.getParamType(), List.of(), java.util.Set.of(), c));
                }
                continue;
            }
            if (!SearchIndex.INDEXED_TYPES.contains(sp.getParamType()) || sp.getPath() == null || sp.getPath().isBlank()
                    || sp.getName().startsWith("_") && !META_PARAMS.contains(sp.getName())) {
                continue;
            }
            try {
                out.add(new Param(sp.getName(), sp.getParamType(), parseBranches(engine, sp.getPath()),
                        java.util.Set.copyOf(sp.getTargets()), null));
            } catch (Exception e) {
                log.debug("Search parameter {}.{} not indexed: cannot parse {}: {}", resourceType, sp.getName(), sp.getPath(), e.getMessage());
            }
        }
        for (org.hl7.fhir.r4.model.SearchParameter sp : packageParams()) {
            boolean applies = sp.getBase().stream().anyMatch(b -> resourceType.equals(b.getCode()));
            RestSearchParameterTypeEnum type = RestSearchParameterTypeEnum.forCode(sp.getType().toCode());
            if (!applies || !SearchIndex.INDEXED_TYPES.contains(type) || type == RestSearchParameterTypeEnum.COMPOSITE) {
                continue;
            }
            try {
                out.add(new Param(sp.getCode(), type, parseBranches(engine, sp.getExpression()), java.util.Set.of(), null));
            } catch (Exception e) {
                log.warn("JP Core search parameter {} not indexed: cannot parse {}: {}", sp.getCode(), sp.getExpression(),
                        e.getMessage());
            }
        }
        out.sort(java.util.Comparator.comparing(Param::name));
        return List.copyOf(out);
    }

    /**
     * Builds a composite from its component SearchParameters: each component expression branch is made relative to
     * the longest base path it starts with ("Observation.component.code" → "code" under "Observation.component").
     * Null when the shape is not supported (then the parameter is not offered).
     */
    private Composite composite(String resourceType, RuntimeSearchParam sp, IFhirPath engine) {
        if (sp.getComponents().size() != 2 || sp.getPath() == null) {
            return null;
        }
        List<RuntimeSearchParam> components = new ArrayList<>();
        for (RuntimeSearchParam.Component c : sp.getComponents()) {
            RuntimeSearchParam target = ctx.getResourceDefinition(resourceType).getSearchParams().stream()
                    .filter(x -> c.getReference().equals(x.getUri())).findFirst().orElse(null);
            if (target == null || target.getPath() == null) {
                return null;
            }
            components.add(target);
        }
        if (components.get(0).getParamType() != RestSearchParameterTypeEnum.TOKEN
                || !COMPOSITE_VALUES.contains(components.get(1).getParamType())) {
            return null;
        }
        List<String> bases = splitTopLevelUnion(sp.getPath());
        List<CompositeBase> out = new ArrayList<>();
        try {
            for (String base : bases) {
                List<IFhirPath.IParsedExpression> first = relative(components.get(0).getPath(), base, bases, engine);
                List<IFhirPath.IParsedExpression> second = relative(components.get(1).getPath(), base, bases, engine);
                if (!first.isEmpty() && !second.isEmpty()) {
                    out.add(new CompositeBase(engine.parse(base), first, second));
                }
            }
        } catch (Exception e) {
            log.debug("Composite {}.{} not indexed: {}", resourceType, sp.getName(), e.getMessage());
            return null;
        }
        return out.isEmpty() ? null : new Composite(components.get(1).getParamType(), List.copyOf(out));
    }

    /** The branches of {@code path} that belong to {@code base} (the longest base they start with), relative to it. */
    private static List<IFhirPath.IParsedExpression> relative(String path, String base, List<String> bases, IFhirPath engine)
            throws Exception {
        List<IFhirPath.IParsedExpression> out = new ArrayList<>();
        for (String branch : splitTopLevelUnion(path)) {
            boolean paren = branch.startsWith("(");
            String inner = paren ? branch.substring(1) : branch;
            String owner = bases.stream().filter(b -> inner.startsWith(b + ".")).max(java.util.Comparator.comparingInt(String::length))
                    .orElse(null);
            if (base.equals(owner)) {
                out.add(engine.parse((paren ? "(" : "") + inner.substring(base.length() + 1)));
            }
        }
        return out;
    }

    IndexRows extract(IBaseResource resource) {
        String type = ctx.getResourceType(resource);
        IndexRows rows = new IndexRows();
        IFhirPath engine = engine();
        for (Param p : params(type)) {
            if (p.composite() != null) {
                composites(resource, p, rows, engine);
                continue;
            }
            List<IBase> values = new ArrayList<>();
            for (IFhirPath.IParsedExpression branch : p.branches()) {
                try {
                    values.addAll(engine.evaluate(resource, branch, IBase.class));
                } catch (RuntimeException e) {
                    log.debug("Search parameter {}.{} failed on a resource: {}", type, p.name(), e.getMessage());
                }
            }
            for (IBase v : values) {
                switch (p.type()) {
                    case TOKEN -> tokens(p.name(), v, rows);
                    case STRING -> strings(p.name(), v, rows);
                    case DATE -> dates(p.name(), v, rows, zone);
                    case REFERENCE -> references(p.name(), v, rows);
                    case NUMBER -> numbers(p.name(), v, rows);
                    case QUANTITY -> quantities(p.name(), v, rows);
                    case URI -> {
                        if (v instanceof IPrimitiveType<?> prim && prim.getValueAsString() != null) {
                            rows.uris.add(new IndexRows.Uri(p.name(), prim.getValueAsString()));
                        }
                    }
                    default -> {
                    }
                }
            }
        }
        return rows;
    }

    /** Pairs of (token, value) per base element of a composite. */
    private void composites(IBaseResource resource, Param p, IndexRows rows, IFhirPath engine) {
        for (CompositeBase base : p.composite().bases()) {
            List<IBase> elements;
            try {
                elements = engine.evaluate(resource, base.base(), IBase.class);
            } catch (RuntimeException e) {
                continue;
            }
            for (IBase element : elements) {
                IndexRows first = new IndexRows();
                IndexRows second = new IndexRows();
                for (IFhirPath.IParsedExpression e : base.first()) {
                    evaluate(element, e, engine).forEach(v -> tokens(p.name(), v, first));
                }
                for (IFhirPath.IParsedExpression e : base.second()) {
                    for (IBase v : evaluate(element, e, engine)) {
                        switch (p.composite().valueType()) {
                            case TOKEN -> tokens(p.name(), v, second);
                            case QUANTITY -> quantities(p.name(), v, second);
                            case DATE -> dates(p.name(), v, second, zone);
                            case STRING -> strings(p.name(), v, second);
                            default -> {
                            }
                        }
                    }
                }
                first.tokens.removeIf(t -> t.param().endsWith(OF_TYPE));
                second.tokens.removeIf(t -> t.param().endsWith(OF_TYPE));
                for (IndexRows.Token t : first.tokens) {
                    second.tokens.forEach(v -> rows.composites.add(IndexRows.Pair.token(p.name(), t, v)));
                    second.quantities.forEach(v -> rows.composites.add(IndexRows.Pair.quantity(p.name(), t, v)));
                    second.dates.forEach(v -> rows.composites.add(IndexRows.Pair.date(p.name(), t, v)));
                    second.strings.forEach(v -> rows.composites.add(IndexRows.Pair.text(p.name(), t, v)));
                }
            }
        }
    }

    private static List<IBase> evaluate(IBase element, IFhirPath.IParsedExpression e, IFhirPath engine) {
        try {
            return engine.evaluate(element, e, IBase.class);
        } catch (RuntimeException ex) {
            return List.of();
        }
    }

    private static void tokens(String param, IBase v, IndexRows rows) {
        if (v instanceof CodeableConcept cc) {
            cc.getCoding().forEach(c -> tokens(param, c, rows));
        } else if (v instanceof Coding c) {
            if (c.hasCode()) {
                rows.tokens.add(new IndexRows.Token(param, c.getSystem(), c.getCode()));
            }
        } else if (v instanceof Identifier id) {
            if (id.hasValue()) {
                rows.tokens.add(new IndexRows.Token(param, id.getSystem(), id.getValue()));
                // identifier:of-type=typeSystem|typeCode|value: one row per type coding, under "<param>:of-type"
                for (Coding t : id.getType().getCoding()) {
                    if (t.hasCode()) {
                        rows.tokens.add(new IndexRows.Token(param + OF_TYPE, t.getSystem(), t.getCode() + "|" + id.getValue()));
                    }
                }
            }
        } else if (v instanceof ContactPoint cp) {
            if (cp.hasValue()) {
                rows.tokens.add(new IndexRows.Token(param, cp.hasSystem() ? cp.getSystem().toCode() : null, cp.getValue()));
            }
        } else if (v instanceof Enumeration<?> e) {
            if (e.getValueAsString() != null) {
                rows.tokens.add(new IndexRows.Token(param, e.getSystem(), e.getValueAsString()));
            }
        } else if (v instanceof IPrimitiveType<?> prim && prim.getValueAsString() != null) {
            rows.tokens.add(new IndexRows.Token(param, null, prim.getValueAsString()));
        }
    }

    private static void strings(String param, IBase v, IndexRows rows) {
        if (v instanceof HumanName n) {
            addString(param, n.getFamily(), rows);
            n.getGiven().forEach(g -> addString(param, g.getValue(), rows));
            n.getPrefix().forEach(g -> addString(param, g.getValue(), rows));
            n.getSuffix().forEach(g -> addString(param, g.getValue(), rows));
            addString(param, n.getText(), rows);
        } else if (v instanceof Address a) {
            a.getLine().forEach(l -> addString(param, l.getValue(), rows));
            addString(param, a.getCity(), rows);
            addString(param, a.getDistrict(), rows);
            addString(param, a.getState(), rows);
            addString(param, a.getPostalCode(), rows);
            addString(param, a.getCountry(), rows);
            addString(param, a.getText(), rows);
        } else if (v instanceof IPrimitiveType<?> prim) {
            addString(param, prim.getValueAsString(), rows);
        }
    }

    private static void addString(String param, String value, IndexRows rows) {
        if (value != null && !value.isBlank()) {
            String exact = value.length() > 2000 ? value.substring(0, 2000) : value;
            rows.strings.add(new IndexRows.Text(param, TextNormalizer.normalize(exact), exact));
        }
    }

    private static void dates(String param, IBase v, IndexRows rows, java.time.ZoneId zone) {
        if (v instanceof BaseDateTimeType d) {
            DateRanges.Range r = DateRanges.of(d, zone);
            if (r != null) {
                rows.dates.add(new IndexRows.DateRange(param, r.lo(), r.hi()));
            }
        } else if (v instanceof Period p) {
            DateRanges.Range start = DateRanges.of(p.getStartElement(), zone);
            DateRanges.Range end = DateRanges.of(p.getEndElement(), zone);
            if (start != null || end != null) {
                rows.dates.add(new IndexRows.DateRange(param, start != null ? start.lo() : DateRanges.MIN,
                        end != null ? end.hi() : DateRanges.MAX));
            }
        } else if (v instanceof Timing t) {
            t.getEvent().forEach(e -> dates(param, e, rows, zone));
            if (t.hasRepeat() && t.getRepeat().hasBoundsPeriod()) {
                dates(param, t.getRepeat().getBoundsPeriod(), rows, zone);
            }
        }
    }

    private static void numbers(String param, IBase v, IndexRows rows) {
        if (v instanceof org.hl7.fhir.r4.model.DecimalType d && d.getValue() != null) {
            rows.numbers.add(new IndexRows.Num(param, d.getValue(), null, null, null));
        } else if (v instanceof org.hl7.fhir.r4.model.IntegerType i && i.getValue() != null) {
            rows.numbers.add(new IndexRows.Num(param, java.math.BigDecimal.valueOf(i.getValue()), null, null, null));
        }
    }

    private static void quantities(String param, IBase v, IndexRows rows) {
        if (v instanceof org.hl7.fhir.r4.model.Quantity q && q.getValue() != null) {
            rows.quantities.add(new IndexRows.Num(param, q.getValue(), q.getSystem(), q.getCode(), q.getUnit()));
        } else if (v instanceof org.hl7.fhir.r4.model.Money m && m.getValue() != null) {
            rows.quantities.add(new IndexRows.Num(param, m.getValue(), "urn:iso:std:iso:4217", m.getCurrency(), m.getCurrency()));
        } else if (v instanceof org.hl7.fhir.r4.model.Range range) {
            quantities(param, range.getLow(), rows);
            quantities(param, range.getHigh(), rows);
        }
    }

    /** An expression parsed once per top-level union branch (see {@link Param}). */
    private static List<IFhirPath.IParsedExpression> parseBranches(IFhirPath engine, String expression) throws Exception {
        List<IFhirPath.IParsedExpression> branches = new ArrayList<>();
        for (String branch : splitTopLevelUnion(expression)) {
            branches.add(engine.parse(branch));
        }
        return List.copyOf(branches);
    }

    /** "a | (b | c) | d" → ["a", "(b | c)", "d"]: splits at unions outside parentheses and string literals. */
    static List<String> splitTopLevelUnion(String expression) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        boolean quoted = false;
        int start = 0;
        for (int i = 0; i < expression.length(); i++) {
            char c = expression.charAt(i);
            if (c == '\'' && (i == 0 || expression.charAt(i - 1) != '\\')) {
                quoted = !quoted;
            } else if (!quoted && c == '(') {
                depth++;
            } else if (!quoted && c == ')') {
                depth--;
            } else if (!quoted && depth == 0 && c == '|') {
                out.add(expression.substring(start, i).trim());
                start = i + 1;
            }
        }
        out.add(expression.substring(start).trim());
        out.removeIf(String::isEmpty);
        return out;
    }

    private static void references(String param, IBase v, IndexRows rows) {
        if (v instanceof Reference ref && ref.hasReference()) {
            IdType id = new IdType(ref.getReference());
            if (!id.isAbsolute() && id.hasResourceType() && id.hasIdPart() && !ref.getReference().startsWith("#")) {
                rows.references.add(new IndexRows.Ref(param, id.getResourceType(), id.getIdPart()));
            }
        }
    }
}
