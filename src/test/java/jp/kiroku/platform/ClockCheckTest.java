package jp.kiroku.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The clock check reads chrony's answer and refuses time-carrying signatures exactly when it should (LOG-03). */
@Tag("LOG-03")
class ClockCheckTest {

    @TempDir
    Path dir;

    /** A stand-in for {@code chronyc tracking}: a real process printing chrony's format, as chronyc 4 does. */
    private List<String> chrony(String systemTime, String leap) throws Exception {
        Path script = dir.resolve("chronyc-" + System.nanoTime());
        Files.writeString(script, "#!/bin/sh\ncat <<'EOF'\n"
                + "Reference ID    : 85F3EEF3 (ntp.nict.jp)\n"
                + "Stratum         : 2\n"
                + "Ref time (UTC)  : Thu Nov 26 02:00:00 2026\n"
                + "System time     : " + systemTime + "\n"
                + "Last offset     : +0.000001234 seconds\n"
                + "Leap status     : " + leap + "\n"
                + "EOF\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return List.of(script.toString());
    }

    @Test
    void aSynchronisedClockWithinTheOffsetMaySign() throws Exception {
        ClockCheck c = new ClockCheck(chrony("0.000012345 seconds slow of NTP time", "Normal"), Duration.ofSeconds(1), true);
        assertThat(c.refusal()).isNull();
        assertThat(c.state().known()).isTrue();
        assertThat(c.state().synchronised()).isTrue();
        assertThat(c.state().offset()).isEqualTo(Duration.ofNanos(-12_345));
        assertThat(c.state().summary()).contains("ntp.nict.jp");
    }

    @Test
    void anOffsetAboveTheMaximumIsRefused() throws Exception {
        ClockCheck c = new ClockCheck(chrony("2.500000000 seconds fast of NTP time", "Normal"), Duration.ofSeconds(1), false);
        assertThat(c.refusal()).contains("2.5 s").contains("kiroku.clock.max-offset");
        // the same offset under a larger bound is fine
        assertThat(new ClockCheck(chrony("2.500000000 seconds fast of NTP time", "Normal"), Duration.ofSeconds(3), false)
                .refusal()).isNull();
    }

    @Test
    void anUnsynchronisedClockIsRefusedOnlyWhenSyncIsRequired() throws Exception {
        List<String> cmd = chrony("0.000000100 seconds fast of NTP time", "Not synchronised");
        assertThat(new ClockCheck(cmd, Duration.ofSeconds(1), true).refusal()).contains("NOT synchronised");
        assertThat(new ClockCheck(cmd, Duration.ofSeconds(1), false).refusal()).isNull();
    }

    @Test
    void aMissingOrFailingTimeDaemonIsUnknown() throws Exception {
        ClockCheck missing = new ClockCheck(List.of(dir.resolve("no-such-chronyc").toString()), Duration.ofSeconds(1), false);
        assertThat(missing.state().known()).isFalse();
        assertThat(missing.refusal()).isNull();
        assertThat(new ClockCheck(List.of(dir.resolve("no-such-chronyc").toString()), Duration.ofSeconds(1), true)
                .refusal()).contains("unknown");
        ClockCheck failing = new ClockCheck(List.of("false"), Duration.ofSeconds(1), false);
        assertThat(failing.state().known()).isFalse();
        assertThat(failing.state().problem()).contains("failed");
    }
}
