package jp.kiroku.identity;

import java.time.Clock;
import java.util.List;
import java.util.Map;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.core.convert.converter.Converter;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configurers.oauth2.server.authorization.OAuth2AuthorizationServerConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.crypto.argon2.Argon2PasswordEncoder;
import org.springframework.security.crypto.password.DelegatingPasswordEncoder;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.server.authorization.OAuth2Authorization;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.client.JdbcRegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.settings.AuthorizationServerSettings;
import org.springframework.security.oauth2.server.authorization.token.JwtEncodingContext;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenCustomizer;
import org.springframework.security.oauth2.server.resource.InvalidBearerTokenException;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationConverter;
import org.springframework.security.oauth2.server.resource.web.BearerTokenAuthenticationEntryPoint;
import org.springframework.security.oauth2.server.resource.web.access.BearerTokenAccessDeniedHandler;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.util.matcher.RequestMatcher;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;

import jp.kiroku.access.SmartScopes;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.platform.ProcessRole;

/**
 * OAuth2 for systems: Spring Authorization Server issues signed JWT access tokens (client credentials), and every
 * other path is an OAuth2 resource server that accepts only those tokens. Deny by default: only the public endpoints
 * of the brief answer without a token.
 */
@Configuration(proxyBeanMethods = false)
class IdentityConfiguration {

    private static final String[] PUBLIC = {"/fhir/metadata", "/fhir/.well-known/**", "/.well-known/**",
            "/oauth2/jwks", "/actuator/health", "/actuator/health/**", "/error"};

    /** Spring Security's strict firewall, with its header rules checked without regular expressions ({@link HeaderText}). */
    @Bean
    org.springframework.security.config.annotation.web.configuration.WebSecurityCustomizer strictFirewall() {
        var firewall = new org.springframework.security.web.firewall.StrictHttpFirewall();
        firewall.setAllowedHeaderNames(HeaderText::isAllowedName);
        firewall.setAllowedHeaderValues(HeaderText::isAllowedValue);
        return web -> web.httpFirewall(firewall);
    }

    /** Wraps Spring Security's filters so that every token request, refused ones included, is audited. */
    @Bean
    @ConditionalOnWebApplication
    org.springframework.boot.web.servlet.FilterRegistrationBean<TokenRequestAudit> tokenRequestAudit(
            jp.kiroku.audit.AuditTrail audit) {
        var reg = new org.springframework.boot.web.servlet.FilterRegistrationBean<>(new TokenRequestAudit(audit));
        reg.addUrlPatterns("/oauth2/token");
        reg.setOrder(org.springframework.core.Ordered.HIGHEST_PRECEDENCE + 10);
        return reg;
    }

    /**
     * The authorization server's endpoints: client credentials for systems; authorization code with PKCE (and OpenID
     * Connect) for apps acting for a person, who logs in on the people's pages (the session is read here) and is sent
     * back to the authorization request afterwards.
     */
    @Bean
    @Order(1)
    @ConditionalOnWebApplication
    SecurityFilterChain authorizationServerChain(HttpSecurity http, KirokuProperties props) throws Exception {
        hsts(http, props);
        OAuth2AuthorizationServerConfigurer as = new OAuth2AuthorizationServerConfigurer();
        RequestMatcher endpoints = as.getEndpointsMatcher();
        http.securityMatcher(endpoints)
                .with(as, c -> c.oidc(org.springframework.security.config.Customizer.withDefaults())
                        .tokenEndpoint(t -> t.accessTokenResponseHandler(patientContextInResponse())))
                .authorizeHttpRequests(a -> a.anyRequest().authenticated())
                .exceptionHandling(e -> e.defaultAuthenticationEntryPointFor(
                        new org.springframework.security.web.authentication.LoginUrlAuthenticationEntryPoint("/login"),
                        new org.springframework.security.web.util.matcher.MediaTypeRequestMatcher(
                                org.springframework.http.MediaType.TEXT_HTML)))
                .oauth2ResourceServer(rs -> rs.jwt(org.springframework.security.config.Customizer.withDefaults())) // userinfo
                .csrf(c -> c.ignoringRequestMatchers(endpoints));
        return http.build();
    }

