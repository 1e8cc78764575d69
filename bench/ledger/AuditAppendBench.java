import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;

/**
 * Raw audit append rate (issue 4): W writer threads, each appending single audit events in their own transaction
 * (autocommit, synchronous_commit on, as the server does for a read), with the same INSERT as jp.kiroku.audit.AuditTrail,
 * against a running Kiroku's database (through <data-dir>/run/db.properties). Then waits for the server's sequencer to
 * append them all to the access ledger and reports how long that took.
 *
 * With --batch N each transaction appends N events (one commit for N), as a bulk import would.
 *
 * With --via trail the writers go through Kiroku's own append path instead: each records one read event at a time with
 * jp.kiroku.audit.AuditTrail outside any transaction, as a read request does, so each call returns only once its event is
 * committed, and AuditTrail's group commit gathers the events of concurrent callers into shared transactions.
 *
 *   mvn -q compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 *   java -cp target/classes:$(cat target/cp.txt) bench/ledger/AuditAppendBench.java --data-dir DIR \
 *        [--via sql|trail] [--writers 8,64] [--seconds 20] [--batch 1]
 */
public class AuditAppendBench {

    static final String INSERT = "INSERT INTO audit_log (recorded, action, outcome, agent_kind, agent_id, source_address,"
            + " request_id, patients, entities, detail, query) VALUES (now(), 'read', 'success', 'client', ?, '127.0.0.1', ?,"
            + " ARRAY[?]::text[], ARRAY[?]::text[], NULL, NULL)";

    public static void main(String[] args) throws Exception {
        Path dataDir = null;
        List<Integer> writers = List.of(8, 64);
        int seconds = 20;
        int batch = 1;
        boolean viaTrail = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--data-dir" -> dataDir = Path.of(args[++i]);
                case "--writers" -> writers = java.util.Arrays.stream(args[++i].split(",")).map(Integer::valueOf).toList();
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--via" -> viaTrail = switch (args[++i]) {
                    case "trail" -> true;
                    case "sql" -> false;
                    default -> throw new IllegalArgumentException("--via sql|trail");
                };
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (dataDir == null) {
            throw new IllegalArgumentException("--data-dir DIR (of a running Kiroku) is required");
        }
        Properties db = new Properties();
        try (InputStream in = Files.newInputStream(dataDir.resolve("run/db.properties"))) {
            db.load(in);
        }
        if (viaTrail) {
            viaTrail(db, writers, seconds);
            return;
        }
        for (int w : writers) {
            run(db, w, seconds, batch);
        }
    }

    static void viaTrail(Properties db, List<Integer> writers, int seconds) throws Exception {
        HikariConfig cfg = new HikariConfig();
        cfg.setJdbcUrl(db.getProperty("url"));
        cfg.setUsername(db.getProperty("user"));
        cfg.setPassword(db.getProperty("password"));
        cfg.setMaximumPoolSize(4);
        cfg.addDataSourceProperty("reWriteBatchedInserts", "true");
        try (HikariDataSource ds = new HikariDataSource(cfg)) {
            AuditTrail trail = new AuditTrail(new JdbcTemplate(ds), java.time.Clock.systemUTC(),
                    new TransactionTemplate(new DataSourceTransactionManager(ds)), null);
            for (int w : writers) {
                AtomicLong events = new AtomicLong();
                long end = System.nanoTime() + seconds * 1_000_000_000L;
                List<Thread> threads = new ArrayList<>();
                long t0 = System.nanoTime();
                for (int t = 0; t < w; t++) {
                    Agent agent = new Agent(Agent.Kind.CLIENT, "bench-" + t, "127.0.0.1");
                    Thread th = new Thread(() -> {
                        for (long n = 0; System.nanoTime() < end; n++) {
                            String patient = "patient-" + (n % 1000);
                            trail.record(AuditRecord.of(agent, "read", AuditRecord.Outcome.SUCCESS)
                                    .on("Patient", patient, 1, patient));
                            events.incrementAndGet();
                        }
                    });
                    th.start();
                    threads.add(th);
                }
                for (Thread th : threads) {
                    th.join();
                }
                report(db, "AuditTrail.record, " + w + " writers, one event per call", events.get(), t0);
            }
        }
        System.exit(0); // Hikari's housekeeping thread is not a daemon
    }

    static void run(Properties db, int writers, int seconds, int batch) throws Exception {
        AtomicLong events = new AtomicLong();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        List<Thread> threads = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int t = 0; t < writers; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                try (Connection c = DriverManager.getConnection(db.getProperty("url"), db.getProperty("user"), db.getProperty("password"));
                     PreparedStatement ps = c.prepareStatement(INSERT)) {
                    c.setAutoCommit(batch == 1);
                    long n = 0;
                    while (System.nanoTime() < end) {
                        for (int b = 0; b < batch; b++, n++) {
                            ps.setString(1, "bench-" + id);
                            ps.setString(2, "bench-" + id + "-" + n);
                            ps.setString(3, "patient-" + (n % 1000));
                            ps.setString(4, "Patient/patient-" + (n % 1000) + "/_history/1");
                            ps.addBatch();
                        }
                        ps.executeBatch();
                        if (batch > 1) {
                            c.commit();
                        }
                        events.addAndGet(batch);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            th.start();
            threads.add(th);
        }
        for (Thread th : threads) {
            th.join();
        }
        report(db, "audit append, " + writers + " writers, " + batch + " per transaction", events.get(), t0);
    }

    /** Prints the rate, then waits for the server's sequencer to append everything to the access ledger. */
    static void report(Properties db, String what, long events, long t0) throws Exception {
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("%s: %,d events in %.1f s -> %,.0f events/s%n", what, events, secs, events / secs);
        long t1 = System.nanoTime();
        try (Connection c = DriverManager.getConnection(db.getProperty("url"), db.getProperty("user"), db.getProperty("password"))) {
            long pending;
            do {
                Thread.sleep(100);
                try (ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM ledger_pending WHERE log = 2")) {
                    rs.next();
                    pending = rs.getLong(1);
                }
            } while (pending > 0 && System.nanoTime() - t1 < 600_000_000_000L);
            System.out.printf("  access ledger caught up %.1f s after the writers stopped (pending left: %d)%n",
                    (System.nanoTime() - t1) / 1e9, pending);
        }
    }
}
