package jp.kiroku.platform;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * Every {@code kiroku.*} setting, with its default. Environment variables bind by Spring's relaxed rules
 * ({@code KIROKU_DATA_DIR} = {@code kiroku.data-dir}). docs/configuration.md lists these.
 */
@ConfigurationProperties("kiroku")
public class KirokuProperties {

    /** Where Kiroku keeps its embedded database, keys and run files. */
    private Path dataDir = Path.of("kiroku-data");
    /** Where the master key store, token signing keys and checkpoint key live (default: data-dir/keys). */
    private Path keysDir;
    /**
     * Passphrase of the master key store (keys-dir/master-key.p12) that wraps the data keys; at least 12 characters.
     * Unset with no passphrase file: a trial, whose passphrase is written beside the store (protects nothing).
     */
    private String masterKeyPassphrase;
    /** A file holding the master key passphrase (e.g. on a mounted secret volume), instead of master-key-passphrase. */
    private Path masterKeyPassphraseFile;
    /**
     * How long backups of the key store are kept: a destroyed data key may survive in them that long, so a disposal
     * certificate states that no copy of the key exists after disposal + this.
     */
    private Duration keyBackupRetention = Duration.ofDays(30);
    /**
     * When the server compacts the tables after disposals (kiroku dispose compact), daily in kiroku.time-zone, if a
     * disposal ran since the last compaction: each table is locked while it is rewritten, so a quiet hour.
     */
    private java.time.LocalTime compactAt = java.time.LocalTime.of(3, 0);
    /** Address the HTTP server binds to; anything but loopback requires TLS. */
    private String host = "127.0.0.1";
    /** HTTP port. */
    private int port = 8080;
    /** Largest request body accepted; larger bodies get 413. */
    private DataSize maxRequestSize = DataSize.ofMegabytes(32);
    /** Time zone of dates and times written without one (a date such as 2023-05-01 is that day in this zone). */
    private java.time.ZoneId timeZone = java.time.ZoneId.of("Asia/Tokyo");
    /** Instance validation level: "profiled" validates resources that claim a profile, "full" validates all. */
    private ValidationLevel validation = ValidationLevel.PROFILED;
    /**
     * Demo mode (kiroku serve --demo): loads the JP Core examples and a few Synthea patients, creates one demo
     * account per role (credentials printed at start), shows a demo banner on every page and turns the terminal rule
     * off. Refuses a database that holds non-demo data; a database marked demo is refused without it. Never for real data.
     */
    private boolean demo;
    /**
     * Log output on the console: "plain" (lines for a person at a terminal) or "json" (one JSON object per line, Elastic
     * Common Schema, for a log collector). Neither carries PHI, passwords or tokens (docs/operations.md, Monitoring).
     */
    private String logFormat = "plain";
    private final Db db = new Db();
    private final Tokens tokens = new Tokens();
    private final Bootstrap bootstrap = new Bootstrap();
    private final Search search = new Search();
    private final Ledger ledger = new Ledger();
    private final ClockSettings clock = new ClockSettings();
    private final Auth auth = new Auth();
    private final Access access = new Access();
    private final Backup backup = new Backup();
    private final DeviceSettings devices = new DeviceSettings();
    private final Incidents incidents = new Incidents();
    private final Phr phr = new Phr();
    private final Tls tls = new Tls();

    public enum ValidationLevel { PROFILED, FULL }

    /**
     * TLS at Kiroku itself (NET-03/04; docs/operations.md, "TLS"): mapped onto server.ssl.* at start
     * ({@link TlsSettings}); a server.ssl.* property set explicitly wins over the one derived from these.
     */
    public static class Tls {
        /** PEM file with the server certificate (and its chain); with private-key. Instead of keystore. */
        private Path certificate;
        /** PEM file with the certificate's private key (PKCS#8, SEC1 EC or PKCS#1 RSA, unencrypted; keep it owner-only). */
        private Path privateKey;
        /** PKCS#12 key store with the server's key and certificate chain. Instead of certificate + private-key. */
        private Path keystore;
        /** Password of the PKCS#12 key store: as the environment variable KIROKU_TLS_KEYSTORE_PASSWORD (or keystore-password-file), never on the command line. */
        private String keystorePassword;
        /** A file holding the key store password (e.g. on a mounted secret volume), instead of keystore-password. */
        private Path keystorePasswordFile;
        /** Alias of the key entry in the key store (default: its only key entry). */
        private String keyAlias;
        /**
         * Also accept TLS 1.2 (with the CRYPTREC high-security suites only: ECDHE with AES-GCM or ChaCha20-Poly1305), for
         * clients that cannot speak TLS 1.3. Off: TLS 1.3 only.
         */
        private boolean allowTls12;
        /** Client certificates: "none", "want" (asked for, used for terminal binding) or "need" (refused without one). */
        private String clientAuth = "none";
        /** PEM file with the CA certificate(s) that issue the client certificates (needed for want and need). */
        private Path clientCa;
        /** Strict-Transport-Security max-age sent on every HTTPS response (0: no HSTS header). */
        private Duration hstsMaxAge = Duration.ofDays(365);
        /** Whether the HSTS header also covers the host's subdomains. */
        private boolean hstsIncludeSubdomains;

