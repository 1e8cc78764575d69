package jp.kiroku.access;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The resource permissions an access token's SMART scopes grant (SMART App Launch v2, with v1 forms accepted):
 * {@code system/Patient.read}, {@code system/*.write}, {@code system/*.*}, {@code system/Observation.rs},
 * {@code system/*.cruds}. Deny by default: anything not granted is refused.
 * <p>
 * {@code system/} scopes (system clients) and {@code user/} scopes (apps acting for a signed-in person) grant per
 * resource type; the person's roles, facility and care relationships narrow that further ({@link AccessPolicy}).
 * {@code patient/} scopes grant the same, within a patient context: Kiroku issues them only to a patient's own account,
 * whose context is their own record (and whose role reaches nothing else).
 */
public final class SmartScopes {

    private static final Pattern SCOPE = Pattern.compile("(system|user|patient)/(\\*|[A-Z][A-Za-z]+)\\.(read|write|\\*|c?r?u?d?s?)");

    private final Map<String, EnumSet<Permission>> byType;

    private SmartScopes(Map<String, EnumSet<Permission>> byType) {
        this.byType = byType;
    }

    /** The grants of a token's scopes; scopes that are not SMART resource scopes (e.g. openid) grant nothing. */
    public static SmartScopes of(Collection<String> scopes) {
        Map<String, EnumSet<Permission>> byType = new HashMap<>();
        for (String scope : scopes) {
            Matcher m = SCOPE.matcher(scope);
            if (!m.matches() || m.group(3).isEmpty()) {
                continue;
            }
            byType.computeIfAbsent(m.group(2), t -> EnumSet.noneOf(Permission.class)).addAll(permissions(m.group(3)));
        }
        return new SmartScopes(byType);
    }

    private static EnumSet<Permission> permissions(String action) {
        return switch (action) {
            case "read" -> EnumSet.of(Permission.READ, Permission.SEARCH);
            case "write" -> EnumSet.of(Permission.CREATE, Permission.UPDATE, Permission.DELETE);
            case "*" -> EnumSet.allOf(Permission.class);
            default -> {
                EnumSet<Permission> set = EnumSet.noneOf(Permission.class);
                action.chars().forEach(c -> set.add(Permission.of((char) c)));
                yield set;
            }
        };
    }

    /**
     * Types a wildcard scope does not reach: the access log is for auditors only, so reading it takes a scope that
     * names it ({@code system/AuditEvent.rs}).
     */
    public static final Set<String> EXPLICIT_ONLY = Set.of("AuditEvent");

    public boolean permits(String resourceType, Permission permission) {
        return (has("*", permission) && !EXPLICIT_ONLY.contains(resourceType)) || has(resourceType, permission);
    }

    /** True when the scopes grant {@code permission} on every resource type ({@code system/*.x}). */
    public boolean permitsAllTypes(Permission permission) {
        return has("*", permission);
    }

    public boolean permitsAnything(String resourceType) {
        return (!byType.getOrDefault("*", EnumSet.noneOf(Permission.class)).isEmpty() && !EXPLICIT_ONLY.contains(resourceType))
                || !byType.getOrDefault(resourceType, EnumSet.noneOf(Permission.class)).isEmpty();
    }

    private boolean has(String type, Permission p) {
        EnumSet<Permission> set = byType.get(type);
        return set != null && set.contains(p);
    }

    /**
     * Checks scopes that an administrator is about to grant a system client: each must be a {@code system/} scope
     * naming a known resource type (or {@code *}). Returns the problems found, empty when all are valid.
     */
    public static List<String> problemsForSystemClient(Collection<String> scopes, Set<String> resourceTypes) {
        List<String> problems = new ArrayList<>();
        if (scopes.isEmpty()) {
            problems.add("at least one scope is required, e.g. system/*.read");
        }
        for (String scope : scopes) {
            if (scope.equals(METRICS_READ)) {
                continue;
            }
            Matcher m = SCOPE.matcher(scope);
            if (!m.matches() || m.group(3).isEmpty()) {
                problems.add("'" + scope + "' is not a SMART scope (expected e.g. system/*.read, system/Patient.rs)");
            } else if (!m.group(1).equals("system")) {
                problems.add("'" + scope + "': system clients take system/ scopes only");
            } else if (!m.group(2).equals("*") && !resourceTypes.contains(m.group(2))) {
                problems.add("'" + scope + "': " + m.group(2) + " is not an R4 resource type");
            }
        }
        return problems;
    }

    /**
     * Reading the server's metrics ({@code /actuator/prometheus}): a system client's scope of its own, granted by no
     * wildcard and granting no record (a monitoring system's client holds only this one).
     */
    public static final String METRICS_READ = "system/metrics.read";

    /** Non-resource scopes an app acting for a person may have: identity (OpenID Connect) and refresh tokens. */
    public static final Set<String> APP_IDENTITY_SCOPES = Set.of("openid", "fhirUser", "profile", "offline_access",
            "online_access");

    /** Asks for the patient context in a standalone launch (SMART): the patient's own record, for a patient's app. */
    public static final String LAUNCH_PATIENT = "launch/patient";

    /** True when the scopes are patient-level ({@code patient/...}): the token is confined to one patient's record. */
    public static boolean patientLevel(Collection<String> scopes) {
        return scopes.stream().anyMatch(s -> s.startsWith("patient/"));
    }

    /**
     * Checks scopes for an app that acts for a signed-in person (authorization code): either {@code user/} resource
     * scopes (staff apps) or {@code patient/} ones with {@code launch/patient} (patients' apps), not both, and the
     * identity scopes.
     */
    public static List<String> problemsForApp(Collection<String> scopes, Set<String> resourceTypes) {
        List<String> problems = new ArrayList<>();
        boolean user = scopes.stream().anyMatch(s -> s.startsWith("user/"));
        boolean patient = patientLevel(scopes);
        if (!user && !patient) {
            problems.add("at least one user/ scope (staff apps, e.g. user/Patient.rs) or patient/ scope (patients' apps,"
                    + " e.g. patient/*.rs) is required");
        } else if (user && patient) {
            problems.add("an app takes user/ scopes (for staff) or patient/ scopes (for patients), not both");
        }
        if (scopes.contains(LAUNCH_PATIENT) && !patient) {
            problems.add("launch/patient goes with patient/ scopes");
        }
        for (String scope : scopes) {
            if (APP_IDENTITY_SCOPES.contains(scope) || LAUNCH_PATIENT.equals(scope)) {
                continue;
            }
            Matcher m = SCOPE.matcher(scope);
            if (!m.matches() || m.group(3).isEmpty()) {
                problems.add("'" + scope + "' is not a SMART scope (expected e.g. user/*.read, user/Observation.rs, openid)");
            } else if (m.group(1).equals("system")) {
                problems.add("'" + scope + "': an app acting for a person takes user/ or patient/ scopes");
            } else if (!m.group(2).equals("*") && !resourceTypes.contains(m.group(2))) {
                problems.add("'" + scope + "': " + m.group(2) + " is not an R4 resource type");
            }
        }
        return problems;
    }

    /** The set of letters granted on a type, for diagnostics: e.g. "rs". */
    public Optional<String> describe(String resourceType) {
        EnumSet<Permission> all = EnumSet.noneOf(Permission.class);
        Optional.ofNullable(byType.get("*")).ifPresent(all::addAll);
        Optional.ofNullable(byType.get(resourceType)).ifPresent(all::addAll);
        if (all.isEmpty()) {
            return Optional.empty();
        }
        StringBuilder sb = new StringBuilder();
        all.forEach(p -> sb.append(p.letter()));
        return Optional.of(sb.toString());
    }
}