    /**
     * SMART launch context: a token with patient/ scopes names its patient in the token response ({@code patient}),
     * as apps expect, besides the access token's own claim.
     */
    private static org.springframework.security.oauth2.server.authorization.web.authentication.OAuth2AccessTokenResponseAuthenticationSuccessHandler
            patientContextInResponse() {
        var handler = new org.springframework.security.oauth2.server.authorization.web.authentication
                .OAuth2AccessTokenResponseAuthenticationSuccessHandler();
        handler.setAccessTokenResponseCustomizer(context -> {
            var token = (org.springframework.security.oauth2.server.authorization.authentication
                    .OAuth2AccessTokenAuthenticationToken) context.getAuthentication();
            if (!SmartScopes.patientLevel(token.getAccessToken().getScopes())) {
                return;
            }
            try {
                Object patient = com.nimbusds.jwt.SignedJWT.parse(token.getAccessToken().getTokenValue()).getJWTClaimsSet()
                        .getClaim(Tokens.PATIENT);
                if (patient != null) {
                    java.util.Map<String, Object> params = new java.util.HashMap<>(token.getAdditionalParameters());
                    params.put(Tokens.PATIENT, patient);
                    context.getAccessTokenResponse().additionalParameters(params);
                }
            } catch (java.text.ParseException e) {
                throw new IllegalStateException("an access token this server just issued does not parse", e);
            }
        });
        return handler;
    }

    /** Japanese unless the person chose otherwise ({@code ?lang=en}, remembered in a cookie). */
    @Bean
    org.springframework.web.servlet.LocaleResolver localeResolver() {
        var r = new org.springframework.web.servlet.i18n.CookieLocaleResolver("kiroku-lang");
        r.setDefaultLocale(java.util.Locale.JAPANESE);
        return r;
    }

    @Bean
    org.springframework.web.servlet.config.annotation.WebMvcConfigurer languageSwitch() {
        return new org.springframework.web.servlet.config.annotation.WebMvcConfigurer() {
            @Override
            public void addInterceptors(org.springframework.web.servlet.config.annotation.InterceptorRegistry registry) {
                var change = new org.springframework.web.servlet.i18n.LocaleChangeInterceptor();
                change.setParamName("lang");
                change.setIgnoreInvalidLocale(true);
                registry.addInterceptor(change);
            }
        };
    }

    /** People's pages: login steps and the signed-in session (cookies, CSRF, strict CSP; AUTH-01, AUTH-09). */
    static final String[] PEOPLE_PAGES = {"/", "/login", "/login/**", "/logout", "/logout/**", "/assets/**", "/account/**",
            "/device/enroll", "/console/**",
            "/patients", "/patients/**", "/worklist", "/worklist/**", "/rights", "/rights/**", "/my", "/my/**"};

    @Bean
    @Order(2)
    @ConditionalOnWebApplication
    SecurityFilterChain peopleChain(HttpSecurity http, KirokuProperties props, TerminalCheck terminals) throws Exception {
        hsts(http, props);
        http.securityMatcher(PEOPLE_PAGES)
                .authorizeHttpRequests(a -> a
                        .requestMatchers("/login", "/login/**", "/assets/**", "/device/enroll").permitAll()
                        .anyRequest().authenticated())
                .exceptionHandling(e -> e.authenticationEntryPoint(
                        new org.springframework.security.web.authentication.LoginUrlAuthenticationEntryPoint("/login")))
                .securityContext(c -> c.securityContextRepository(
                        new org.springframework.security.web.context.HttpSessionSecurityContextRepository()))
                .requestCache(r -> r.disable())
                .logout(l -> l.disable()) // SessionPages logs out, and audits it
                .headers(h -> h
                        .contentSecurityPolicy(c -> c.policyDirectives("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
                                + " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"))
                        .referrerPolicy(r -> r.policy(org.springframework.security.web.header.writers
                                .ReferrerPolicyHeaderWriter.ReferrerPolicy.NO_REFERRER)))
                .addFilterAfter(new SessionLimits(props.getAuth().getAbsoluteTimeout(), Clock.systemUTC(), terminals),
                        org.springframework.security.web.context.SecurityContextHolderFilter.class);
        return http.build();
    }

