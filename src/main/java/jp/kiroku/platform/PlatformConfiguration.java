package jp.kiroku.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.flyway.autoconfigure.FlywayConfigurationCustomizer;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.servlet.ConfigurableServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;
import org.springframework.core.env.Environment;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(KirokuProperties.class)
class PlatformConfiguration {

    private static final Logger log = LoggerFactory.getLogger("jp.kiroku");

    @Bean(destroyMethod = "close")
    DatabaseRuntime databaseRuntime(KirokuProperties props,
                                    @Value("${kiroku.runtime.role:serve}") ProcessRole role) {
        return DatabaseRuntime.open(props, role);
    }

    @Bean(destroyMethod = "close")
    DataSource dataSource(DatabaseRuntime runtime, KirokuProperties props,
                          @Value("${kiroku.runtime.role:serve}") ProcessRole role) {
        ConnectionInfo c = runtime.connection();
        HikariConfig cfg = new HikariConfig();
        cfg.setJdbcUrl(c.url());
        cfg.setUsername(c.user());
        cfg.setPassword(c.password());
        cfg.setMaximumPoolSize(role == ProcessRole.SERVE ? props.getDb().getPoolSize() : 2);
        cfg.setPoolName("kiroku");
        cfg.addDataSourceProperty("reWriteBatchedInserts", "true");
        cfg.addDataSourceProperty("ApplicationName", role == ProcessRole.SERVE ? "kiroku-serve" : "kiroku-admin");
        HikariDataSource primary = new HikariDataSource(cfg);
        KirokuProperties.Db db = props.getDb();
        if (role != ProcessRole.SERVE || !db.hasReplica()) {
            return primary; // admin commands and servers without a replica: the primary alone, as always
        }
        if (db.getReplicaUrl().matches("jdbc:postgresql://[^/]*,.*")) {
            throw new IllegalStateException("kiroku.db.replica-url names several servers; it must name one standby, the one"
                    + " whose staleness is checked (docs/operations.md, 'Read replicas')");
        }
        HikariConfig r = new HikariConfig();
        r.setJdbcUrl(db.getReplicaUrl());
        r.setUsername(db.getReplicaUser() != null ? db.getReplicaUser() : c.user());
        r.setPassword(db.getReplicaPassword() != null ? db.getReplicaPassword() : c.password());
        r.setMaximumPoolSize(db.getPoolSize());
        r.setPoolName("kiroku-replica");
        r.setReadOnly(true);
        r.setConnectionTimeout(2000); // an unreachable replica fails fast; the read is repeated on the primary
        r.setInitializationFailTimeout(-1); // a replica that is down does not stop the server
        r.addDataSourceProperty("ApplicationName", "kiroku-serve-replica");
        log.info("Read replica configured: {} (max staleness {})", db.getReplicaUrl().replaceAll("\\?.*", ""),
                db.getReplicaMaxStaleness());
        return new ReplicaRoutingDataSource(primary, new HikariDataSource(r));
    }

    /** Where reads may go: the replica when one is configured and fresh enough, else the primary (the only choice). */
    @Bean(destroyMethod = "close")
    ReadReplica readReplica(DataSource dataSource, KirokuProperties props) {
        if (dataSource instanceof ReplicaRoutingDataSource routing) {
            return new ReadReplica(routing.primary(), routing.replica(), props.getDb().getReplicaMaxStaleness());
        }
        return ReadReplica.none();
    }

    /** The "replica" component of /actuator/health, only when a replica is configured. */
    @Bean
    @org.springframework.boot.autoconfigure.condition.ConditionalOnProperty(prefix = "kiroku.db", name = "replica-url")
    org.springframework.boot.health.contributor.HealthIndicator replicaHealthIndicator(ReadReplica replica) {
        return () -> {
            ReadReplica.Status s = replica.status();
            var b = s.usable() ? org.springframework.boot.health.contributor.Health.up()
                    : org.springframework.boot.health.contributor.Health.status(ReadReplica.STALE);
            b.withDetail("maxStaleness", s.bound().toString())
                    .withDetail("replicaReads", s.replicaReads()).withDetail("primaryReads", s.primaryReads())
                    .withDetail("fallbacks", s.fallbacks());
            if (s.staleness() != null) {
                b.withDetail("freshAsOfMillisAgo", s.staleness().toMillis());
            }
            if (s.problem() != null) {
                b.withDetail("problem", s.problem());
            }
            return b.build();
        };
    }

