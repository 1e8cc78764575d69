package jp.kiroku.identity;

import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;

import ca.uhn.fhir.context.FhirContext;
import jp.kiroku.access.SmartScopes;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.platform.SecretFiles;

/**
 * System clients (OAuth2 client credentials). Secrets are generated here, shown once, and stored only as Argon2id
 * hashes. Whether a client is still active is checked on every request (cached at most
 * {@code kiroku.tokens.active-check-cache}), so disabling one takes effect at once.
 */
@Service
public class ClientRegistry {

    public record NewClient(String clientId, String secret, Set<String> scopes) {
        @Override
        public String toString() {
            return "NewClient[clientId=" + clientId + ", scopes=" + scopes + "]";
        }
    }

    public record ClientSummary(String clientId, String name, String scopes, Instant created, Instant disabled) {
    }

    private static final int MIN_SECRET_LENGTH = 32;

    private final RegisteredClientRepository repository;
    private final PasswordEncoder encoder;
    private final JdbcTemplate jdbc;
    private final AuditTrail audit;
    private final Clock clock;
    private final LoadingCache<String, Boolean> active;
    private final LoadingCache<String, java.util.Optional<String>> partners;
    private final Set<String> resourceTypes;
    private final java.time.Duration accessTokenLifetime;
    private final java.time.Duration refreshTokenLifetime;

    ClientRegistry(RegisteredClientRepository repository, PasswordEncoder encoder, JdbcTemplate jdbc, AuditTrail audit,
                   Clock clock, KirokuProperties props, FhirContext fhir) {
        this.repository = repository;
        this.encoder = encoder;
        this.jdbc = jdbc;
        this.audit = audit;
        this.clock = clock;
        this.resourceTypes = fhir.getResourceTypes();
        this.accessTokenLifetime = props.getTokens().getAccessTokenLifetime();
        this.refreshTokenLifetime = props.getTokens().getRefreshTokenLifetime();
        this.active = Caffeine.newBuilder().expireAfterWrite(props.getTokens().getActiveCheckCache())
                .maximumSize(10_000).build(this::loadActive);
        this.partners = Caffeine.newBuilder().expireAfterWrite(props.getTokens().getActiveCheckCache())
                .maximumSize(10_000).build(id -> java.util.Optional.ofNullable(jdbc.query(
                        "SELECT sharing_facility FROM oauth2_registered_client WHERE client_id = ?",
                        (rs, i) -> rs.getString(1), id).stream().filter(java.util.Objects::nonNull).findFirst().orElse(null)));
    }

    /** Registers a system client with a generated secret. */
    @Transactional
    public NewClient create(String name, List<String> scopes, Agent by) {
        return create(name, null, null, scopes, by);
    }

