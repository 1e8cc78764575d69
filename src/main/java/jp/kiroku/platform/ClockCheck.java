package jp.kiroku.platform;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Is the server clock right (LOG-03)? Asks the time daemon (chrony's {@code chronyc tracking} by default) for the
 * offset from its source and whether it is synchronised, at most every 30 s. Signed ledger checkpoints carry time, so
 * they are refused while the clock is known to be wrong, or — with {@code kiroku.clock.require-sync} — not known right.
 */
public final class ClockCheck {

    /** What the time daemon said: {@code known} is false when it could not be asked. */
    public record State(boolean known, boolean synchronised, Duration offset, String source, String problem,
                        Instant checked) {

        /** One line for logs, checkpoints and the health endpoint. */
        public String summary() {
            return !known ? "unknown (" + problem + ")"
                    : (synchronised ? "synchronised" : "NOT synchronised") + " to " + source + ", offset "
                    + seconds(offset) + " s";
        }
    }

    private static final Pattern SYSTEM_TIME = Pattern.compile("System time\\s*:\\s*([0-9.]+) seconds (fast|slow)");
    private static final Pattern LEAP = Pattern.compile("Leap status\\s*:\\s*(.+)");
    private static final Pattern REFERENCE = Pattern.compile("Reference ID\\s*:\\s*(\\S+)(?:\\s*\\((.*)\\))?");

    private final List<String> command;
    private final Duration maxOffset;
    private final boolean requireSync;
    private volatile State last;

    public ClockCheck(List<String> command, Duration maxOffset, boolean requireSync) {
        this.command = List.copyOf(command);
        this.maxOffset = maxOffset;
        this.requireSync = requireSync;
    }

    /** The clock's state, asked anew when the last answer is older than 30 s. */
    public State state() {
        State s = last;
        if (s == null || s.checked().isBefore(Instant.now().minusSeconds(30))) {
            s = ask();
            last = s;
        }
        return s;
    }

    /** Why time-carrying signatures must not be made now, or null when the clock may be trusted. */
    public String refusal() {
        State s = state();
        if (s.known() && s.offset().abs().compareTo(maxOffset) > 0) {
            return "the clock is off by " + seconds(s.offset()) + " s, more than kiroku.clock.max-offset ("
                    + seconds(maxOffset) + " s)";
        }
        if (requireSync && (!s.known() || !s.synchronised())) {
            return "the clock is " + s.summary() + " and kiroku.clock.require-sync is true";
        }
        return null;
    }

    /** Seconds as a plain decimal without trailing zeros: 2.5, 0.0002, 1. */
    static String seconds(Duration d) {
        return java.math.BigDecimal.valueOf(d.toNanos(), 9).stripTrailingZeros().toPlainString();
    }

    private State ask() {
        Instant now = Instant.now();
        String out;
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new State(false, false, Duration.ZERO, null, String.join(" ", command) + " did not answer", now);
            }
            if (p.exitValue() != 0) {
                return new State(false, false, Duration.ZERO, null, String.join(" ", command) + " failed: "
                        + out.strip().lines().findFirst().orElse(""), now);
            }
        } catch (IOException e) {
            return new State(false, false, Duration.ZERO, null, "no " + command.get(0) + " on this machine", now);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new State(false, false, Duration.ZERO, null, "interrupted", now);
        }
        Matcher time = SYSTEM_TIME.matcher(out);
        Matcher leap = LEAP.matcher(out);
        if (!time.find() || !leap.find()) {
            return new State(false, false, Duration.ZERO, null, "unreadable answer from " + String.join(" ", command), now);
        }
        long nanos = Math.round(Double.parseDouble(time.group(1)) * 1e9);
        Duration offset = Duration.ofNanos(time.group(2).equals("fast") ? nanos : -nanos);
        Matcher ref = REFERENCE.matcher(out);
        String source = ref.find() ? (ref.group(2) != null && !ref.group(2).isBlank() ? ref.group(2) : ref.group(1)) : "?";
        boolean synced = !leap.group(1).trim().startsWith("Not synchronised");
        return new State(true, synced, offset, source, null, now);
    }
}