    @Bean
    @Order(3)
    @ConditionalOnWebApplication
    SecurityFilterChain apiChain(HttpSecurity http, ClientRegistry clients, Accounts accounts, TerminalCheck terminals,
                                 AuditTrail audit, KirokuProperties props) throws Exception {
        hsts(http, props);
        var entryPoint = new BearerTokenAuthenticationEntryPoint();
        var denied = new BearerTokenAccessDeniedHandler();
        http.authorizeHttpRequests(a -> a
                        .requestMatchers(org.springframework.http.HttpMethod.GET, PUBLIC).permitAll()
                        .requestMatchers("/error").permitAll()
                        // metrics: only a client holding the scope of its own (no wildcard scope reaches it)
                        .requestMatchers(org.springframework.http.HttpMethod.GET, "/actuator/prometheus")
                        .hasAuthority("SCOPE_" + SmartScopes.METRICS_READ)
                        .requestMatchers("/actuator/**").denyAll()
                        .anyRequest().authenticated())
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .csrf(c -> c.disable()) // bearer-token API: no ambient credentials to forge
                .oauth2ResourceServer(rs -> rs
                        .jwt(j -> j.jwtAuthenticationConverter(activeClientsOnly(clients, accounts, terminals, audit)))
                        .authenticationEntryPoint((req, res, ex) -> {
                            entryPoint.commence(req, res, ex);
                            OperationOutcomeErrors.write(res, 401, "login",
                                    "Authentication required: send a valid bearer token (" + ex.getMessage() + ")");
                        })
                        .accessDeniedHandler((req, res, ex) -> {
                            denied.handle(req, res, ex);
                            OperationOutcomeErrors.write(res, 403, "forbidden", "Access denied");
                        }))
                .exceptionHandling(e -> e.authenticationEntryPoint((req, res, ex) -> {
                    entryPoint.commence(req, res, ex);
                    OperationOutcomeErrors.write(res, 401, "login", "Authentication required: send a bearer token");
                }));
        return http.build();
    }

    /**
     * Strict-Transport-Security on every HTTPS response of every chain (NET-04; kiroku.tls.hsts-max-age, 0: none).
     * Spring Security writes it only on secure requests, so a loopback HTTP trial gets none.
     */
    private static void hsts(HttpSecurity http, KirokuProperties props) throws Exception {
        java.time.Duration maxAge = props.getTls().getHstsMaxAge();
        if (maxAge == null || maxAge.isZero() || maxAge.isNegative()) {
            http.headers(h -> h.httpStrictTransportSecurity(s -> s.disable()));
        } else {
            http.headers(h -> h.httpStrictTransportSecurity(s -> s.maxAgeInSeconds(maxAge.toSeconds())
                    .includeSubDomains(props.getTls().isHstsIncludeSubdomains())));
        }
    }

    /**
     * A valid signature is not enough: the client must still be active, and for a token that acts for a person, the
     * person's account too (checked per request, cached briefly; disabling in this process takes effect at once). A
     * disabled account's or client's token is refused and audited as token.refused (rule disabled-token: somebody
     * still holds it).
     */
    private static Converter<Jwt, AbstractAuthenticationToken> activeClientsOnly(ClientRegistry clients, Accounts accounts,
                                                                              TerminalCheck terminals, AuditTrail audit) {
        JwtAuthenticationConverter standard = new JwtAuthenticationConverter();
        return jwt -> {
            var attributes = org.springframework.web.context.request.RequestContextHolder.getRequestAttributes();
            var request = attributes instanceof org.springframework.web.context.request.ServletRequestAttributes s
                    ? s.getRequest() : null;
            String client = Tokens.clientId(jwt);
            if (client == null || !clients.isActive(client)) {
                throw refusedToken(audit, jwt, request, "client is disabled or unknown");
            }
            if (Tokens.actsForPerson(jwt) && !accounts.isActive(jwt.getSubject())) {
                throw refusedToken(audit, jwt, request, "person is disabled or unknown");
            }
            if (Tokens.actsForPerson(jwt)) { // BYOD-01: a staff token works only from the terminal it is bound to
                List<String> scopes = jwt.getClaimAsStringList("scope");
                String refusal = terminals.onRequest(jwt.getClaimAsString(Tokens.DEVICE),
                        !SmartScopes.patientLevel(scopes == null ? List.of() : scopes), TerminalCheck.credential(request));
                if (refusal != null) {
                    throw new InvalidBearerTokenException(refusal);
                }
            }
            return standard.convert(jwt);
        };
    }