        public Path getCertificate() { return certificate; }
        public void setCertificate(Path p) { this.certificate = p; }
        public Path getPrivateKey() { return privateKey; }
        public void setPrivateKey(Path p) { this.privateKey = p; }
        public Path getKeystore() { return keystore; }
        public void setKeystore(Path p) { this.keystore = p; }
        public String getKeystorePassword() { return keystorePassword; }
        public void setKeystorePassword(String s) { this.keystorePassword = s; }
        public Path getKeystorePasswordFile() { return keystorePasswordFile; }
        public void setKeystorePasswordFile(Path p) { this.keystorePasswordFile = p; }
        public String getKeyAlias() { return keyAlias; }
        public void setKeyAlias(String s) { this.keyAlias = s; }
        public boolean isAllowTls12() { return allowTls12; }
        public void setAllowTls12(boolean b) { this.allowTls12 = b; }
        public String getClientAuth() { return clientAuth; }
        public void setClientAuth(String s) { this.clientAuth = s; }
        public Path getClientCa() { return clientCa; }
        public void setClientCa(Path p) { this.clientCa = p; }
        public Duration getHstsMaxAge() { return hstsMaxAge; }
        public void setHstsMaxAge(Duration d) { this.hstsMaxAge = d; }
        public boolean isHstsIncludeSubdomains() { return hstsIncludeSubdomains; }
        public void setHstsIncludeSubdomains(boolean b) { this.hstsIncludeSubdomains = b; }
    }

    /** An external PostgreSQL server; when url is empty the embedded database in the data directory is used. */
    public static class Db {
        /** JDBC URL of an external PostgreSQL 15+ server (KIROKU_DB_URL). */
        private String url;
        /** User for the external server. */
        private String user;
        /** Password for the external server. */
        private String password;
        /**
         * The role that owns Kiroku's tables on the external server and runs its migrations; the application then connects
         * as {@code user} with no UPDATE or DELETE on append-only tables (LOG-02). Unset: {@code user} does both.
         */
        private String ownerUser;
        /** Password of {@code owner-user}. */
        private String ownerPassword;
        /** Connection pool size. */
        private int poolSize = 16;
        /**
         * Shared buffer memory of the embedded PostgreSQL (its page cache; at least 16MB). Raise it as the data grows,
         * leaving room for the JVM: 2,000 benchmark patients are 3.3 GB on disk.
         */
        private DataSize sharedBuffers = DataSize.ofMegabytes(256);
        /**
         * JDBC URL of a PostgreSQL streaming-replication standby of the primary (KIROKU_DB_REPLICA_URL). When set, FHIR
         * reads, searches, history and $everything are served from it while it is at most {@code replica-max-staleness}
         * behind; writes, ledgers, audit, sessions, tokens and access checks stay on the primary (docs/operations.md,
         * "Read replicas"). Unset (the default): everything uses the primary.
         */
        private String replicaUrl;
        /** User for the replica; unset: {@code user}. */
        private String replicaUser;
        /** Password for the replica (KIROKU_DB_REPLICA_PASSWORD, never logged); unset: {@code password}. */
        private String replicaPassword;
        /**
         * The most a read served by the replica may lag behind the primary; a replica further behind (replay paused,
         * network down, unreachable) is not used and reads go to the primary.
         */
        private Duration replicaMaxStaleness = Duration.ofSeconds(5);

