package jp.kiroku.fhir;

import java.util.List;
import java.util.Map;

import org.springframework.stereotype.Component;

import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import jp.kiroku.access.Permission;
import jp.kiroku.access.View;
import jp.kiroku.identity.Caller;
import jp.kiroku.search.SearchException;
import jp.kiroku.search.SearchIndex;
import jp.kiroku.store.ResourceKey;

/**
 * Resolves FHIR conditional URLs ({@code identifier=x|1}, or {@code Patient?identifier=x|1}) with the search index,
 * for conditional create, update and delete and for conditional references in transactions. Always strict: a
 * parameter the index cannot evaluate is an error, never silently dropped (which would widen the match).
 */
@Component
class Conditions {

    private final SearchIndex search;
    private final Guard guard;

    Conditions(SearchIndex search, Guard guard) {
        this.search = search;
        this.guard = guard;
    }

    /** Up to two matches: enough to tell none, one and many apart. */
    List<ResourceKey> match(Caller caller, String type, String condition) {
        String query = condition.trim();
        int q = query.indexOf('?');
        if (q >= 0) {
            String named = query.substring(0, q).replaceFirst("^/", "");
            if (!named.isEmpty() && !named.equals(type)) {
                throw new InvalidRequestException("The condition '" + condition + "' names " + named + ", not " + type);
            }
            query = query.substring(q + 1);
        }
        Map<String, List<String>> params = Http.parseQuery(query, "a conditional URL");
        if (params.isEmpty()) {
            throw new InvalidRequestException("A conditional URL needs search parameters: '" + condition + "'");
        }
        guard.require(caller, type, Permission.SEARCH, "search");
        try {
            // a condition matches only what the caller reaches: a hidden record can be neither found nor changed
            View.Condition reach = guard.view(caller, Permission.SEARCH).condition("c");
            var parsed = search.query(type, params, true, null);
            return search.keys(reach == null ? parsed : parsed.and(reach.sql(), reach.args()), 0, 2);
        } catch (SearchException e) {
            throw new InvalidRequestException("Condition '" + condition + "': " + e.getMessage());
        }
    }
}
