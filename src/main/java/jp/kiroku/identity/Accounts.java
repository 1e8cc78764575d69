package jp.kiroku.identity;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.platform.KirokuProperties;

/**
 * People's accounts (AUTH-02, AUTH-03, AUTH-05, AUTH-10): one per natural person, created by an administrator from HR
 * records with a one-time password the person must change at first login; disabled (never deleted, the audit trail
 * names them) when they leave, which ends their sessions at once. Passwords are stored only as Argon2id hashes; there
 * is no way to show one.
 */
@Service
public class Accounts {

    /** A one-time password, shown once to the administrator who hands it to the person. */
    public record Issued(String username, String oneTimePassword) {
        @Override
        public String toString() {
            return "Issued[" + username + "]";
        }
    }

    public static final Set<String> ROLES = Set.of("physician", "dentist", "nurse", "pharmacist", "technician", "therapist",
            "dietitian", "doctor-assistant", "clerk", "admin", "auditor", "patient");
    static final Set<String> PROFESSIONS = Set.of("physician", "dentist", "nurse", "assistant-nurse", "midwife",
            "public-health-nurse", "pharmacist", "radiologic-technologist", "clinical-lab-technician",
            "physical-therapist", "occupational-therapist", "dietitian", "medical-clerk", "system-administrator", "other");
    /** Names that stand for a function, not a person: shared accounts in disguise (AUTH-02). */
    private static final Pattern GENERIC = Pattern.compile("(admin|administrator|root|user|guest|test|demo|shared|common"
            + "|staff|doctor|nurse|pharmacist|clerk|reception|system|kiroku|default|anonymous|everyone|all|ward|team"
            + "|dept|department|tmp|temp)[._-]?\\d*");
    private static final Pattern USERNAME = Pattern.compile("[a-z][a-z0-9._-]{2,63}");
    private static final Pattern KATAKANA = Pattern.compile("[\\p{IsKatakana}ー・\\s　]+");

    private final JdbcTemplate jdbc;
    private final PasswordEncoder encoder;
    private final AuditTrail audit;
    private final Clock clock;
    private final KirokuProperties.Auth settings;
    private final PasswordPolicy policy;
    private final LoginThrottle throttle;
    private final Totp totp;
    private final com.github.benmanes.caffeine.cache.LoadingCache<String, Optional<Account>> active;
    /** Checked when the account does not exist, so that an unknown name takes as long as a wrong password (AUTH-05). */
    private final String dummyHash;

    Accounts(JdbcTemplate jdbc, PasswordEncoder encoder, AuditTrail audit, Clock clock, KirokuProperties props,
             LoginThrottle throttle) {
        this.throttle = throttle;
        this.totp = new Totp(clock);
        this.jdbc = jdbc;
        this.encoder = encoder;
        this.audit = audit;
        this.clock = clock;
        this.settings = props.getAuth();
        this.policy = new PasswordPolicy(settings.getPasswordHistory());
        this.dummyHash = encoder.encode(oneTimePassword());
        this.active = com.github.benmanes.caffeine.cache.Caffeine.newBuilder()
                .expireAfterWrite(props.getTokens().getActiveCheckCache()).maximumSize(10_000)
                .build(u -> find(u).filter(Account::active));
    }