        public String getUrl() { return url; }
        public void setUrl(String url) { this.url = url; }
        public String getUser() { return user; }
        public void setUser(String user) { this.user = user; }
        public String getPassword() { return password; }
        public void setPassword(String password) { this.password = password; }
        public String getOwnerUser() { return ownerUser; }
        public void setOwnerUser(String ownerUser) { this.ownerUser = ownerUser; }
        public String getOwnerPassword() { return ownerPassword; }
        public void setOwnerPassword(String ownerPassword) { this.ownerPassword = ownerPassword; }
        public int getPoolSize() { return poolSize; }
        public void setPoolSize(int poolSize) { this.poolSize = poolSize; }
        public boolean isExternal() { return url != null && !url.isBlank(); }
        public String getReplicaUrl() { return replicaUrl; }
        public void setReplicaUrl(String replicaUrl) { this.replicaUrl = replicaUrl; }
        public String getReplicaUser() { return replicaUser; }
        public void setReplicaUser(String replicaUser) { this.replicaUser = replicaUser; }
        public String getReplicaPassword() { return replicaPassword; }
        public void setReplicaPassword(String replicaPassword) { this.replicaPassword = replicaPassword; }
        public Duration getReplicaMaxStaleness() { return replicaMaxStaleness; }
        public void setReplicaMaxStaleness(Duration replicaMaxStaleness) { this.replicaMaxStaleness = replicaMaxStaleness; }
        public boolean hasReplica() { return replicaUrl != null && !replicaUrl.isBlank(); }
        public DataSize getSharedBuffers() { return sharedBuffers; }
        public void setSharedBuffers(DataSize sharedBuffers) { this.sharedBuffers = sharedBuffers; }
    }

    public static class Tokens {
        /** Lifetime of issued access tokens. */
        private Duration accessTokenLifetime = Duration.ofMinutes(5);
        /**
         * Lifetime of refresh tokens of apps acting for a person (each use gives a new one and ends the old); at most a
         * working day, as a person's session (kiroku.auth.absolute-timeout).
         */
        private Duration refreshTokenLifetime = Duration.ofHours(8);
        /** How long a "this client/user/device is still active" answer may be cached. */
        private Duration activeCheckCache = Duration.ofSeconds(5);

        public Duration getRefreshTokenLifetime() { return refreshTokenLifetime; }
        public void setRefreshTokenLifetime(Duration d) { this.refreshTokenLifetime = d; }
        public Duration getAccessTokenLifetime() { return accessTokenLifetime; }
        public void setAccessTokenLifetime(Duration d) { this.accessTokenLifetime = d; }
        public Duration getActiveCheckCache() { return activeCheckCache; }
        public void setActiveCheckCache(Duration d) { this.activeCheckCache = d; }
    }

    public static class Bootstrap {
        /** Client id created at first start when no client exists (KIROKU_BOOTSTRAP_CLIENT_ID). */
        private String clientId;
        /** Its secret, at least 32 characters; stored hashed, never logged (KIROKU_BOOTSTRAP_CLIENT_SECRET). */
        private String clientSecret;
        /**
         * User name of the first administrator, created at start when no administrator exists (KIROKU_BOOTSTRAP_ADMIN).
         * Its one-time password goes to a 0600 file in the data directory whose path is logged.
         */
        private String admin;

        public String getClientId() { return clientId; }
        public void setClientId(String clientId) { this.clientId = clientId; }
        public String getClientSecret() { return clientSecret; }
        public void setClientSecret(String clientSecret) { this.clientSecret = clientSecret; }
        public String getAdmin() { return admin; }
        public void setAdmin(String admin) { this.admin = admin; }
    }

    public static class Access {
        /**
         * How long a care relationship lasts after its encounter, episode or care team ended (discharge summaries,
         * results that arrive later); after that the patient is out of reach without break-glass.
         */
        private Duration careAfterEnd = Duration.ofDays(30);
        /** How long a break-glass use keeps the patient open to the person (ACL-04). */
        private Duration breakGlassDuration = Duration.ofMinutes(60);

        public Duration getBreakGlassDuration() { return breakGlassDuration; }
        public void setBreakGlassDuration(Duration d) { this.breakGlassDuration = d; }
        public Duration getCareAfterEnd() { return careAfterEnd; }
        public void setCareAfterEnd(Duration d) { this.careAfterEnd = d; }
    }

