package jp.kiroku.demo;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import jp.kiroku.audit.Agent;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.platform.ProcessRole;

/**
 * Keeps demo and real data apart, before the server listens: {@code serve --demo} marks a database with nothing in it
 * as a demo ({@code demo_installation}) and refuses one that holds resources, accounts or clients without the mark;
 * a plain {@code serve} refuses a database marked demo, since its accounts' passwords were printed on a console.
 * Admin commands are not checked (they may inspect a demo).
 */
@Component
class DemoGuard implements SmartInitializingSingleton {

    private final JdbcTemplate jdbc;
    private final KirokuProperties props;
    private final ProcessRole role;
    private final Clock clock;

    DemoGuard(JdbcTemplate jdbc, KirokuProperties props, @Value("${kiroku.runtime.role:serve}") ProcessRole role,
              Clock clock) {
        this.jdbc = jdbc;
        this.props = props;
        this.role = role;
        this.clock = clock;
    }

    @Override
    public void afterSingletonsInstantiated() {
        if (role != ProcessRole.SERVE) {
            return;
        }
        List<Instant> marked = jdbc.query("SELECT marked_at FROM demo_installation",
                (rs, i) -> rs.getTimestamp(1).toInstant());
        if (!props.isDemo()) {
            if (!marked.isEmpty()) {
                throw new DemoRefused("Refused: " + where() + " is a Kiroku demo (created by serve --demo on "
                        + marked.get(0).truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + "); its demo accounts'"
                        + " passwords were printed on a console, so it must never hold real records.",
                        "Start it with 'kiroku serve --demo', or use a fresh --data-dir for real data.");
            }
            return;
        }
        if (!marked.isEmpty()) {
            return;
        }
        long resources = count("resource_current");
        long accounts = count("account");
        long clients = count("oauth2_registered_client");
        if (resources + accounts + clients > 0) {
            throw new DemoRefused("Demo mode refused: " + where() + " holds data that is not a demo (" + resources
                    + " resources, " + accounts + " accounts, " + clients + " clients).", "Demo mode starts only on a"
                    + " fresh data directory or one that 'serve --demo' created: use another, e.g. --data-dir kiroku-demo.");
        }
        Agent operator = Agent.localOperator();
        jdbc.update("INSERT INTO demo_installation (marked_at, marked_by) VALUES (?, ?)", Timestamp.from(clock.instant()),
                operator.id() + "@" + operator.address());
    }

    private long count(String table) {
        return jdbc.queryForObject("SELECT count(*) FROM " + table, Long.class);
    }

    private String where() {
        return props.getDb().isExternal() ? "the database " + props.getDb().getUrl().replaceAll("\\?.*", "")
                : "the data directory " + props.getDataDir().toAbsolutePath();
    }
}