    /** Registers a system client; {@code clientId}/{@code secret} null means generate them. */
    @Transactional
    public NewClient create(String name, String clientId, String secret, List<String> scopes, Agent by) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a client needs a name (--name)");
        }
        List<String> problems = SmartScopes.problemsForSystemClient(scopes, resourceTypes);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        String id = clientId != null ? clientId : "kiroku-" + SecretFiles.randomToken(9).toLowerCase().replace('_', 'x').replace('-', 'y');
        if (!id.matches("[A-Za-z0-9._-]{3,100}")) {
            throw new IllegalArgumentException("client id must be 3-100 characters of A-Z a-z 0-9 . _ -");
        }
        if (repository.findByClientId(id) != null) {
            throw new IllegalArgumentException("a client with id '" + id + "' already exists");
        }
        String plain = secret != null ? secret : SecretFiles.randomToken(32);
        if (plain.length() < MIN_SECRET_LENGTH) {
            throw new IllegalArgumentException("a client secret must have at least " + MIN_SECRET_LENGTH + " characters");
        }
        Set<String> scopeSet = new LinkedHashSet<>(scopes);
        RegisteredClient client = RegisteredClient.withId(UUID.randomUUID().toString())
                .clientId(id)
                .clientIdIssuedAt(clock.instant())
                .clientName(name)
                .clientSecret(encoder.encode(plain))
                .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
                .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_POST)
                .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
                .scopes(s -> s.addAll(scopeSet))
                .build();
        repository.save(client);
        jdbc.update("UPDATE oauth2_registered_client SET created_by = ? WHERE client_id = ?",
                by.kind().code() + ":" + by.id(), id);
        audit.record(AuditRecord.of(by, "client.create", AuditRecord.Outcome.SUCCESS)
                .withDetail("client=" + id + " scopes=" + String.join(" ", scopeSet)));
        return new NewClient(id, plain, scopeSet);
    }

    /**
     * Registers an app that acts for a signed-in person (authorization code with PKCE, ACL-06): a public app (in the
     * browser or on a device; no secret) or a confidential one (a server; a generated secret, and refresh tokens that
     * change with every use). Redirect URIs must be https, or http on the loopback address (RFC 8252).
     */
    @Transactional
    public NewClient createApp(String name, List<String> redirectUris, List<String> scopes, boolean publicClient, Agent by) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("an app needs a name (--name)");
        }
        List<String> problems = new java.util.ArrayList<>(SmartScopes.problemsForApp(scopes, resourceTypes));
        if (redirectUris.isEmpty()) {
            problems.add("at least one redirect URI is needed (--redirect-uri)");
        }
        redirectUris.forEach(u -> redirectProblem(u).ifPresent(problems::add));
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        String id = "kiroku-app-" + SecretFiles.randomToken(9).toLowerCase().replace('_', 'x').replace('-', 'y');
        String plain = publicClient ? null : SecretFiles.randomToken(32);
        Set<String> scopeSet = new LinkedHashSet<>(scopes);
        RegisteredClient.Builder b = RegisteredClient.withId(UUID.randomUUID().toString())
                .clientId(id)
                .clientIdIssuedAt(clock.instant())
                .clientName(name)
                .authorizationGrantType(AuthorizationGrantType.AUTHORIZATION_CODE)
                .redirectUris(r -> r.addAll(redirectUris))
                .scopes(s -> s.addAll(scopeSet))
                .clientSettings(org.springframework.security.oauth2.server.authorization.settings.ClientSettings.builder()
                        .requireProofKey(true).requireAuthorizationConsent(false).build())
                .tokenSettings(org.springframework.security.oauth2.server.authorization.settings.TokenSettings.builder()
                        .accessTokenTimeToLive(accessTokenLifetime).refreshTokenTimeToLive(refreshTokenLifetime)
                        .reuseRefreshTokens(false).build());
        if (publicClient) {
            b.clientAuthenticationMethod(ClientAuthenticationMethod.NONE);
        } else {
            b.clientSecret(encoder.encode(plain))
                    .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
                    .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_POST)
                    .authorizationGrantType(AuthorizationGrantType.REFRESH_TOKEN);
        }
        repository.save(b.build());
        jdbc.update("UPDATE oauth2_registered_client SET created_by = ? WHERE client_id = ?",
                by.kind().code() + ":" + by.id(), id);
        audit.record(AuditRecord.of(by, "client.create", AuditRecord.Outcome.SUCCESS)
                .withDetail("app=" + id + (publicClient ? " public" : " confidential") + " scopes="
                        + String.join(" ", scopeSet) + " redirect=" + String.join(" ", redirectUris)));
        return new NewClient(id, plain, scopeSet);
    }

    private static java.util.Optional<String> redirectProblem(String uri) {
        try {
            java.net.URI u = new java.net.URI(uri);
            boolean loopback = "http".equals(u.getScheme()) && ("127.0.0.1".equals(u.getHost()) || "[::1]".equals(u.getHost())
                    || "localhost".equals(u.getHost()));
            if (!"https".equals(u.getScheme()) && !loopback) {
                return java.util.Optional.of("'" + uri + "': redirect URIs must be https (http only on the loopback address)");
            }
            if (u.getFragment() != null || u.getHost() == null) {
                return java.util.Optional.of("'" + uri + "': an absolute URI without a fragment is needed");
            }
            return java.util.Optional.empty();
        } catch (java.net.URISyntaxException e) {
            return java.util.Optional.of("'" + uri + "' is not a URI");
        }
    }

    /** Disables a client: its tokens stop working within the active-check cache time. */
    @Transactional
    public boolean disable(String clientId, Agent by) {
        int n = jdbc.update("UPDATE oauth2_registered_client SET disabled_at = ? WHERE client_id = ? AND disabled_at IS NULL",
                java.sql.Timestamp.from(clock.instant()), clientId);
        audit.record(AuditRecord.of(by, "client.disable", n == 1 ? AuditRecord.Outcome.SUCCESS : AuditRecord.Outcome.FAILED)
                .withDetail("client=" + clientId));
        active.invalidate(clientId);
        return n == 1;
    }

    public List<ClientSummary> list() {
        return jdbc.query("SELECT client_id, client_name, scopes, client_id_issued_at, disabled_at"
                + " FROM oauth2_registered_client ORDER BY client_id_issued_at", (rs, i) -> new ClientSummary(
                rs.getString(1), rs.getString(2), rs.getString(3), rs.getTimestamp(4).toInstant(),
                rs.getTimestamp(5) == null ? null : rs.getTimestamp(5).toInstant()));
    }

    public boolean anyExists() {
        Boolean any = jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM oauth2_registered_client)", Boolean.class);
        return Boolean.TRUE.equals(any);
    }

    /**
     * Registers a sharing partner's client (issue 12, item 4): another Kiroku, or another facility's system, that reads
     * what patients share with {@code facility} — client credentials, read and search only ({@code system/*.rs}). Its
     * requests are decided as the role {@code partner} of that facility, so it reaches the records patients have
     * shared with the facility (their consents), and nothing else.
     */
    @Transactional
    public NewClient createPartner(String name, String facility, Agent by) {
        if (facility == null || !facility.matches("[A-Za-z0-9._-]{1,100}")) {
            throw new IllegalArgumentException("a partner needs the id of the facility it reads for (--facility)");
        }
        NewClient client = create(name, List.of("system/*.rs"), by);
        jdbc.update("UPDATE oauth2_registered_client SET sharing_facility = ? WHERE client_id = ?", facility, client.clientId());
        audit.record(AuditRecord.of(by, "client.partner", AuditRecord.Outcome.SUCCESS)
                .withDetail("client=" + client.clientId() + " facility=" + facility));
        return client;
    }

    /** The facility a sharing partner's client reads for; empty for every other client (cached like the active check). */
    public java.util.Optional<String> sharingFacility(String clientId) {
        return partners.get(clientId);
    }

    /** True when the client exists and is not disabled. */
    public boolean isActive(String clientId) {
        return active.get(clientId);
    }

    private boolean loadActive(String clientId) {
        List<Boolean> r = jdbc.query("SELECT disabled_at IS NULL FROM oauth2_registered_client WHERE client_id = ?",
                (rs, i) -> rs.getBoolean(1), clientId);
        return !r.isEmpty() && r.get(0);
    }
}