    @Transactional
    public Issued create(NewAccount a, Agent by) {
        List<String> problems = problems(a);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        String username = a.username().toLowerCase(Locale.ROOT);
        if (find(username).isPresent()) {
            throw new IllegalArgumentException("an account '" + username + "' already exists");
        }
        if (a.birthDate() != null) {
            List<String> same = jdbc.queryForList("SELECT username FROM account WHERE status = 'active' AND name_kana = ?"
                    + " AND birth_date = ?", String.class, a.nameKana().strip(), a.birthDate());
            if (!same.isEmpty()) {
                throw new IllegalArgumentException("this person already has an account (" + same.get(0)
                        + "): one person, one account (AUTH-02)");
            }
        }
        String password = oneTimePassword();
        Instant now = clock.instant();
        UUID id = UUID.randomUUID();
        jdbc.update("INSERT INTO account (id, username, kind, roles, name, name_kana, name_romaji, birth_date, profession,"
                        + " department, facility, fhir_ref, created_at, created_by, password_hash, password_set_at,"
                        + " password_must_change) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,true)",
                ps -> {
                    ps.setObject(1, id);
                    ps.setString(2, username);
                    ps.setString(3, a.kind());
                    ps.setArray(4, ps.getConnection().createArrayOf("text", a.roles().toArray()));
                    ps.setString(5, a.name().strip());
                    ps.setString(6, a.nameKana().strip());
                    ps.setString(7, a.nameRomaji());
                    ps.setObject(8, a.birthDate());
                    ps.setString(9, a.profession());
                    ps.setString(10, a.department());
                    ps.setString(11, a.facility());
                    ps.setString(12, a.fhirRef());
                    ps.setTimestamp(13, Timestamp.from(now));
                    ps.setString(14, by.kind().code() + ":" + by.id());
                    ps.setString(15, encoder.encode(password));
                    ps.setTimestamp(16, Timestamp.from(now));
                });
        audit.record(AuditRecord.of(by, "account.create", AuditRecord.Outcome.SUCCESS)
                .withDetail("account=" + username + " roles=" + String.join(",", a.roles())));
        return new Issued(username, password);
    }

    private static List<String> problems(NewAccount a) {
        List<String> p = new ArrayList<>();
        String username = a.username() == null ? "" : a.username().toLowerCase(Locale.ROOT);
        if (!USERNAME.matcher(username).matches()) {
            p.add("the user name must be 3-64 characters of a-z 0-9 . _ -, starting with a letter");
        } else if (GENERIC.matcher(username).matches()) {
            p.add("'" + username + "' names a function, not a person: every account belongs to one person (AUTH-02)");
        }
        if (!List.of("staff", "patient").contains(a.kind())) {
            p.add("kind must be staff or patient");
        }
        if (a.roles() == null || a.roles().isEmpty()) {
            p.add("at least one role is needed, of " + new java.util.TreeSet<>(ROLES));
        } else {
            a.roles().stream().filter(r -> !ROLES.contains(r)).forEach(r -> p.add("unknown role '" + r + "'"));
            if ("patient".equals(a.kind()) != a.roles().equals(List.of("patient"))) {
                p.add("a patient account has exactly the role patient, and only patient accounts have it");
            }
        }
        if (a.name() == null || a.name().isBlank()) {
            p.add("the person's name is required");
        }
        if (a.nameKana() == null || !KATAKANA.matcher(a.nameKana().strip()).matches()) {
            p.add("the name's reading is required in katakana");
        }
        if ("staff".equals(a.kind()) && (a.profession() == null || !PROFESSIONS.contains(a.profession()))) {
            p.add("a staff account needs a profession, one of " + new java.util.TreeSet<>(PROFESSIONS));
        }
        if ("patient".equals(a.kind()) && (a.fhirRef() == null || !a.fhirRef().matches("Patient/[A-Za-z0-9\\-.]{1,64}"))) {
            p.add("a patient account names its Patient resource (Patient/<id>)");
        }
        if (a.birthDate() != null && a.birthDate().isAfter(java.time.LocalDate.now())) {
            p.add("the birth date is in the future");
        }
        return p;
    }

    public Optional<Account> find(String username) {
        if (username == null) {
            return Optional.empty();
        }
        return jdbc.query("SELECT * FROM account WHERE lower(username) = ?", ACCOUNT, username.strip().toLowerCase(Locale.ROOT))
                .stream().findFirst();
    }

    /**
     * Replaces a staff account's roles: only through an approved rights request ({@link RightsRequests}, ACL-02).
     * The new roles hold at once in this process and within kiroku.tokens.active-check-cache in others.
     */
    @Transactional
    void setRoles(String username, List<String> roles, Agent by) {
        if (roles.isEmpty() || roles.contains("patient") || !ROLES.containsAll(roles)) {
            throw new IllegalArgumentException("roles must be staff roles of " + new java.util.TreeSet<>(ROLES));
        }
        int n = jdbc.update("UPDATE account SET roles = ? WHERE lower(username) = ? AND kind = 'staff'",
                ps -> {
                    ps.setArray(1, ps.getConnection().createArrayOf("text", roles.toArray()));
                    ps.setString(2, username.toLowerCase(Locale.ROOT));
                });
        if (n != 1) {
            throw new IllegalArgumentException("no staff account '" + username + "'");
        }
        forget(username);
        audit.record(AuditRecord.of(by, "account.roles", AuditRecord.Outcome.SUCCESS)
                .withDetail("account=" + username + " roles=" + String.join(",", roles)));
    }

