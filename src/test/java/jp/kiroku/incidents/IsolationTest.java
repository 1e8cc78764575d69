package jp.kiroku.incidents;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Which clients isolate mode serves: the server's own host only. (Over HTTP the tests reach the server only from its
 * own host, so OperatingModeTest shows that side; the refusal of other addresses is shown here on real addresses.)
 */
class IsolationTest {

    @Test
    void onlyLoopbackAddressesCountAsTheServersOwnHost() {
        assertThat(OperatingMode.isLocal("127.0.0.1")).isTrue();
        assertThat(OperatingMode.isLocal("127.0.0.53")).isTrue();
        assertThat(OperatingMode.isLocal("::1")).isTrue();
        assertThat(OperatingMode.isLocal("192.168.10.20")).isFalse();
        assertThat(OperatingMode.isLocal("10.0.0.1")).isFalse();
        assertThat(OperatingMode.isLocal("2001:db8::1")).isFalse();
    }
}