    public static class Search {
        /**
         * Most matches a paged search keeps: their keys are saved as a snapshot so that paging sees neither duplicates
         * nor gaps. Beyond it only the first ones are paged, with an exact total and a warning in every page.
         */
        private int maxResults = 10_000;
        /** How long the snapshot of a paged search stays available to its next/previous links. */
        private Duration snapshotLifetime = Duration.ofMinutes(60);
        /** Most matches a search sorted by a string parameter may have (it is sorted in memory, see the brief). */
        private int maxStringSort = 1_000;
        /**
         * How often each process re-reads the blind index's key generations; a key rotation waits twice this between
         * its steps, so that every process searches with a new key before any writes with it.
         */
        private Duration indexKeyRefresh = Duration.ofSeconds(5);
        /** Resources re-indexed per transaction by a rebuild or key rotation (their rows are locked for that long). */
        private int reindexBatch = 200;

        public int getMaxResults() { return maxResults; }
        public void setMaxResults(int maxResults) { this.maxResults = maxResults; }
        public Duration getSnapshotLifetime() { return snapshotLifetime; }
        public void setSnapshotLifetime(Duration d) { this.snapshotLifetime = d; }
        public int getMaxStringSort() { return maxStringSort; }
        public void setMaxStringSort(int maxStringSort) { this.maxStringSort = maxStringSort; }
        public Duration getIndexKeyRefresh() { return indexKeyRefresh; }
        public void setIndexKeyRefresh(Duration d) { this.indexKeyRefresh = d; }
        public int getReindexBatch() { return reindexBatch; }
        public void setReindexBatch(int n) { this.reindexBatch = n; }
    }

    /** Detection of incidents over the access log (issue 10). */
    public static class Incidents {
        /** How often the server evaluates the detection rules. */
        private Duration scanInterval = Duration.ofMinutes(1);
        /**
         * Per detection rule (brute-force, password-spraying, new-address, new-device, out-of-hours, mass-access, vip-access,
         * denied-burst, disabled-token, break-glass-spike, export-spike, ledger-failure, backup-failure, backup-missed,
         * clock-drift): threshold, window and enabled, e.g.
         * kiroku.incidents.rules.mass-access.threshold=100 (docs/operations.md lists the defaults).
         */
        private java.util.Map<String, RuleSettings> rules = new java.util.LinkedHashMap<>();
        /**
         * Security labels (system|code on meta.security) of the records whose every access is reviewed (rule
         * vip-access). Default: http://terminology.hl7.org/CodeSystem/v3-ActCode|CEL (celebrities), …|EMP (staff) and
         * http://kiroku.jp/fhir/CodeSystem/security-label|staff-family.
         */
        private List<String> watchedLabels = List.of("http://terminology.hl7.org/CodeSystem/v3-ActCode|CEL",
                "http://terminology.hl7.org/CodeSystem/v3-ActCode|EMP",
                "http://kiroku.jp/fhir/CodeSystem/security-label|staff-family");

        private final Notify notify = new Notify();
        private final OfficeHours officeHours = new OfficeHours();

        public Notify getNotify() { return notify; }
        public OfficeHours getOfficeHours() { return officeHours; }
        public List<String> getWatchedLabels() { return watchedLabels; }
        public void setWatchedLabels(List<String> labels) { this.watchedLabels = List.copyOf(labels); }
        public Duration getScanInterval() { return scanInterval; }
        public void setScanInterval(Duration d) { this.scanInterval = d; }
        public java.util.Map<String, RuleSettings> getRules() { return rules; }
        public void setRules(java.util.Map<String, RuleSettings> rules) { this.rules = rules; }
    }

    /** Where alerts go as they are raised (besides kiroku alerts and the admin UI). */
    public static class Notify {
        /** E-mail addresses of the security officer(s); mail goes through the SMTP server of spring.mail.host/port. */
        private List<String> mailTo = List.of();
        /** The sender of alert mail. */
        private String mailFrom = "kiroku@localhost";
        /** A URL (e.g. a SIEM's collector) that gets each alert as JSON (POST). */
        private java.net.URI webhook;

        public List<String> getMailTo() { return mailTo; }
        public void setMailTo(List<String> mailTo) { this.mailTo = List.copyOf(mailTo); }
        public String getMailFrom() { return mailFrom; }
        public void setMailFrom(String mailFrom) { this.mailFrom = mailFrom; }
        public java.net.URI getWebhook() { return webhook; }
        public void setWebhook(java.net.URI webhook) { this.webhook = webhook; }
    }