    private static InvalidBearerTokenException refusedToken(AuditTrail audit, Jwt jwt,
                                                            jakarta.servlet.http.HttpServletRequest request, String why) {
        Agent.Kind kind = Tokens.actsForPerson(jwt) ? Agent.Kind.USER : Agent.Kind.CLIENT;
        audit.record(AuditRecord.of(new Agent(kind, jwt.getSubject(), request == null ? null : request.getRemoteAddr()),
                "token.refused", AuditRecord.Outcome.DENIED).withDetail("the token's " + why));
        return new InvalidBearerTokenException("the token's " + why);
    }

    @Bean
    RegisteredClientRepository registeredClientRepository(JdbcTemplate jdbc) {
        return new JdbcRegisteredClientRepository(jdbc);
    }

    /**
     * Authorizations of apps acting for a person are kept (codes, refresh tokens, revocation, introspection); those of
     * system clients are not: their access tokens are self-contained JWTs, they get no refresh tokens, and revoking
     * one is done by disabling the client (see {@link ClientRegistry#isActive}).
     */
    @Bean
    OAuth2AuthorizationService authorizationService(JdbcTemplate jdbc, RegisteredClientRepository clients) {
        var stored = new org.springframework.security.oauth2.server.authorization.JdbcOAuth2AuthorizationService(jdbc, clients);
        return new OAuth2AuthorizationService() {
            @Override
            public void save(OAuth2Authorization authorization) {
                if (!AuthorizationGrantType.CLIENT_CREDENTIALS.equals(authorization.getAuthorizationGrantType())) {
                    stored.save(authorization);
                }
            }

            @Override
            public void remove(OAuth2Authorization authorization) {
                stored.remove(authorization);
            }

            @Override
            public OAuth2Authorization findById(String id) {
                return stored.findById(id);
            }

            @Override
            public OAuth2Authorization findByToken(String token, OAuth2TokenType tokenType) {
                return stored.findByToken(token, tokenType);
            }
        };
    }

    @Bean
    JWKSet tokenSigningKeys(KirokuProperties props) {
        return SigningKeys.loadOrCreate(props.getKeysDir());
    }

    @Bean
    JWKSource<SecurityContext> jwkSource(JWKSet keys) {
        return new ImmutableJWKSet<>(keys);
    }

    /**
     * Verifies with the public key itself: a decoder over the JWK source converts the stored key (private part
     * included) from its JWK form on every request, ~5 % of a read's CPU (JFR). Key rotation will need one decoder
     * per key id.
     */
    @Bean
    JwtDecoder jwtDecoder(JWKSet keys, java.time.Clock clock, KirokuProperties props) throws com.nimbusds.jose.JOSEException {
        java.security.interfaces.RSAPublicKey key = keys.getKeys().get(0).toRSAKey().toRSAPublicKey();
        return new VerifiedTokens(org.springframework.security.oauth2.jwt.NimbusJwtDecoder.withPublicKey(key).build(), clock,
                props.getTokens().getAccessTokenLifetime());
    }

    /**
     * No Micrometer observations around every security filter, authentication and authorization: nothing consumes
     * them, and they cost ~7 % of a search's JVM CPU (JFR). The access log is the audit trail, not these.
     */
    @Bean
    org.springframework.security.config.observation.SecurityObservationSettings securityObservationSettings() {
        return org.springframework.security.config.observation.SecurityObservationSettings.noObservations();
    }

    @Bean
    AuthorizationServerSettings authorizationServerSettings() {
        return AuthorizationServerSettings.builder().build();
    }

