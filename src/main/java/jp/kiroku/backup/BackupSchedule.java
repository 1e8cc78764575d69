package jp.kiroku.backup;

import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

import jp.kiroku.audit.Agent;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.platform.ProcessRole;

/**
 * Scheduled backups (kiroku.backup.at): the server backs up daily — full on kiroku.backup.full-on, incremental on
 * other days — then verifies what it made and applies the retention of generations. Several servers sharing one
 * database each run it; a second backup on the same day costs space, not correctness.
 */
@Component
class BackupSchedule {

    private static final Logger log = LoggerFactory.getLogger(BackupSchedule.class);

    private final Backups backups;
    private final BackupChecks checks;
    private final KirokuProperties props;
    private final ProcessRole role;
    private ScheduledExecutorService background;

    BackupSchedule(Backups backups, BackupChecks checks, KirokuProperties props,
                   @Value("${kiroku.runtime.role:serve}") ProcessRole role) {
        this.backups = backups;
        this.checks = checks;
        this.props = props;
        this.role = role;
    }

    @EventListener(ApplicationReadyEvent.class)
    void start() {
        if (role != ProcessRole.SERVE || props.getBackup().getAt() == null) {
            return;
        }
        background = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kiroku-backup");
            t.setDaemon(true);
            return t;
        });
        ZonedDateTime now = ZonedDateTime.now(props.getTimeZone());
        ZonedDateTime next = now.with(props.getBackup().getAt());
        if (!next.isAfter(now)) {
            next = next.plusDays(1);
        }
        background.scheduleAtFixedRate(this::runOnce, Duration.between(now, next).toMillis(), Duration.ofDays(1).toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** One scheduled round: back up, verify, prune. Failures are logged (and audited by each step), never thrown. */
    void runOnce() {
        Path target = props.backupTarget();
        try {
            boolean full = ZonedDateTime.now(props.getTimeZone()).getDayOfWeek() == props.getBackup().getFullOn();
            Backups.Created c = backups.create(target, !full, props.getBackup().isWriteOnce(), Agent.localOperator(), n -> { });
            BackupChecks.Check check = checks.verify(c.generation(), List.of(), Agent.localOperator(), n -> { });
            if (!check.ok()) {
                log.error("The scheduled backup {} does not verify: {}", c.generation(), check.findings());
            }
            backups.prune(target, Agent.localOperator());
        } catch (Exception e) {
            log.error("The scheduled backup into {} failed: {}", target, e.getMessage());
        }
    }

    @jakarta.annotation.PreDestroy
    void stop() {
        if (background != null) {
            background.shutdownNow();
        }
    }
}