    /** When the institution works (rule out-of-hours): access to patients outside these hours is counted. */
    public static class OfficeHours {
        /** The first minute of the working day (default 08:00). */
        private java.time.LocalTime start = java.time.LocalTime.of(8, 0);
        /** The end of the working day, exclusive (default 19:00). */
        private java.time.LocalTime end = java.time.LocalTime.of(19, 0);
        /** Days without office hours (default SUNDAY). */
        private List<java.time.DayOfWeek> daysOff = List.of(java.time.DayOfWeek.SUNDAY);
        /** The time zone of the hours and of incident reports. */
        private java.time.ZoneId zone = java.time.ZoneId.of("Asia/Tokyo");
        /** Roles that work around the clock (e.g. nurse, physician on wards): their access is not counted. */
        private List<String> exemptRoles = List.of();

        public java.time.LocalTime getStart() { return start; }
        public void setStart(java.time.LocalTime start) { this.start = start; }
        public java.time.LocalTime getEnd() { return end; }
        public void setEnd(java.time.LocalTime end) { this.end = end; }
        public List<java.time.DayOfWeek> getDaysOff() { return daysOff; }
        public void setDaysOff(List<java.time.DayOfWeek> daysOff) { this.daysOff = List.copyOf(daysOff); }
        public java.time.ZoneId getZone() { return zone; }
        public void setZone(java.time.ZoneId zone) { this.zone = zone; }
        public List<String> getExemptRoles() { return exemptRoles; }
        public void setExemptRoles(List<String> roles) { this.exemptRoles = List.copyOf(roles); }
    }

    /** The patients' portal (PHR, issue 12). */
    public static class Phr {
        /**
         * "Who looked at my record" names the staff member; off (the default) it shows their role, facility and
         * purpose only. A facility policy decides (PHR guideline; many institutions do not name staff).
         */
        private boolean showStaffNames = false;

        /**
         * The version of the sharing terms patients agree to when they consent to third-party provision (PHR-01);
         * each Consent names it in policy.uri. Raise it when the text of the terms changes.
         */
        private String sharingTermsVersion = "1";

        public boolean isShowStaffNames() { return showStaffNames; }
        public void setShowStaffNames(boolean show) { this.showStaffNames = show; }
        public String getSharingTermsVersion() { return sharingTermsVersion; }
        public void setSharingTermsVersion(String version) { this.sharingTermsVersion = version; }
    }

    /** One detection rule's settings; unset values keep the rule's default. */
    public static class RuleSettings {
        private Integer threshold;
        private Duration window;
        private Boolean enabled;

        public Integer getThreshold() { return threshold; }
        public void setThreshold(Integer t) { this.threshold = t; }
        public Duration getWindow() { return window; }
        public void setWindow(Duration w) { this.window = w; }
        public Boolean getEnabled() { return enabled; }
        public void setEnabled(Boolean e) { this.enabled = e; }
    }

    /** Terminals people log in from (issue 9, BYOD-01). */
    public static class DeviceSettings {
        /**
         * Staff log in (and their tokens work) only from a registered, enrolled terminal whose management the person's
         * roles allow; patients use their own devices. Switching it off is for trials only.
         */
        private boolean terminalRequired = true;
        /**
         * Which device management each role may log in from (managed, personal-mdm, personal-uncontrolled), e.g.
         * kiroku.devices.allowed-by-role.nurse=managed,personal-mdm. Default: physician=managed; roles not listed:
         * managed and personal-mdm. An uncontrolled personal device is refused unless a role lists it.
         */
        private java.util.Map<String, List<String>> allowedByRole = new java.util.LinkedHashMap<>(
                java.util.Map.of("physician", List.of("managed")));

        public boolean isTerminalRequired() { return terminalRequired; }
        public void setTerminalRequired(boolean b) { this.terminalRequired = b; }
        public java.util.Map<String, List<String>> getAllowedByRole() { return allowedByRole; }
        public void setAllowedByRole(java.util.Map<String, List<String>> m) { this.allowedByRole = m; }
    }