    /**
     * No token for a disabled client. Every access token: lifetime from {@code kiroku.tokens.access-token-lifetime} whatever a client's stored settings
     * say, the client's id, and whether it acts for a person ({@link Tokens}). A token for a person is refused (also on
     * refresh) once their account is disabled; the ID token names the person's FHIR resource ({@code fhirUser}).
     */
    @Bean
    OAuth2TokenCustomizer<JwtEncodingContext> tokenClaims(KirokuProperties props, Clock clock, Accounts accounts,
                                                          ClientRegistry clients) {
        return context -> {
            if (!clients.isActive(context.getRegisteredClient().getClientId())) { // disabled: no new token either
                throw new org.springframework.security.oauth2.core.OAuth2AuthenticationException(
                        new org.springframework.security.oauth2.core.OAuth2Error("invalid_client", "the client is disabled",
                                null));
            }
            boolean person = !AuthorizationGrantType.CLIENT_CREDENTIALS.equals(context.getAuthorizationGrantType());
            if (person && !accounts.isActive(context.getPrincipal().getName())) {
                throw new org.springframework.security.oauth2.core.OAuth2AuthenticationException(
                        new org.springframework.security.oauth2.core.OAuth2Error("invalid_grant", "the account is disabled", null));
            }
            if (OAuth2TokenType.ACCESS_TOKEN.equals(context.getTokenType())) {
                String device = person ? Tokens.deviceOf(context.getPrincipal().getAuthorities()) : null;
                if (device != null) { // bound to the terminal the person logged in from
                    context.getClaims().claim(Tokens.DEVICE, device);
                }
                if (person && SmartScopes.patientLevel(context.getAuthorizedScopes())) {
                    // patient/ scopes: the context is the person's own record; staff use user/ scopes
                    String self = accounts.find(context.getPrincipal().getName()).filter(a -> "patient".equals(a.kind()))
                            .map(Account::fhirRef).filter(r -> r != null && r.startsWith("Patient/"))
                            .orElseThrow(() -> new org.springframework.security.oauth2.core.OAuth2AuthenticationException(
                                    new org.springframework.security.oauth2.core.OAuth2Error("invalid_scope",
                                            "patient/ scopes are for a patient's own account; staff apps use user/ scopes",
                                            null)));
                    context.getClaims().claim(Tokens.PATIENT, self.substring("Patient/".length()));
                }
                var issued = clock.instant();
                context.getClaims().issuedAt(issued).notBefore(issued)
                        .expiresAt(issued.plus(props.getTokens().getAccessTokenLifetime()))
                        .claim(Tokens.CLIENT_ID, context.getRegisteredClient().getClientId())
                        .claim(Tokens.KIND, person ? Tokens.PERSON : "client");
                // A client that asks for no particular scope gets all that it is registered for (RFC 6749 §3.3 default)
                if (context.getAuthorizedScopes().isEmpty()) {
                    context.getClaims().claim("scope", context.getRegisteredClient().getScopes());
                }
            } else if ("id_token".equals(context.getTokenType().getValue()) && context.getAuthorizedScopes().contains("fhirUser")) {
                accounts.find(context.getPrincipal().getName()).map(Account::fhirRef).filter(r -> r != null)
                        .ifPresent(ref -> context.getClaims().claim("fhirUser",
                                context.getAuthorizationServerContext().getIssuer() + "/fhir/" + ref));
            }
        };
    }

    /**
     * Argon2id with OWASP's parameters (19 MiB, 2 iterations, 1 lane; AUTH-03). Each hash names its parameters, so
     * hashes made with other ones keep verifying.
     */
    @Bean
    PasswordEncoder passwordEncoder() {
        return new DelegatingPasswordEncoder("argon2", Map.of("argon2", new Argon2PasswordEncoder(16, 32, 1, 19 * 1024, 2)));
    }

    /** First start: create the bootstrap client from KIROKU_BOOTSTRAP_CLIENT_ID/SECRET if no client exists yet. */
    @Bean
    ApplicationRunner bootstrapClient(ClientRegistry clients, KirokuProperties props,
                                      @Value("${kiroku.runtime.role:serve}") ProcessRole role) {
        return args -> {
            var b = props.getBootstrap();
            if (role != ProcessRole.SERVE || b.getClientId() == null || b.getClientId().isBlank()) {
                return;
            }
            if (b.getClientSecret() == null || b.getClientSecret().length() < 32) {
                throw new IllegalStateException("KIROKU_BOOTSTRAP_CLIENT_SECRET must have at least 32 characters");
            }
            if (!clients.anyExists()) {
                clients.create("bootstrap client", b.getClientId(), b.getClientSecret(), List.of("system/*.*"),
                        Agent.localOperator());
                org.slf4j.LoggerFactory.getLogger("jp.kiroku").info("Created bootstrap client '{}' with scope system/*.*",
                        b.getClientId());
            }
        };
    }
}