    /** The active accounts whose FHIR record is {@code ref} (e.g. {@code Practitioner/123}): the people it stands for. */
    public List<Account> activeByFhirRef(String ref) {
        return jdbc.query("SELECT * FROM account WHERE fhir_ref = ? AND status = 'active' ORDER BY username", ACCOUNT, ref);
    }

    /** Accounts by last login, oldest first; with {@code unusedFor}, only those not used for that long (AUTH-10). */
    public List<Account> list(Duration unusedFor) {
        if (unusedFor == null) {
            return jdbc.query("SELECT * FROM account ORDER BY username", ACCOUNT);
        }
        return jdbc.query("SELECT * FROM account WHERE status = 'active' AND coalesce(last_login_at, created_at) < ?"
                + " ORDER BY coalesce(last_login_at, created_at)", ACCOUNT, Timestamp.from(clock.instant().minus(unusedFor)));
    }

    /** Accounts whose login id, name or kana contains {@code text} (every account when empty), by login id. */
    public List<Account> search(String text, int limit) {
        String like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
        return jdbc.query("SELECT * FROM account WHERE lower(username) LIKE lower(?) OR name LIKE ? OR name_kana LIKE ?"
                + " ORDER BY username LIMIT ?", ACCOUNT, like, like, like, limit);
    }

    /** Disables the account (the person left): it cannot log in, and every session of it ends now. */
    @Transactional
    public boolean disable(String username, String reason, Agent by) {
        Instant now = clock.instant();
        int n = jdbc.update("UPDATE account SET status = 'disabled', disabled_at = ?, disabled_by = ?, disabled_reason = ?,"
                + " employment = CASE WHEN ? THEN 'left' ELSE employment END WHERE lower(username) = ? AND status = 'active'",
                Timestamp.from(now), by.kind().code() + ":" + by.id(), reason, reason != null && reason.contains("left"),
                username.toLowerCase(Locale.ROOT));
        int sessions = n == 1 ? endSessions(username) : 0;
        active.invalidate(username.toLowerCase(Locale.ROOT));
        jdbc.update("DELETE FROM oauth2_authorization WHERE principal_name = ?", username.toLowerCase(Locale.ROOT));
        audit.record(AuditRecord.of(by, "account.disable", n == 1 ? AuditRecord.Outcome.SUCCESS : AuditRecord.Outcome.FAILED)
                .withDetail("account=" + username + " sessions-ended=" + sessions));
        return n == 1;
    }

    /** True when the account exists and is not disabled (asked per request for tokens acting for the person). */
    public boolean isActive(String username) {
        return activeAccount(username).isPresent();
    }

    /**
     * The account when it exists and is not disabled, as of at most kiroku.tokens.active-check-cache ago (asked per
     * request: roles, facility and care units decide what the person reaches).
     */
    public Optional<Account> activeAccount(String username) {
        return username == null ? Optional.empty() : active.get(username.toLowerCase(Locale.ROOT));
    }

    /** Whether the account is active and has {@code role} (the administrators' and auditors' pages and APIs ask). */
    public boolean hasRole(String username, String role) {
        return activeAccount(username).map(a -> a.roles().contains(role)).orElse(false);
    }

