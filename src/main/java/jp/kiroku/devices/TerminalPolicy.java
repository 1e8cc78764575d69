package jp.kiroku.devices;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.springframework.stereotype.Component;

import jp.kiroku.identity.TerminalCheck;
import jp.kiroku.platform.KirokuProperties;

/**
 * The terminal policy (BYOD-01): with kiroku.devices.terminal-required, staff work only from an enrolled terminal that
 * is not lost, retired or disposed of, and whose management their roles allow (kiroku.devices.allowed-by-role; by
 * default managed or MDM-controlled personal devices, physicians managed ones only). Personally owned devices that
 * no administrator controls are refused unless a role explicitly allows them. Patients use their own devices.
 */
@Component
final class TerminalPolicy implements TerminalCheck {

    static final List<String> DEFAULT_ALLOWED = List.of("managed", "personal-mdm");

    private final Devices devices;
    private final KirokuProperties props;

    TerminalPolicy(Devices devices, KirokuProperties props) {
        this.devices = devices;
        this.props = props;
    }

    @Override
    public Verdict atLogin(String username, Set<String> roles, boolean patient, String credential) {
        if (patient || !props.getDevices().isTerminalRequired()) {
            return new Verdict(null, null);
        }
        if (credential == null) {
            return new Verdict(null, "this terminal is not registered: staff log in only from terminals an administrator"
                    + " has enrolled (kiroku device enroll)");
        }
        Devices.Device d = devices.authenticate(credential).orElse(null);
        if (d == null) {
            return new Verdict(null, "this terminal's device credential is not valid (unknown, replaced, or the device"
                    + " was reported lost or retired)");
        }
        Set<String> allowed = new LinkedHashSet<>();
        for (String role : roles) {
            allowed.addAll(props.getDevices().getAllowedByRole().getOrDefault(role, DEFAULT_ALLOWED));
        }
        if (!allowed.contains(d.management())) {
            return new Verdict(d.id(), "terminal " + d.id() + " is " + d.management() + "; the roles " + roles
                    + " work only from " + String.join(" or ", allowed) + " terminals");
        }
        devices.seen(d.id());
        return new Verdict(d.id(), null);
    }

    @Override
    public String onRequest(String deviceId, boolean staff, String credential) {
        if (deviceId == null) {
            return staff && props.getDevices().isTerminalRequired()
                    ? "the token is not bound to a registered terminal: log in again from one" : null;
        }
        Devices.Device d = credential == null ? null : devices.authenticate(credential).orElse(null);
        if (d == null || !d.id().equals(deviceId)) {
            return "the token is bound to terminal " + deviceId + ", and this request does not come from it";
        }
        return null;
    }
}
