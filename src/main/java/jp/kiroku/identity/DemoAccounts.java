package jp.kiroku.identity;

import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Clock;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.platform.KirokuProperties;

/**
 * Demo mode only ({@code kiroku serve --demo}, refused otherwise): accounts that log in at once, with a password and an enrolled TOTP
 * secret that the demo prints, so that a newcomer tries every role without first-login steps. Never used outside a
 * database marked demo; a real account always starts with a one-time password and enrols its own authenticator.
 */
@Service
public class DemoAccounts {

    /** What the demo prints for one account: its password, its TOTP secret (Base32) and the enrolment URI. */
    public record Credentials(String username, String password, String totpSecret, String otpauthUri) {
        @Override
        public String toString() {
            return "Credentials[" + username + "]";
        }
    }

    private static final String ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Accounts accounts;
    private final JdbcTemplate jdbc;
    private final PasswordEncoder encoder;
    private final AuditTrail audit;
    private final Clock clock;
    private final boolean demo;

    DemoAccounts(Accounts accounts, JdbcTemplate jdbc, PasswordEncoder encoder, AuditTrail audit, Clock clock,
                 KirokuProperties props) {
        this.accounts = accounts;
        this.jdbc = jdbc;
        this.encoder = encoder;
        this.audit = audit;
        this.clock = clock;
        this.demo = props.isDemo();
    }

    /**
     * Creates the account (same checks as {@link Accounts#create}) with a random password that needs no change and a
     * random TOTP secret already enrolled; audited as {@code account.create} and {@code totp.enroll} with "demo".
     */
    @Transactional
    public Credentials create(NewAccount a, Agent by) {
        if (!demo) { // a known password and secret are for a demo's fictitious people only
            throw new IllegalStateException("demo accounts are created only in demo mode (kiroku.demo=true)");
        }
        String username = accounts.create(a, by).username();
        String password = "demo-" + random(12);
        byte[] secret = Totp.newSecret();
        jdbc.update("UPDATE account SET password_hash = ?, password_must_change = false, totp_secret = ?,"
                + " totp_enrolled_at = ?, totp_last_step = 0 WHERE lower(username) = ?", encoder.encode(password), secret,
                Timestamp.from(clock.instant()), username);
        accounts.forget(username);
        audit.record(AuditRecord.of(by, "totp.enroll", AuditRecord.Outcome.SUCCESS)
                .withDetail("account=" + username + " demo: password and authenticator set by demo mode"));
        return new Credentials(username, password, Totp.base32(secret), Totp.otpauthUri(LoginPages.ISSUER, username, secret));
    }

    private static String random(int length) {
        StringBuilder s = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            s.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        }
        return s.toString();
    }
}
