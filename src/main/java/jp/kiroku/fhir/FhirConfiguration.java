package jp.kiroku.fhir;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;

import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.DependsOn;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.StrictErrorHandler;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.platform.ProcessRole;
import jp.kiroku.search.SearchIndex;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationListener;

@Configuration(proxyBeanMethods = false)
class FhirConfiguration {

    /**
     * Scanning the ~146 R4 resource definitions takes seconds; it starts on a background thread as soon as this
     * configuration class is loaded, so that it overlaps with the database start instead of adding to it.
     */
    private static final CompletableFuture<FhirContext> CONTEXT = CompletableFuture.supplyAsync(() -> {
        FhirContext ctx = FhirContext.forR4();
        ctx.setParserErrorHandler(new StrictErrorHandler());
        ctx.getParserOptions().setOverrideResourceIdWithBundleEntryFullUrl(false);
        ctx.getParserOptions().setStripVersionsFromReferences(false);
        ctx.getResourceTypes().forEach(ctx::getResourceDefinition);
        return ctx;
    });

    /**
     * R4, parsing strictly everywhere (HAPI's own parsing of Bundles included). Depends on the DataSource only so that
     * the database starts first, while the definitions are still being scanned in the background.
     */
    @Bean
    @DependsOn("dataSource")
    FhirContext fhirContext() {
        return CONTEXT.join();
    }

    @Bean
    ProfileValidator profileValidator(FhirContext ctx) {
        return new ProfileValidator(ctx);
    }

    /**
     * The validator and the search extractor take seconds of CPU to build: build them on one background thread once
     * the server is ready, so that start-up does not wait and the first writes do not pay for them.
     */
    @Bean
    ApplicationListener<ApplicationReadyEvent> warmUp(ProfileValidator validator, SearchIndex search,
                                                      @Value("${kiroku.runtime.role:serve}") ProcessRole role) {
        return event -> {
            if (role != ProcessRole.SERVE) {
                return;
            }
            Thread t = new Thread(() -> {
                long start = System.nanoTime();
                try {
                    validator.warmUp();
                    search.warmUp();
                    LoggerFactory.getLogger("jp.kiroku").info("Background warm-up finished in {} ms",
                            (System.nanoTime() - start) / 1_000_000);
                } catch (RuntimeException e) {
                    LoggerFactory.getLogger("jp.kiroku").warn("Background warm-up failed (retried on first use): {}", e.getMessage());
                }
            }, "kiroku-warmup");
            t.setDaemon(true);
            t.start();
        };
    }

    @Bean
    ServletRegistrationBean<KirokuFhirServer> fhirServlet(FhirContext ctx, FhirServices services,
                                                          TransactionProcessor transactions, Searches searches,
                                                          Interactions interactions, KirokuProperties props,
                                                          org.springframework.beans.factory.ObjectProvider<OperationProvider> more) {
        var server = new KirokuFhirServer(ctx, services, transactions, searches, interactions,
                props.getTimeZone(), new BreakGlassProvider(services, interactions));
        more.orderedStream().forEach(server::registerProvider);
        var reg = new ServletRegistrationBean<>(server, "/fhir/*");
        reg.setName("fhir");
        reg.setLoadOnStartup(1);
        return reg;
    }

    @Bean
    FilterRegistrationBean<RequestSizeLimit> requestSizeLimit(KirokuProperties props) {
        var reg = new FilterRegistrationBean<>(new RequestSizeLimit(props.getMaxRequestSize().toBytes()));
        reg.addUrlPatterns("/fhir/*");
        return reg;
    }

    /** Compartment searches (Patient/1/Observation) are forwarded to the type's search; see {@link CompartmentPaths}. */
    @Bean
    FilterRegistrationBean<CompartmentPaths> compartmentPaths(FhirContext ctx) {
        var reg = new FilterRegistrationBean<>(new CompartmentPaths(ctx.getResourceTypes()));
        reg.addUrlPatterns("/fhir/*");
        return reg;
    }

    /** SMART configuration (public), served by exact-path servlets so that it does not go through HAPI. */
    @Bean
    ServletRegistrationBean<HttpServlet> smartConfiguration() {
        HttpServlet servlet = new HttpServlet() {
            @Override
            protected void doGet(HttpServletRequest req, HttpServletResponse res) throws IOException {
                String root = req.getScheme() + "://" + req.getServerName() + ":" + req.getServerPort() + req.getContextPath();
                res.setContentType("application/json;charset=UTF-8");
                res.getWriter().write("""
                        {"issuer":"%1$s","jwks_uri":"%1$s/oauth2/jwks",\
                        "authorization_endpoint":"%1$s/oauth2/authorize","token_endpoint":"%1$s/oauth2/token",\
                        "revocation_endpoint":"%1$s/oauth2/revoke","introspection_endpoint":"%1$s/oauth2/introspect",\
                        "userinfo_endpoint":"%1$s/userinfo",\
                        "grant_types_supported":["authorization_code","refresh_token","client_credentials"],\
                        "response_types_supported":["code"],"code_challenge_methods_supported":["S256"],\
                        "token_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post","none"],\
                        "scopes_supported":["openid","fhirUser","launch/patient","user/*.read","user/*.rs","user/*.cruds",\
                        "patient/*.read","patient/*.rs","system/*.read","system/*.write","system/*.*","system/*.cruds",\
                        "system/*.rs"],\
                        "capabilities":["launch-standalone","context-standalone-patient","client-public",\
                        "client-confidential-symmetric","sso-openid-connect","permission-user","permission-patient",\
                        "permission-v1","permission-v2"]}\
                        """.formatted(root));
            }
        };
        var reg = new ServletRegistrationBean<>(servlet, "/fhir/.well-known/smart-configuration",
                "/.well-known/smart-configuration");
        reg.setName("smartConfiguration");
        return reg;
    }
}