    /**
     * Migrations run as the tables' owner; then the application's role gets only what it needs ({@link DatabaseRoles}).
     */
    @Bean
    FlywayConfigurationCustomizer migrateAsOwner(DatabaseRuntime runtime) {
        return flyway -> {
            ConnectionInfo owner = runtime.owner();
            flyway.dataSource(owner.url(), owner.user(), owner.password());
            if (runtime.hasSeparateOwner()) {
                flyway.callbacks(new DatabaseRoles(runtime.connection().user()));
            } else {
                log.warn("The application's database role owns Kiroku's tables, so it could change its own ledgers"
                        + " (verification would still detect it). Set kiroku.db.owner-user and kiroku.db.owner-password"
                        + " to a separate owner role (docs/operations.md, 'Database roles').");
            }
        };
    }

    /** The server clock, UTC. One bean so that every timestamp comes from one place (LOG-03). */
    @Bean
    ClockCheck clockCheck(KirokuProperties props) {
        return new ClockCheck(props.getClock().getCheckCommand(), props.getClock().getMaxOffset(),
                props.getClock().isRequireSync());
    }

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }

    /** Binds host and port from kiroku.* and refuses a non-loopback address without TLS (NET-03). */
    @Bean
    WebServerFactoryCustomizer<ConfigurableServletWebServerFactory> listenAddress(KirokuProperties props, Environment env) {
        return factory -> {
            InetAddress address;
            try {
                address = InetAddress.getByName(props.getHost());
            } catch (UnknownHostException e) {
                throw new IllegalStateException("kiroku.host '" + props.getHost() + "' is not a known address");
            }
            boolean tls = tlsConfigured(env);
            if (!address.isLoopbackAddress() && !tls) {
                throw new IllegalStateException("Refusing to listen on " + props.getHost()
                        + " without TLS (guideline NET-03: no plain HTTP beyond this machine). "
                        + "Configure TLS (kiroku.tls.certificate and kiroku.tls.private-key, or kiroku.tls.keystore;"
                        + " kiroku tls self-signed makes a trial certificate) or listen on 127.0.0.1.");
            }
            factory.setAddress(address);
            factory.setPort(props.getPort());
        };
    }

    /**
     * Tomcat's scratch directory and (empty) document root go inside the data directory, run/tomcat, instead of Spring
     * Boot's defaults: a new /tmp/tomcat.PORT.N per start that nothing removes, and a /tmp/tomcat-docbase.PORT.N that
     * stays after a kill. Nothing is served from the document root (no default servlet). An explicit
     * server.tomcat.basedir still wins.
     */
    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> tomcatDirectories(KirokuProperties props, Environment env) {
        return factory -> {
            Path base = props.getDataDir().resolve("run").resolve("tomcat").toAbsolutePath();
            if (env.containsProperty("server.tomcat.basedir")) {
                base = Path.of(env.getRequiredProperty("server.tomcat.basedir")).toAbsolutePath();
            } else {
                factory.setBaseDirectory(base.toFile());
            }
            try {
                factory.setDocumentRoot(Files.createDirectories(base.resolve("docbase")).toFile());
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot create the web server's directory " + base, e);
            }
        };
    }

    static boolean tlsConfigured(Environment env) {
        return KirokuProperties.tlsConfigured(env);
    }

    @EventListener
    void announce(ApplicationReadyEvent event) {
        Environment env = event.getApplicationContext().getEnvironment();
        String port = env.getProperty("local.server.port");
        if (port == null) {
            return; // admin command: no web server
        }
        KirokuProperties props = event.getApplicationContext().getBean(KirokuProperties.class);
        DatabaseRuntime db = event.getApplicationContext().getBean(DatabaseRuntime.class);
        String scheme = tlsConfigured(env) ? "https" : "http";
        log.info("Kiroku is ready. FHIR R4 base: {}://{}:{}/fhir  data: {}  database: {}", scheme, props.getHost(), port,
                props.getDataDir().toAbsolutePath(), db.isEmbedded() ? "embedded PostgreSQL (" + db.connection().url() + ")"
                        : "external (" + db.connection().url().replaceAll("\\?.*", "") + ")");
    }
}
