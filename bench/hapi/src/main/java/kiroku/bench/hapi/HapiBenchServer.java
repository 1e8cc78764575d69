package kiroku.bench.hapi;

import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import ca.uhn.fhir.jpa.config.HapiFhirLocalContainerEntityManagerFactoryBean;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.dao.FulltextSearchSvcImpl;
import ca.uhn.fhir.jpa.dao.IFulltextSearchSvc;
import ca.uhn.fhir.jpa.dao.search.HSearchSortHelperImpl;
import ca.uhn.fhir.jpa.dao.search.IHSearchSortHelper;
import ca.uhn.fhir.jpa.api.IDaoRegistry;
import ca.uhn.fhir.jpa.config.util.ResourceCountCacheUtil;
import ca.uhn.fhir.jpa.provider.DaoRegistryResourceSupportedSvc;
import ca.uhn.fhir.jpa.search.IStaleSearchDeletingSvc;
import ca.uhn.fhir.jpa.search.StaleSearchDeletingSvcImpl;
import ca.uhn.fhir.jpa.util.ResourceCountCache;
import ca.uhn.fhir.rest.api.IResourceSupportedSvc;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.model.dialect.HapiFhirPostgresDialect;
import ca.uhn.fhir.jpa.model.entity.StorageSettings;
import ca.uhn.fhir.jpa.provider.IJpaSystemProvider;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.narrative2.NullNarrativeGenerator;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.IncomingRequestAddressStrategy;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.interceptor.LoggingInterceptor;
import ca.uhn.fhir.rest.server.interceptor.ResponseHighlighterInterceptor;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import jakarta.persistence.EntityManagerFactory;
import org.hibernate.cfg.AvailableSettings;
import org.hibernate.search.mapper.orm.cfg.HibernateOrmMapperSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.data.jpa.JpaRepositoriesAutoConfiguration;
import org.springframework.boot.autoconfigure.elasticsearch.ElasticsearchClientAutoConfiguration;
import org.springframework.boot.autoconfigure.elasticsearch.ElasticsearchRestClientAutoConfiguration;
import org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.autoconfigure.orm.jpa.HibernateJpaAutoConfiguration;
import org.springframework.boot.autoconfigure.quartz.QuartzAutoConfiguration;
import org.springframework.boot.autoconfigure.thymeleaf.ThymeleafAutoConfiguration;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;

import javax.sql.DataSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * HAPI FHIR JPA server (R4) on an embedded PostgreSQL 15, for measuring HAPI with Kiroku's bench clients on the same
 * machine. Settings follow hapi-fhir-jpaserver-starter's defaults (no validation on write, no Hibernate Search /
 * Lucene, no narratives, JSON, pretty printing on, Hikari pool of 10, hbm2ddl=update, batch size 20) where they touch
 * the measured paths; there is no authentication (it listens on 127.0.0.1 only).
 *
 * <pre>
 * java -Xmx1g -jar hapi-bench-server.jar --data-dir DIR [--port 8080] [--reuse-cached-search-results-millis 60000]
 * </pre>
 */
@SpringBootApplication(exclude = {
        DataSourceAutoConfiguration.class,
        HibernateJpaAutoConfiguration.class,
        JpaRepositoriesAutoConfiguration.class,
        FlywayAutoConfiguration.class,
        QuartzAutoConfiguration.class,
        ThymeleafAutoConfiguration.class,
        ElasticsearchRestClientAutoConfiguration.class,
        ElasticsearchClientAutoConfiguration.class})
// as jpaserver-starter's Application + FhirServerConfigR4 + StarterJpaConfig, less CR, CDS hooks, MDM, IPS,
// subscription matching/delivery and the web tester (SubscriptionChannelConfig only provides the in-memory broker
// that batch2 needs)
@Import({JpaR4Config.class, ThreadPoolFactoryConfig.class, SubscriptionChannelConfig.class, JpaBatch2Config.class,
        Batch2JobsConfig.class})
public class HapiBenchServer {

    private static final Logger log = LoggerFactory.getLogger(HapiBenchServer.class);

    /** jpaserver-starter's hapi.fhir.reuse_cached_search_results_millis default, = JpaStorageSettings' default. */
    static final long DEFAULT_REUSE_CACHED_SEARCH_RESULTS_MILLIS = 60_000L;

