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

/**
 * Raw audit append rate (issue 4): W writer threads, each appending single audit events in their own transaction
 * (autocommit, synchronous_commit on, as the server does for a read), with the same INSERT as jp.kiroku.audit.AuditTrail,
 * against a running Kiroku's database (through <data-dir>/run/db.properties). Then waits for the server's sequencer to
 * append them all to the access ledger and reports how long that took.
 *
 * With --batch N each transaction appends N events (one commit for N), as a bulk import or a group-committing
 * writer would.
 *
 *   java -cp postgresql.jar bench/ledger/AuditAppendBench.java --data-dir DIR [--writers 8,64] [--seconds 20] [--batch 1]
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
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--data-dir" -> dataDir = Path.of(args[++i]);
                case "--writers" -> writers = java.util.Arrays.stream(args[++i].split(",")).map(Integer::valueOf).toList();
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--batch" -> batch = Integer.parseInt(args[++i]);
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
        for (int w : writers) {
            run(db, w, seconds, batch);
        }
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
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("audit append, %d writers, %d per transaction: %,d events in %.1f s -> %,.0f events/s%n", writers,
                batch, events.get(), secs, events.get() / secs);
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
