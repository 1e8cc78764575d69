package jp.kiroku.access;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Set;

import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;

import jp.kiroku.platform.KirokuProperties;

/**
 * Decides what a subject may reach (ACL-01): the role × information-category matrix held in the database
 * ({@code access_rule}), the subject's facility, and their care relationships. Deny by default: a role reaches only
 * the categories the matrix names, and a resource type that no category claims is "unclassified", which no role
 * reaches. The matrix is cached for {@code kiroku.tokens.active-check-cache}, so an administrator's change holds
 * within seconds in every process.
 */
@Component
public class AccessPolicy {

    private final jp.kiroku.store.RecordStore store;
    private final CareRelations relations;
    private final KirokuProperties props;
    private final Clock clock;
    private final LoadingCache<Boolean, Matrix> matrix;
    private final ConsentRestrictions consents;
    private final SharingConsents sharing;

    AccessPolicy(JdbcTemplate jdbc, CareRelations relations, KirokuProperties props, Clock clock,
                 jp.kiroku.store.RecordStore store, ConsentRestrictions consents, SharingConsents sharing) {
        this.store = store;
        this.consents = consents;
        this.sharing = sharing;
        this.relations = relations;
        this.props = props;
        this.clock = clock;
        this.matrix = Caffeine.newBuilder().expireAfterWrite(props.getTokens().getActiveCheckCache())
                .build(k -> Matrix.load(jdbc));
    }

    /** What the subject may reach when it asks for {@code permission}. */
    public View view(Subject subject, Permission permission) {
        return view(subject, Matrix.Action.of(permission));
    }

    /** Whose records the subject may confirm (確定, INTEG-02): the matrix's confirm column. */
    public View confirmView(Subject subject) {
        return view(subject, Matrix.Action.CONFIRM);
    }

    /** Whether any of these roles may confirm records of the category (whom a proxy entry may name as responsible). */
    public boolean confirms(java.util.Collection<String> roles, String category) {
        return matrix().reach(Set.copyOf(roles), Matrix.Action.CONFIRM).containsKey(category);
    }

    private View view(Subject subject, Matrix.Action action) {
        Map<String, Reach> reach = subject.person() ? matrix().reach(subject.roles(), action) : Map.of();
        Instant now = clock.instant();
        return new View(subject, reach, relations, now, now.minus(props.getAccess().getCareAfterEnd()), store, consents, sharing);
    }

    /** The information category of a resource: a security label or tag that names one wins (sensitive first), else its type's. */
    public String categoryOf(IBaseResource resource) {
        Matrix m = matrix();
        String labelled = null;
        if (resource instanceof Resource r && r.hasMeta()) {
            for (Coding c : concat(r.getMeta().getSecurity(), r.getMeta().getTag())) {
                String category = m.labelCategory().get(c.getSystem() + "|" + c.getCode());
                if (Matrix.SENSITIVE.equals(category)) {
                    return category;
                }
                if (category != null && labelled == null) {
                    labelled = category;
                }
            }
        }
        return labelled != null ? labelled : m.categoryOfType(resource.fhirType());
    }

    /** The category every resource of a type is in unless labelled otherwise. */
    public String categoryOfType(String type) {
        return matrix().categoryOfType(type);
    }

    private static java.util.List<Coding> concat(java.util.List<Coding> a, java.util.List<Coding> b) {
        java.util.List<Coding> out = new java.util.ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    Matrix matrix() {
        return matrix.get(Boolean.TRUE);
    }

    /** After an edit in this process: the next decision reads the tables again. */
    void invalidate() {
        matrix.invalidateAll();
    }
}