    static final String USAGE = String.join("\n",
            "usage: java [-Xmx1g] -jar hapi-bench-server.jar --data-dir DIR [options]",
            "",
            "HAPI FHIR JPA server (R4) on an embedded PostgreSQL 15 in DIR/postgres, at http://127.0.0.1:PORT/fhir,",
            "no authentication. The data persist across restarts with the same DIR.",
            "",
            "  --data-dir DIR                             data directory (created if missing; required)",
            "  --port N                                   HTTP port on 127.0.0.1 (default 8080)",
            "  --reuse-cached-search-results-millis N     JpaStorageSettings.setReuseCachedSearchResultsForMillis",
            "                                             (default 60000, HAPI's and jpaserver-starter's default; 0 = off)",
            "                                             also: -Dhapi.reuse_cached_search_results_millis=N",
            "  --db-pool N                                Hikari pool size (default 10, as jpaserver-starter)",
            "  --shared-buffers MB                        PostgreSQL shared_buffers (default 256, as Kiroku's default)",
            "  --no-access-log                            do not register jpaserver-starter's per-request LoggingInterceptor",
            "  -h, --help                                 this message");

    static final class Options {
        Path dataDir;
        int port = 8080;
        long reuseCachedMillis = Long.getLong("hapi.reuse_cached_search_results_millis",
                DEFAULT_REUSE_CACHED_SEARCH_RESULTS_MILLIS);
        int dbPool = 10;
        int sharedBuffersMb = 256;
        boolean accessLog = true;
    }

    static Options options;
    static String jdbcUrl;