    /** Backups of the database (issue 8): where, when, how many generations are kept. */
    public static class Backup {
        /**
         * Where backups go (a directory; on other storage than the data directory). Unset: data-dir/backups, with a
         * warning, since a backup beside the data does not survive the loss of its disk.
         */
        private Path target;
        /** Files of new generations are made read-only and never rewritten or deleted by Kiroku (a WORM-style copy). */
        private boolean writeOnce;
        /** When the server backs up daily (kiroku.time-zone); unset: no scheduled backups. */
        private java.time.LocalTime at;
        /** The day of the week of the scheduled full backup; other days take an incremental one. */
        private java.time.DayOfWeek fullOn = java.time.DayOfWeek.SUNDAY;
        /** Retention of generations: the newest generation of each of the last N days is kept. */
        private int keepDaily = 14;
        /** Retention of generations: the newest generation of each of the last N weeks is kept. */
        private int keepWeekly = 8;
        /** Retention of generations: the newest generation of each of the last N months is kept. */
        private int keepMonthly = 12;
        /** Plain bytes per segment file (each is hashed, sealed and written on its own). */
        private DataSize segmentSize = DataSize.ofMegabytes(32);
        /** Tables copied at once (each on its own connection, all in one snapshot). */
        private int parallel = 2;
        /** The health indicator reports STALE when the newest verified backup is older than this. */
        private Duration maxAge = Duration.ofHours(26);

        public Path getTarget() { return target; }
        public void setTarget(Path target) { this.target = target; }
        public boolean isWriteOnce() { return writeOnce; }
        public void setWriteOnce(boolean writeOnce) { this.writeOnce = writeOnce; }
        public java.time.LocalTime getAt() { return at; }
        public void setAt(java.time.LocalTime at) { this.at = at; }
        public java.time.DayOfWeek getFullOn() { return fullOn; }
        public void setFullOn(java.time.DayOfWeek fullOn) { this.fullOn = fullOn; }
        public int getKeepDaily() { return keepDaily; }
        public void setKeepDaily(int n) { this.keepDaily = n; }
        public int getKeepWeekly() { return keepWeekly; }
        public void setKeepWeekly(int n) { this.keepWeekly = n; }
        public int getKeepMonthly() { return keepMonthly; }
        public void setKeepMonthly(int n) { this.keepMonthly = n; }
        public DataSize getSegmentSize() { return segmentSize; }
        public void setSegmentSize(DataSize s) { this.segmentSize = s; }
        public int getParallel() { return parallel; }
        public void setParallel(int parallel) { this.parallel = parallel; }
        public Duration getMaxAge() { return maxAge; }
        public void setMaxAge(Duration maxAge) { this.maxAge = maxAge; }
    }

    public static class Ledger {
        /** How often pending rows are appended to the ledgers (by whichever process holds the sequencer lock). */
        private Duration sequenceInterval = Duration.ofMillis(200);
        /** How often a signed checkpoint is made of each ledger that grew since its last one. */
        private Duration checkpointInterval = Duration.ofMinutes(1);
        /** Most pending rows appended in one sequencer transaction. */
        private int batchSize = 10_000;
        /** RFC 3161 time-stamping authority that stamps every checkpoint (none by default). */
        private java.net.URI tsaUrl;

        public Duration getSequenceInterval() { return sequenceInterval; }
        public void setSequenceInterval(Duration d) { this.sequenceInterval = d; }
        public Duration getCheckpointInterval() { return checkpointInterval; }
        public void setCheckpointInterval(Duration d) { this.checkpointInterval = d; }
        public int getBatchSize() { return batchSize; }
        public void setBatchSize(int batchSize) { this.batchSize = batchSize; }
        public java.net.URI getTsaUrl() { return tsaUrl; }
        public void setTsaUrl(java.net.URI tsaUrl) { this.tsaUrl = tsaUrl; }
    }

