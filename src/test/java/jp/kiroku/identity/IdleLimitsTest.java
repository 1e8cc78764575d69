package jp.kiroku.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import jp.kiroku.platform.KirokuProperties;

/** Idle limits per role and on shared terminals (AUTH-09), decided from the settings as an operator writes them. */
@Tag("AUTH-09")
class IdleLimitsTest {

    private static IdleLimits limits() {
        KirokuProperties.Auth auth = new KirokuProperties.Auth();
        auth.setIdleTimeout(Duration.ofMinutes(10));
        auth.setIdleTimeoutByRole(Map.of("clerk", Duration.ofMinutes(5), "physician", Duration.ofMinutes(20)));
        auth.setSharedTerminalNetworks(List.of("10.20.0.0/16", " 192.168.1.7 "));
        auth.setSharedTerminalIdleTimeout(Duration.ofMinutes(3));
        return new IdleLimits(auth);
    }

    @ParameterizedTest(name = "{0} at {1}: {2} min")
    @CsvSource({
            "nurse,            192.168.1.8, 10",   // no role limit: the default
            "clerk,            192.168.1.8, 5",    // the role's limit
            "physician,        192.168.1.8, 20",   // longer for a role, when configured so
            "physician clerk,  192.168.1.8, 5",    // several roles: the shortest that applies
            "physician,        10.20.3.4,   3",    // a shared terminal: never longer than its limit
            "nurse,            192.168.1.7, 3",    // a single shared address
            "nurse,            10.21.0.1,   10",   // outside the range
    })
    void theShortestApplicableLimitHolds(String roles, String address, int minutes) {
        assertThat(limits().of(List.of(roles.split(" ")), address)).isEqualTo(Duration.ofMinutes(minutes));
    }
}