    public static void main(String[] args) throws Exception {
        Options o = new Options();
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "-h", "--help" -> {
                        System.out.println(USAGE);
                        return;
                    }
                    case "--data-dir" -> o.dataDir = Paths.get(value(args, ++i, a));
                    case "--port" -> o.port = Integer.parseInt(value(args, ++i, a));
                    case "--reuse-cached-search-results-millis" -> o.reuseCachedMillis = Long.parseLong(value(args, ++i, a));
                    case "--db-pool" -> o.dbPool = Integer.parseInt(value(args, ++i, a));
                    case "--shared-buffers" -> o.sharedBuffersMb = Integer.parseInt(value(args, ++i, a));
                    case "--no-access-log" -> o.accessLog = false;
                    default -> throw new IllegalArgumentException("unknown option: " + a);
                }
            }
            if (o.dataDir == null) throw new IllegalArgumentException("--data-dir is required");
            if (o.reuseCachedMillis < 0) throw new IllegalArgumentException("--reuse-cached-search-results-millis must be >= 0");
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println();
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        options = o;

        EmbeddedPostgres pg = startPostgres(o);
        ConfigurableApplicationContext[] context = new ConfigurableApplicationContext[1];
        // one shutdown hook: first the server (connections returned, pool closed), then PostgreSQL
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                if (context[0] != null) context[0].close();
            } finally {
                try {
                    pg.close();
                } catch (IOException e) {
                    System.err.println("embedded PostgreSQL did not stop cleanly: " + e);
                }
            }
        }, "stop-server"));

        Map<String, Object> props = new LinkedHashMap<>();
        props.put("server.port", o.port);
        props.put("server.address", "127.0.0.1");
        props.put("spring.main.allow-circular-references", true);   // as jpaserver-starter
        props.put("spring.main.banner-mode", "off");
        props.put("spring.jmx.enabled", false);
        SpringApplication app = new SpringApplication(HapiBenchServer.class);
        app.setDefaultProperties(props);
        app.setRegisterShutdownHook(false);
        ConfigurableApplicationContext ctx;
        try {
            ctx = app.run();
        } catch (RuntimeException e) {
            System.err.println("HAPI bench server did not start: " + e);
            System.exit(1);   // the shutdown hook stops PostgreSQL
            return;
        }
        context[0] = ctx;
        JpaStorageSettings s = ctx.getBean(JpaStorageSettings.class);
        System.out.println("HAPI bench server ready: http://127.0.0.1:" + o.port + "/fhir (HAPI FHIR "
                + ca.uhn.fhir.util.VersionUtil.getVersion() + ", R4), reuseCachedSearchResultsForMillis="
                + s.getReuseCachedSearchResultsForMillis());
    }

    private static String value(String[] args, int i, String name) {
        if (i >= args.length) throw new IllegalArgumentException(name + " needs a value");
        return args[i];
    }

    /** The same embedded PostgreSQL 15 (zonky) and server settings as Kiroku's own cluster. */
    static EmbeddedPostgres startPostgres(Options o) throws Exception {
        Path cluster = o.dataDir.toAbsolutePath().resolve("postgres");
        Files.createDirectories(cluster);
        EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setDataDirectory(cluster)
                .setCleanDataDirectory(false)
                .setServerConfig("listen_addresses", "127.0.0.1")
                .setServerConfig("unix_socket_directories", "''")
                .setServerConfig("fsync", "on")
                .setServerConfig("full_page_writes", "on")
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("max_connections", "100")
                .setServerConfig("shared_buffers", o.sharedBuffersMb + "MB")
                .setServerConfig("random_page_cost", "1.1")
                .setServerConfig("log_min_messages", "warning")
                .setPGStartupWait(Duration.ofSeconds(60))
                // stopped by main's shutdown hook after the server, not concurrently with it by zonky's own hook
                .setRegisterShutdownHook(false)
                .start();
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            boolean exists;
            try (ResultSet rs = st.executeQuery("SELECT 1 FROM pg_database WHERE datname = 'hapi'")) {
                exists = rs.next();
            }
            if (!exists) st.execute("CREATE DATABASE hapi ENCODING 'UTF8'");
            StringBuilder settings = new StringBuilder();
            for (String name : new String[] {"server_version", "fsync", "synchronous_commit", "shared_buffers",
                    "random_page_cost", "max_connections"}) {
                try (ResultSet rs = st.executeQuery("SHOW " + name)) {
                    rs.next();
                    settings.append(settings.length() == 0 ? "" : ", ").append(name).append('=').append(rs.getString(1));
                }
            }
            System.out.println("embedded PostgreSQL in " + cluster + ", port " + pg.getPort() + ": " + settings);
        }
        jdbcUrl = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/hapi";
        return pg;
    }

    // ------------------------------------------------------------------------------------------------ beans

    @Bean(destroyMethod = "close")
    public DataSource dataSource() {
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(jdbcUrl);
        c.setUsername("postgres");
        c.setPassword("postgres");
        c.setMaximumPoolSize(options.dbPool);
        c.setPoolName("hapi");
        return new HikariDataSource(c);
    }

    @Bean
    public JpaStorageSettings storageSettings() {
        // jpaserver-starter's FhirServerConfigCommon with its application.yaml / AppProperties defaults
        JpaStorageSettings s = new JpaStorageSettings();
        s.setIndexMissingFields(StorageSettings.IndexEnabledEnum.DISABLED);
        s.setAutoCreatePlaceholderReferenceTargets(false);
        s.setEnforceReferentialIntegrityOnWrite(true);
        s.setEnforceReferentialIntegrityOnDelete(true);
        s.setAllowContainsSearches(true);
        s.setAllowMultipleDelete(true);
        s.setAllowExternalReferences(false);
        s.setDeleteExpungeEnabled(false);
        s.setExpungeEnabled(true);
        s.setFetchSizeDefaultMaximum(Integer.MAX_VALUE);
        s.setReuseCachedSearchResultsForMillis(options.reuseCachedMillis);
        s.setExpireSearchResultsAfterMillis(60L * 60 * 1000);
        s.setFilterParameterEnabled(true);
        s.setAdvancedHSearchIndexing(false);
        s.setStoreResourceInHSearchIndex(false);
        s.setInlineResourceTextBelowSize(4000);
        s.setIndexOnContainedResources(false);
        s.setDefaultSearchParamsCanBeOverridden(true);
        log.info("Server configured to cache search results for {} milliseconds", s.getReuseCachedSearchResultsForMillis());
        return s;
    }

    @Bean
    public PartitionSettings partitionSettings() {
        return new PartitionSettings();
    }

    // what HapiJpaConfig (and jpaserver-starter's StarterJpaConfig) define, with the starter's own paging provider

    @Bean
    public IFulltextSearchSvc fullTextSearchSvc() {
        return new FulltextSearchSvcImpl();   // inert: Hibernate Search is off
    }

    @Bean
    public IHSearchSortHelper extendedFulltextSortHelper(ISearchParamRegistry searchParamRegistry) {
        return new HSearchSortHelperImpl(searchParamRegistry);
    }

    @Bean
    public IStaleSearchDeletingSvc staleSearchDeletingSvc() {
        return new StaleSearchDeletingSvcImpl();
    }

    @Bean
    public IResourceSupportedSvc resourceSupportedSvc(IDaoRegistry daoRegistry) {
        return new DaoRegistryResourceSupportedSvc(daoRegistry);
    }

    @Bean(name = "myResourceCountsCache")
    public ResourceCountCache resourceCountsCache(IFhirSystemDao<?, ?> systemDao) {
        return ResourceCountCacheUtil.newResourceCountCache(systemDao);
    }

    @Primary
    @Bean
    public LocalContainerEntityManagerFactoryBean entityManagerFactory(DataSource dataSource,
            ConfigurableListableBeanFactory beanFactory, FhirContext fhirContext, JpaStorageSettings storageSettings) {
        LocalContainerEntityManagerFactoryBean emf =
                HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, fhirContext, storageSettings);
        emf.setPersistenceUnitName("HAPI_PU");
        emf.setDataSource(dataSource);
        // jpaserver-starter's EnvironmentHelper.getHibernateProperties, with its application.yaml
        Properties p = new Properties();
        p.put(AvailableSettings.DIALECT, HapiFhirPostgresDialect.class.getName());
        p.put(AvailableSettings.FORMAT_SQL, "false");
        p.put(AvailableSettings.SHOW_SQL, "false");
        p.put(HibernateOrmMapperSettings.ENABLED, "false");
        p.putIfAbsent(AvailableSettings.SCANNER, "org.hibernate.boot.archive.scan.internal.DisabledScanner");
        p.putIfAbsent(AvailableSettings.IMPLICIT_NAMING_STRATEGY,
                "org.springframework.boot.orm.jpa.hibernate.SpringImplicitNamingStrategy");
        p.putIfAbsent(AvailableSettings.PHYSICAL_NAMING_STRATEGY,
                "org.hibernate.boot.model.naming.CamelCaseToUnderscoresNamingStrategy");
        new HapiFhirLocalContainerEntityManagerFactoryBean(beanFactory).getJpaPropertyMap().forEach(p::putIfAbsent);
        p.putIfAbsent(AvailableSettings.HBM2DDL_AUTO, "update");
        p.putIfAbsent(AvailableSettings.STATEMENT_BATCH_SIZE, "20");
        p.putIfAbsent(AvailableSettings.USE_QUERY_CACHE, "false");
        p.putIfAbsent(AvailableSettings.USE_SECOND_LEVEL_CACHE, "false");
        p.putIfAbsent(AvailableSettings.USE_STRUCTURED_CACHE, "false");
        p.putIfAbsent(AvailableSettings.USE_MINIMAL_PUTS, "false");
        emf.setJpaProperties(p);
        return emf;
    }

    @Primary
    @Bean
    public JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
        JpaTransactionManager tm = new JpaTransactionManager();
        tm.setEntityManagerFactory(entityManagerFactory);
        return tm;
    }

    @Bean
    public DatabaseBackedPagingProvider databaseBackedPagingProvider() {
        DatabaseBackedPagingProvider paging = new DatabaseBackedPagingProvider();
        paging.setDefaultPageSize(20);
        paging.setMaximumPageSize(Integer.MAX_VALUE);
        return paging;
    }

    @Bean
    public RestfulServer restfulServer(IFhirSystemDao<?, ?> systemDao, ResourceProviderFactory resourceProviderFactory,
            IJpaSystemProvider jpaSystemProvider, JpaStorageSettings storageSettings,
            ISearchParamRegistry searchParamRegistry, IValidationSupport validationSupport,
            DatabaseBackedPagingProvider pagingProvider) {
        FhirContext ctx = systemDao.getContext();
        ctx.setNarrativeGenerator(new NullNarrativeGenerator());   // narrative_enabled: false
        RestfulServer server = new RestfulServer(ctx);
        server.registerProviders(resourceProviderFactory.createProviders());
        server.registerProvider(jpaSystemProvider);
        JpaCapabilityStatementProvider cs = new JpaCapabilityStatementProvider(server, systemDao, storageSettings,
                searchParamRegistry, validationSupport);
        cs.setImplementationDescription("HAPI FHIR JPA server (Kiroku bench)");
        server.setServerConformanceProvider(cs);
        server.setDefaultPrettyPrint(true);
        server.setDefaultResponseEncoding(EncodingEnum.JSON);
        server.setPagingProvider(pagingProvider);
        server.setServerAddressStrategy(new IncomingRequestAddressStrategy());
        server.registerInterceptor(new ResponseHighlighterInterceptor());
        if (options.accessLog) {
            LoggingInterceptor access = new LoggingInterceptor();
            access.setLoggerName("fhirtest.access");
            access.setMessageFormat("Path[${servletPath}] Source[${requestHeader.x-forwarded-for}] "
                    + "Operation[${operationType} ${operationName} ${idOrResourceName}] UA[${requestHeader.user-agent}] "
                    + "Params[${requestParameters}] ResponseEncoding[${responseEncodingNoDefault}]");
            access.setErrorMessageFormat("ERROR - ${requestVerb} ${requestUrl}");
            access.setLogExceptions(true);
            server.registerInterceptor(access);
        }
        return server;
    }

    @Bean
    public ServletRegistrationBean<RestfulServer> hapiServletRegistration(RestfulServer restfulServer) {
        ServletRegistrationBean<RestfulServer> reg = new ServletRegistrationBean<>(restfulServer, "/fhir/*");
        reg.setLoadOnStartup(1);
        return reg;
    }
}
