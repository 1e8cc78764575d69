package jp.kiroku.incidents;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;

/**
 * The operating mode for business continuity (BCP; issue 8, item 7), held in the database so that every server and
 * the admin CLI share it: {@code normal}; {@code read-only} — reads and searches work, every write is refused with a
 * clear message (while an attack is suspected, or a restore is prepared); {@code isolate} — read-only, and only
 * clients on the server's own host are served. Each process re-reads it every {@link #REFRESH}; changes are audited.
 */
@Service
public class OperatingMode {

    public enum Mode {
        NORMAL, READ_ONLY, ISOLATE;

        public String code() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }

        static Mode of(String code) {
            for (Mode m : values()) {
                if (m.code().equals(code)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("no mode '" + code + "' (normal, read-only, isolate)");
        }
    }

    /** The mode as set, with why, by whom and when. */
    public record Current(Mode mode, String reason, String setBy, Instant setAt) {
    }

    /** How long a process keeps the mode it read (another process's change takes effect here within this). */
    static final Duration REFRESH = Duration.ofSeconds(1);

    private final JdbcTemplate jdbc;
    private final AuditTrail audit;
    private final Clock clock;
    /** The mode as this process last read it, and when. */
    private record Read(Current mode, Instant at) {
    }

    private volatile Read read;

    OperatingMode(JdbcTemplate jdbc, AuditTrail audit, Clock clock) {
        this.jdbc = jdbc;
        this.audit = audit;
        this.clock = clock;
    }

    public Current current() {
        Read r = read;
        return r != null && !stale(r) ? r.mode() : readIfStale();
    }

    /** One reader re-reads it; threads that waited for it use what it read. */
    private synchronized Current readIfStale() {
        Read r = read;
        if (r == null || stale(r)) {
            r = new Read(jdbc.queryForObject("SELECT mode, reason, set_by, set_at FROM operating_mode WHERE id = 1", (rs, i) ->
                    new Current(Mode.of(rs.getString(1)), rs.getString(2), rs.getString(3), rs.getTimestamp(4).toInstant())),
                    clock.instant());
            read = r;
        }
        return r.mode();
    }

    private boolean stale(Read r) {
        return r.at().plus(REFRESH).isBefore(clock.instant());
    }

    /** Sets the mode (a reason is required to leave normal operation). */
    public Current set(String mode, String reason, Agent by) {
        Mode m = Mode.of(mode);
        if (m != Mode.NORMAL && (reason == null || reason.isBlank())) {
            throw new IllegalArgumentException("say why (e.g. \"ランサムウェア感染の疑い\"): it is shown to every refused client");
        }
        jdbc.update("UPDATE operating_mode SET mode = ?, reason = ?, set_by = ?, set_at = ? WHERE id = 1", m.code(),
                m == Mode.NORMAL ? null : reason.strip(), by.kind().code() + ":" + by.id(), Timestamp.from(clock.instant()));
        read = null;
        audit.record(AuditRecord.of(by, "mode.set", AuditRecord.Outcome.SUCCESS).withDetail("mode=" + m.code()));
        return current();
    }

    /** Why a write is refused now, or null when writes are allowed. */
    public String writeRefusal() {
        Current c = current();
        return c.mode() == Mode.NORMAL ? null : "Kiroku is in " + c.mode().code() + " mode (business continuity) since "
                + c.setAt() + ": records can be read but not written. Reason: " + c.reason()
                + ". An administrator returns it to normal with 'kiroku mode normal'.";
    }

    /** Whether a client at {@code address} is served in the current mode (isolate: only the server's own host). */
    public boolean admits(String address) {
        return current().mode() != Mode.ISOLATE || isLocal(address);
    }

    static boolean isLocal(String address) {
        try {
            InetAddress a = InetAddress.getByName(address); // a literal address: no lookup
            return a.isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
