package jp.kiroku.identity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import jp.kiroku.audit.Agent;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.platform.ProcessRole;
import jp.kiroku.platform.SecretFiles;

/**
 * The first administrator (AUTH-10: no default admin account): at start, when KIROKU_BOOTSTRAP_ADMIN names a user and
 * no active administrator exists, the account is created with a one-time password written to a 0600 file in the data
 * directory — its path is logged, never the password. The first login must change the password (which deletes the
 * file) and enrol a second factor.
 */
@Component
class BootstrapAdmin implements ApplicationRunner {

    private static final Logger log = LoggerFactory.getLogger("jp.kiroku");

    private final Accounts accounts;
    private final JdbcTemplate jdbc;
    private final KirokuProperties props;
    private final ProcessRole role;

    BootstrapAdmin(Accounts accounts, JdbcTemplate jdbc, KirokuProperties props,
                   @Value("${kiroku.runtime.role:serve}") ProcessRole role) {
        this.accounts = accounts;
        this.jdbc = jdbc;
        this.props = props;
        this.role = role;
    }

    static Path file(KirokuProperties props) {
        return props.getDataDir().toAbsolutePath().resolve("bootstrap-admin-password.txt");
    }

    @Override
    public void run(ApplicationArguments args) {
        String username = props.getBootstrap().getAdmin();
        if (role != ProcessRole.SERVE || username == null || username.isBlank()) {
            return;
        }
        Boolean any = jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM account WHERE status = 'active'"
                + " AND 'admin' = ANY (roles))", Boolean.class);
        if (Boolean.TRUE.equals(any)) {
            return;
        }
        var issued = accounts.create(new NewAccount(username, "staff", List.of("admin"), username, "カンリシャ", null, null,
                "system-administrator", null, null, null), Agent.localOperator());
        Path file = file(props);
        SecretFiles.write(file, ("user: " + issued.username() + "\none-time password: " + issued.oneTimePassword()
                + "\nLog in at /login; you must change this password and enrol a second factor. This file is then deleted.\n")
                .getBytes(StandardCharsets.UTF_8));
        log.info("Created the first administrator '{}'; the one-time password is in {}", issued.username(), file);
    }

    /** The bootstrap administrator chose their own password: the issued one is no longer needed anywhere. */
    static void passwordChanged(KirokuProperties props, String username) {
        String admin = props.getBootstrap().getAdmin();
        if (admin != null && admin.equalsIgnoreCase(username)) {
            try {
                Files.deleteIfExists(file(props));
            } catch (IOException e) {
                log.warn("Cannot delete {}: {}", file(props), e.getMessage());
            }
        }
    }
}
