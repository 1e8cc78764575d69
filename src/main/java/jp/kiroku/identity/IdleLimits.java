package jp.kiroku.identity;

import java.time.Duration;
import java.util.Collection;
import java.util.List;

import org.springframework.security.web.util.matcher.IpAddressMatcher;

import jp.kiroku.platform.KirokuProperties;

/**
 * How long a person's session may sit idle (AUTH-09): kiroku.auth.idle-timeout, or the shortest limit configured for
 * one of their roles, and never longer than the shared-terminal limit when they work at a shared terminal (an address
 * in kiroku.auth.shared-terminal-networks).
 */
final class IdleLimits {

    private final Duration byDefault;
    private final java.util.Map<String, Duration> byRole;
    private final List<IpAddressMatcher> sharedTerminals;
    private final Duration sharedTerminal;

    IdleLimits(KirokuProperties.Auth auth) {
        this.byDefault = auth.getIdleTimeout();
        this.byRole = java.util.Map.copyOf(auth.getIdleTimeoutByRole());
        this.sharedTerminals = auth.getSharedTerminalNetworks().stream().map(String::strip).filter(n -> !n.isEmpty())
                .map(IpAddressMatcher::new).toList();
        this.sharedTerminal = auth.getSharedTerminalIdleTimeout();
    }

    Duration of(Collection<String> roles, String address) {
        Duration limit = roles.stream().map(byRole::get).filter(java.util.Objects::nonNull).min(Duration::compareTo)
                .orElse(byDefault);
        if (address != null && sharedTerminals.stream().anyMatch(m -> m.matches(address))
                && sharedTerminal.compareTo(limit) < 0) {
            limit = sharedTerminal;
        }
        return limit;
    }
}
