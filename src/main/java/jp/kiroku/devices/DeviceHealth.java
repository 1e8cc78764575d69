package jp.kiroku.devices;

import java.util.List;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * The "devices" component of /actuator/health (IOT-03): UPDATE_DUE while a device in use runs other firmware than an
 * important (security) update its type should run; UP otherwise. It does not take the server down.
 */
@Component("devicesHealthIndicator") // shown as "devices"
final class DeviceHealth implements HealthIndicator {

    static final org.springframework.boot.health.contributor.Status UPDATE_DUE =
            new org.springframework.boot.health.contributor.Status("UPDATE_DUE");

    private final Devices devices;

    DeviceHealth(Devices devices) {
        this.devices = devices;
    }

    @Override
    public Health health() {
        List<Devices.Device> due = devices.importantUpdatesDue();
        return (due.isEmpty() ? Health.up() : Health.status(UPDATE_DUE))
                .withDetail("importantUpdatesDue", due.stream().map(Devices.Device::id).toList()).build();
    }
}