    /** How people log in (AUTH-03..09). */
    public static class Auth {
        /**
         * Which password rule of the guideline applies (AUTH-04): "two-factor" (at least 8 mixed characters, for accounts
         * that must use a second factor; others fall back to "long"), "long" (at least 13 mixed characters) or "expiring"
         * (at least 8 mixed characters, changed at least every 60 days).
         */
        private String passwordRule = "two-factor";
        /** How many earlier passwords of an account may not be used again. */
        private int passwordHistory = 5;
        /** Roles whose accounts may log in without a second factor (AUTH-07; by default nobody). */
        private List<String> twoFactorExemptRoles = List.of();
        /** Consecutive failed logins (per user name) after which it is locked (AUTH-06). */
        private int lockoutAttempts = 5;
        /**
         * Failed logins from one source address (any user names) after which the address is locked; 0 turns it off.
         * Raise it where many terminals reach Kiroku through one address (NAT, proxy).
         */
        private int lockoutAddressAttempts = 20;
        /** How long a lock lasts, unless an administrator unlocks earlier. */
        private Duration lockoutDuration = Duration.ofMinutes(30);
        /** Delay after the first failed login before the next attempt is accepted; it doubles with each failure. */
        private Duration failureDelay = Duration.ofSeconds(1);
        /** A session ends after this long without a request (AUTH-09); the user must log in again. */
        private Duration idleTimeout = Duration.ofMinutes(10);
        /**
         * Idle limits for some roles instead of idle-timeout (e.g. kiroku.auth.idle-timeout-by-role.clerk=5m); a person
         * with several roles gets the shortest of those that apply.
         */
        private java.util.Map<String, Duration> idleTimeoutByRole = new java.util.LinkedHashMap<>();
        /**
         * Addresses or CIDR ranges of shared terminals (ward and outpatient PCs that many people use, e.g.
         * 10.20.0.0/16): sessions from them end after shared-terminal-idle-timeout without a request, if that is shorter.
         */
        private List<String> sharedTerminalNetworks = List.of();
        /** The idle limit of sessions on shared terminals (shared-terminal-networks). */
        private Duration sharedTerminalIdleTimeout = Duration.ofMinutes(3);

        public java.util.Map<String, Duration> getIdleTimeoutByRole() { return idleTimeoutByRole; }
        public void setIdleTimeoutByRole(java.util.Map<String, Duration> m) { this.idleTimeoutByRole = m; }
        public List<String> getSharedTerminalNetworks() { return sharedTerminalNetworks; }
        public void setSharedTerminalNetworks(List<String> n) { this.sharedTerminalNetworks = n; }
        public Duration getSharedTerminalIdleTimeout() { return sharedTerminalIdleTimeout; }
        public void setSharedTerminalIdleTimeout(Duration d) { this.sharedTerminalIdleTimeout = d; }

        /** A session ends this long after login, however active. */
        private Duration absoluteTimeout = Duration.ofHours(12);
        /** Sessions one person may have at once; a new login ends the oldest beyond it. */
        private int maxSessions = 2;
        /**
         * The WebAuthn relying-party id passkeys are bound to (a registrable domain, e.g. kiroku.hospital.example.jp);
         * unset: the host name the browser used. Set it, with passkey-origin, behind a reverse proxy.
         */
        private String passkeyRpId;
        /** The origin browsers show for Kiroku's pages (e.g. https://kiroku.hospital.example.jp); unset: as requested. */
        private String passkeyOrigin;

        public String getPasskeyRpId() { return passkeyRpId; }
        public void setPasskeyRpId(String passkeyRpId) { this.passkeyRpId = passkeyRpId; }
        public String getPasskeyOrigin() { return passkeyOrigin; }
        public void setPasskeyOrigin(String passkeyOrigin) { this.passkeyOrigin = passkeyOrigin; }

        public String getPasswordRule() { return passwordRule; }
        public void setPasswordRule(String passwordRule) { this.passwordRule = passwordRule; }
        public int getPasswordHistory() { return passwordHistory; }
        public void setPasswordHistory(int passwordHistory) { this.passwordHistory = passwordHistory; }
        public List<String> getTwoFactorExemptRoles() { return twoFactorExemptRoles; }
        public void setTwoFactorExemptRoles(List<String> roles) { this.twoFactorExemptRoles = List.copyOf(roles); }
        public int getLockoutAttempts() { return lockoutAttempts; }
        public void setLockoutAttempts(int lockoutAttempts) { this.lockoutAttempts = lockoutAttempts; }
        public int getLockoutAddressAttempts() { return lockoutAddressAttempts; }
        public void setLockoutAddressAttempts(int n) { this.lockoutAddressAttempts = n; }
        public Duration getLockoutDuration() { return lockoutDuration; }
        public void setLockoutDuration(Duration d) { this.lockoutDuration = d; }
        public Duration getFailureDelay() { return failureDelay; }
        public void setFailureDelay(Duration d) { this.failureDelay = d; }
        public Duration getIdleTimeout() { return idleTimeout; }
        public void setIdleTimeout(Duration d) { this.idleTimeout = d; }
        public Duration getAbsoluteTimeout() { return absoluteTimeout; }
        public void setAbsoluteTimeout(Duration d) { this.absoluteTimeout = d; }
        public int getMaxSessions() { return maxSessions; }
        public void setMaxSessions(int maxSessions) { this.maxSessions = maxSessions; }
    }

