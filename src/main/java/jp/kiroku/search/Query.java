package jp.kiroku.search;

import java.util.List;

/**
 * A parsed search of one resource type: the records it reads ({@code resource_current c}, or a union of its parts
 * with the same columns, also named {@code c}), SQL conditions over them, the order, and what was left out. Made by
 * {@link SearchIndex#query}; run with {@link SearchIndex#keys} or {@link SearchIndex#count}.
 */
public final class Query {

    /** One {@code _sort} key; string keys (and any sort that includes one) are sorted in memory. */
    record SortKey(String name, boolean desc, ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum type) {
    }

    final String type;
    final String from;
    final String where;
    final List<Object> args;
    final String order;
    final List<SortKey> sort;
    private final List<String> ignored;
    private final String sortUsed;
    /**
     * Starts from one set of index rows (one patient's references, or one string parameter's matches), every other
     * condition checked per row: its plan can be kept.
     */
    final boolean anchored;

    Query(String type, String from, String where, List<Object> args, String order, List<SortKey> sort,
          List<String> ignored, String sortUsed, boolean anchored) {
        this.type = type;
        this.from = from;
        this.where = where;
        this.args = List.copyOf(args);
        this.order = order;
        this.sort = List.copyOf(sort);
        this.ignored = List.copyOf(ignored);
        this.sortUsed = sortUsed;
        this.anchored = anchored;
    }

    /**
     * This query, narrowed by one more SQL condition over {@code resource_current c} (access control: the records the
     * caller reaches); a null condition leaves it as it is.
     */
    public Query and(String condition, List<Object> conditionArgs) {
        if (condition == null) {
            return this;
        }
        List<Object> all = new java.util.ArrayList<>(args);
        all.addAll(conditionArgs);
        return new Query(type, from, where + " AND " + condition, all, order, sort, ignored, sortUsed, anchored);
    }

    public String type() {
        return type;
    }

    /** Parameters left out under lenient handling (full names with modifiers), for the self link. */
    public List<String> ignored() {
        return ignored;
    }

    /** The {@code _sort} keys actually applied (comma-separated), or null when none were given or all were ignored. */
    public String sortUsed() {
        return sortUsed;
    }

    /** True when the order needs the resources themselves (a string sort key): see {@link SearchIndex#sortInMemory}. */
    public boolean sortsInMemory() {
        return sort.stream().anyMatch(k -> k.type() == ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum.STRING);
    }
}