    /**
     * Assigns the person to departments and wards ({@code Organization/id}, {@code Location/id}), replacing the
     * previous assignment: the patients those units care for come within the person's reach.
     */
    @Transactional
    public void assignCareUnits(String username, List<String> units, Agent by) {
        List<String> bad = units.stream().filter(u -> !u.matches("(Organization|Location|HealthcareService)/[A-Za-z0-9\\-.]{1,64}"))
                .toList();
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException("care units are Organization/id, Location/id or HealthcareService/id: " + bad);
        }
        int n = jdbc.update(con -> {
            var ps = con.prepareStatement("UPDATE account SET care_units = ? WHERE lower(username) = ?");
            ps.setArray(1, con.createArrayOf("text", units.stream().distinct().toArray()));
            ps.setString(2, username.strip().toLowerCase(Locale.ROOT));
            return ps;
        });
        if (n == 0) {
            throw new IllegalArgumentException("no account '" + username + "'");
        }
        active.invalidate(username.strip().toLowerCase(Locale.ROOT));
        audit.record(AuditRecord.of(by, "account.care-units", AuditRecord.Outcome.SUCCESS)
                .withDetail("account=" + username.strip().toLowerCase(Locale.ROOT) + " units=" + String.join(",", units)));
    }

    /** Lifts a lockout (AUTH-06) before it expires; false when the user name was not locked. */
    public boolean unlock(String username, Agent by) {
        boolean unlocked = throttle.unlock(username);
        audit.record(AuditRecord.of(by, "account.unlock", unlocked ? AuditRecord.Outcome.SUCCESS : AuditRecord.Outcome.FAILED)
                .withDetail("account=" + username.strip().toLowerCase(Locale.ROOT)));
        return unlocked;
    }

    /** Ends every session of the person (logout everywhere, or the account was disabled). */
    int endSessions(String username) {
        return jdbc.update("DELETE FROM spring_session WHERE principal_name = ?", username.toLowerCase(Locale.ROOT));
    }

    /**
     * An administrator issues a new one-time password after verifying the person's identity (AUTH-03): who verified
     * and how is recorded. The person must change it at the next login; their sessions end now.
     */
    @Transactional
    public Issued resetPassword(String username, String verification, Agent by) {
        if (verification == null || verification.isBlank()) {
            throw new IllegalArgumentException("say how the person's identity was verified (e.g. \"staff ID card\")");
        }
        String password = oneTimePassword();
        int n = jdbc.update("UPDATE account SET password_hash = ?, password_set_at = ?, password_must_change = true,"
                + " password_expires_at = NULL WHERE lower(username) = ? AND status = 'active'", encoder.encode(password),
                Timestamp.from(clock.instant()), username.toLowerCase(Locale.ROOT));
        if (n != 1) {
            throw new IllegalArgumentException("no active account '" + username + "'");
        }
        endSessions(username);
        audit.record(AuditRecord.of(by, "password.reset", AuditRecord.Outcome.SUCCESS)
                .withDetail("account=" + username + " identity-verified-by=" + by.id() + " method=" + verification.strip()));
        return new Issued(username.toLowerCase(Locale.ROOT), password);
    }

    /**
     * The person sets a new password (AUTH-04, AUTH-05). Returns the rule violations; empty means it was changed.
     */
    @Transactional
    public List<PasswordPolicy.Violation> changePassword(Account account, String newPassword, Agent by) {
        PasswordPolicy.Rule rule = passwordRule(account);
        List<String> previous = new ArrayList<>(jdbc.queryForList("SELECT hash FROM password_history WHERE account_id = ?"
                + " ORDER BY set_at DESC LIMIT ?", String.class, account.id(), Math.max(0, settings.getPasswordHistory() - 1)));
        previous.add(0, jdbc.queryForObject("SELECT password_hash FROM account WHERE id = ?", String.class, account.id()));
        List<PasswordPolicy.Violation> violations = policy.check(newPassword, rule,
                new PasswordPolicy.Person(account.username(), account.names(), account.birthDate()), previous, encoder);
        if (!violations.isEmpty()) {
            audit.record(AuditRecord.of(by, "password.change", AuditRecord.Outcome.FAILED)
                    .withDetail("account=" + account.username() + " refused=" + violations.stream()
                            .map(PasswordPolicy.Violation::code).distinct().toList()));
            return violations;
        }
        Instant now = clock.instant();
        jdbc.update("INSERT INTO password_history (account_id, hash, set_at) SELECT id, password_hash, password_set_at"
                + " FROM account WHERE id = ?", account.id());
        Instant expires = policy.expiresAt(rule, now);
        jdbc.update("UPDATE account SET password_hash = ?, password_set_at = ?, password_must_change = false,"
                + " password_expires_at = ? WHERE id = ?", encoder.encode(newPassword), Timestamp.from(now),
                expires == null ? null : Timestamp.from(expires), account.id());
        audit.record(AuditRecord.of(by, "password.change", AuditRecord.Outcome.SUCCESS).withDetail("account=" + account.username()));
        return List.of();
    }

    /**
     * The roles whose accounts may log in without a second factor, as the login reads them now
     * (kiroku.auth.two-factor-exempt-roles; empty: everybody needs one, AUTH-07).
     */
    public List<String> secondFactorExemptRoles() {
        return List.copyOf(settings.getTwoFactorExemptRoles());
    }

    /** Whether this account must present a second factor (AUTH-07: everyone unless their role is exempted). */
    boolean needsSecondFactor(Account a) {
        return a.roles().stream().anyMatch(r -> !settings.getTwoFactorExemptRoles().contains(r));
    }

    PasswordPolicy.Rule passwordRule(Account a) {
        return switch (settings.getPasswordRule()) {
            case "long" -> PasswordPolicy.Rule.LONG;
            case "expiring" -> PasswordPolicy.Rule.EXPIRING;
            case "two-factor" -> needsSecondFactor(a) ? PasswordPolicy.Rule.TWO_FACTOR : PasswordPolicy.Rule.LONG;
            default -> throw new IllegalStateException("kiroku.auth.password-rule must be two-factor, long or expiring, not '"
                    + settings.getPasswordRule() + "'");
        };
    }

    /** True when the password is the account's; for an unknown or disabled account it spends the same time and fails. */
    boolean passwordMatches(Optional<Account> account, String password) {
        String hash = account.filter(Account::active)
                .map(a -> jdbc.queryForObject("SELECT password_hash FROM account WHERE id = ?", String.class, a.id()))
                .orElse(dummyHash);
        boolean matches = password != null && encoder.matches(password, hash);
        return matches && account.filter(Account::active).isPresent();
    }


    void loggedIn(Account a) {
        jdbc.update("UPDATE account SET last_login_at = ? WHERE id = ?", Timestamp.from(clock.instant()), a.id());
    }

    /** What a person is told when {@link #confirmSecondFactor} refuses, wherever it is asked. */
    public static final String REAUTHENTICATION_REFUSED = "Re-authentication failed: send a current code from your"
            + " authenticator app as 'otp' (each code works once)";

    /**
     * Re-authentication for a sensitive action (break-glass, its review, rights decisions): a current TOTP code of the
     * person's enrolled authenticator, accepted once and throttled like a login. False for a wrong, reused or
     * throttled code, or a person without a second factor.
     */
    public boolean confirmSecondFactor(String username, String code, String address) {
        Optional<Account> found = find(username).filter(Account::active).filter(Account::totpEnrolled);
        if (found.isEmpty() || code == null) {
            return false;
        }
        Account a = found.get();
        if (throttle.check(a.username(), address) != LoginThrottle.Verdict.ALLOWED) {
            return false;
        }
        if (acceptTotp(a, code)) {
            throttle.succeeded(a.username());
            return true;
        }
        throttle.failed(a.username(), address);
        return false;
    }

    /** Drops the cached active-check answer for an account whose status was changed directly. */
    void forget(String username) {
        active.invalidate(username.strip().toLowerCase(Locale.ROOT));
    }

    /**
     * Replaces every credential of a (disabled) account: an unknown random password, no second factor, no recovery
     * codes. What anyone knew of it no longer works (return to normal after an emergency).
     */
    void rotateAway(String username) {
        String user = username.strip().toLowerCase(Locale.ROOT);
        jdbc.update("UPDATE account SET password_hash = ?, password_set_at = ?, password_must_change = true,"
                + " totp_secret = NULL, totp_enrolled_at = NULL WHERE lower(username) = ?",
                encoder.encode(oneTimePassword() + oneTimePassword()), Timestamp.from(clock.instant()), user);
        jdbc.update("DELETE FROM recovery_code WHERE account_id = (SELECT id FROM account WHERE lower(username) = ?)", user);
        jdbc.update("DELETE FROM passkey WHERE account_id = (SELECT id FROM account WHERE lower(username) = ?)", user);
        forget(user);
    }

    // --- the second factor's secret ---

    byte[] totpSecret(Account a) {
        return jdbc.queryForObject("SELECT totp_secret FROM account WHERE id = ?", byte[].class, a.id());
    }

    /**
     * A code of the person's enrolled authenticator (full-width digits accepted): true when it is valid now and its
     * step was not used before, which it now is. Used at login and for re-authentication.
     */
    boolean acceptTotp(Account a, String code) {
        java.util.OptionalLong step = totp.verify(totpSecret(a),
                java.text.Normalizer.normalize(code, java.text.Normalizer.Form.NFKC), lastTotpStep(a));
        return step.isPresent() && useTotpStep(a, step.getAsLong());
    }

    /** Accepts a TOTP step only once: true when {@code step} is newer than the last one used (atomic). */
    private boolean useTotpStep(Account a, long step) {
        return jdbc.update("UPDATE account SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?", step, a.id(), step) == 1;
    }

    private long lastTotpStep(Account a) {
        return jdbc.queryForObject("SELECT totp_last_step FROM account WHERE id = ?", Long.class, a.id());
    }

    @Transactional
    void enrollTotp(Account a, byte[] secret, long firstStep, Agent by) {
        jdbc.update("UPDATE account SET totp_secret = ?, totp_enrolled_at = ?, totp_last_step = ? WHERE id = ?", secret,
                Timestamp.from(clock.instant()), firstStep, a.id());
        audit.record(AuditRecord.of(by, "totp.enroll", AuditRecord.Outcome.SUCCESS).withDetail("account=" + a.username()));
    }

    /** Issues new recovery codes (AUTH-08: the way in when the authenticator is lost); the old ones stop working. */
    @Transactional
    List<String> newRecoveryCodes(Account a) {
        List<String> codes = RecoveryCodes.generate();
        jdbc.update("DELETE FROM recovery_code WHERE account_id = ?", a.id());
        jdbc.batchUpdate("INSERT INTO recovery_code (account_id, code_hash) VALUES (?, ?)",
                codes.stream().map(c -> new Object[] {a.id(), RecoveryCodes.hash(c)}).toList());
        return codes;
    }

    /** Spends one recovery code: true when it was an unused code of this account (each works once). */
    boolean useRecoveryCode(Account a, String code) {
        if (code == null || code.isBlank()) {
            return false;
        }
        return jdbc.update("UPDATE recovery_code SET used_at = ? WHERE account_id = ? AND code_hash = ? AND used_at IS NULL",
                Timestamp.from(clock.instant()), a.id(), RecoveryCodes.hash(code)) == 1;
    }

    /** The authenticator was lost: its secret is forgotten, and a new one must be enrolled before the login ends. */
    @Transactional
    void forgetTotp(Account a, Agent by) {
        jdbc.update("UPDATE account SET totp_secret = NULL, totp_enrolled_at = NULL WHERE id = ?", a.id());
        audit.record(AuditRecord.of(by, "totp.reset", AuditRecord.Outcome.SUCCESS)
                .withDetail("account=" + a.username() + " by recovery code"));
    }

    /** 16 random characters of letters, digits and symbols: used once, then replaced by the person's own. */
    private static String oneTimePassword() {
        String alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        String symbols = "!#$%&*+-=?@";
        var random = new java.security.SecureRandom();
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 14; i++) {
            s.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        s.insert(random.nextInt(s.length()), symbols.charAt(random.nextInt(symbols.length())));
        s.insert(random.nextInt(s.length()), (char) ('2' + random.nextInt(8)));
        return s.toString();
    }

    private static final RowMapper<Account> ACCOUNT = (ResultSet rs, int i) -> new Account(
            rs.getObject("id", UUID.class), rs.getString("username"), rs.getString("kind"),
            List.of((String[]) rs.getArray("roles").getArray()), rs.getString("name"), rs.getString("name_kana"),
            rs.getString("name_romaji"), rs.getObject("birth_date", java.time.LocalDate.class), rs.getString("profession"),
            rs.getString("department"), rs.getString("facility"), rs.getString("employment"), rs.getString("fhir_ref"),
            "active".equals(rs.getString("status")), instant(rs, "created_at"), instant(rs, "last_login_at"),
            rs.getBoolean("password_must_change"), instant(rs, "password_expires_at"), rs.getTimestamp("totp_enrolled_at") != null,
            List.of((String[]) rs.getArray("care_units").getArray()));

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        Timestamp t = rs.getTimestamp(column);
        return t == null ? null : t.toInstant();
    }
}