    /** The server clock's check (LOG-03): checkpoints are not signed while the clock is known to be wrong. */
    public static class ClockSettings {
        /** Largest offset from the time source (NTP) at which checkpoints are still signed. */
        private Duration maxOffset = Duration.ofSeconds(1);
        /** Refuse to sign checkpoints unless the clock is known to be synchronised (not just "not known wrong"). */
        private boolean requireSync = false;
        /** Command that reports the clock's synchronisation, in chrony's "tracking" format. */
        private List<String> checkCommand = List.of("chronyc", "tracking");

        public Duration getMaxOffset() { return maxOffset; }
        public void setMaxOffset(Duration d) { this.maxOffset = d; }
        public boolean isRequireSync() { return requireSync; }
        public void setRequireSync(boolean requireSync) { this.requireSync = requireSync; }
        public List<String> getCheckCommand() { return checkCommand; }
        public void setCheckCommand(List<String> checkCommand) { this.checkCommand = List.copyOf(checkCommand); }
    }

    public boolean isDemo() { return demo; }
    public void setDemo(boolean demo) { this.demo = demo; }
    public String getMasterKeyPassphrase() { return masterKeyPassphrase; }
    public void setMasterKeyPassphrase(String p) { this.masterKeyPassphrase = p; }
    public Path getMasterKeyPassphraseFile() { return masterKeyPassphraseFile; }
    public void setMasterKeyPassphraseFile(Path f) { this.masterKeyPassphraseFile = f; }
    public Path getDataDir() { return dataDir; }
    public void setDataDir(Path dataDir) { this.dataDir = dataDir; }
    public java.time.LocalTime getCompactAt() { return compactAt; }
    public void setCompactAt(java.time.LocalTime t) { this.compactAt = t; }
    public Duration getKeyBackupRetention() { return keyBackupRetention; }
    public void setKeyBackupRetention(Duration d) { this.keyBackupRetention = d; }
    public Path getKeysDir() { return keysDir != null ? keysDir : dataDir.resolve("keys"); }
    public void setKeysDir(Path keysDir) { this.keysDir = keysDir; }
    public String getHost() { return host; }
    public void setHost(String host) { this.host = host; }
    public int getPort() { return port; }
    public void setPort(int port) { this.port = port; }
    public DataSize getMaxRequestSize() { return maxRequestSize; }
    public void setMaxRequestSize(DataSize maxRequestSize) { this.maxRequestSize = maxRequestSize; }
    public java.time.ZoneId getTimeZone() { return timeZone; }
    public void setTimeZone(java.time.ZoneId timeZone) { this.timeZone = timeZone; }
    public ValidationLevel getValidation() { return validation; }
    public void setValidation(ValidationLevel validation) { this.validation = validation; }
    public Db getDb() { return db; }
    public Access getAccess() { return access; }
    public Auth getAuth() { return auth; }
    public Tokens getTokens() { return tokens; }
    public Bootstrap getBootstrap() { return bootstrap; }
    public Search getSearch() { return search; }
    public String getLogFormat() { return logFormat; }
    public void setLogFormat(String logFormat) { this.logFormat = logFormat; }
    public Ledger getLedger() { return ledger; }
    public Backup getBackup() { return backup; }
    public DeviceSettings getDevices() { return devices; }
    public Incidents getIncidents() { return incidents; }
    public Phr getPhr() { return phr; }
    public Tls getTls() { return tls; }
    /** The backup target: kiroku.backup.target, or data-dir/backups. */
    public Path backupTarget() { return backup.target != null ? backup.target : dataDir.resolve("backups"); }
    public ClockSettings getClock() { return clock; }

    /** Whether the server listens with TLS (server.ssl.*, also as mapped from kiroku.tls.* by TlsSettings: a bundle, key store or certificate, not disabled; NET-03). */
    public static boolean tlsConfigured(org.springframework.core.env.Environment env) {
        boolean any = env.containsProperty("server.ssl.bundle") || env.containsProperty("server.ssl.key-store")
                || env.containsProperty("server.ssl.certificate");
        return any && env.getProperty("server.ssl.enabled", Boolean.class, true);
    }
}
