package jp.kiroku.compliance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

import jp.kiroku.access.BreakGlass;
import jp.kiroku.audit.AuditQuery;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.audit.StoredEvent;
import jp.kiroku.backup.Backups;
import jp.kiroku.devices.Devices;
import jp.kiroku.identity.Account;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.RightsRequests;
import jp.kiroku.incidents.Incidents;
import jp.kiroku.platform.ClockCheck;
import jp.kiroku.platform.KirokuProperties;

/**
 * The evidence computed from the running installation, one check per system-side requirement that has a setting or a
 * state to look at: each reads what the feature itself reads (the live settings object the login uses, the tables the
 * services keep), so the report shows what holds now. Requirements without a check here are judged by their tests.
 */
@Component
class EvidenceChecks {

    /** Accounts not used for this long are reported (AUTH-10, checklist 2-⑤). */
    static final Duration UNUSED = Duration.ofDays(90);
    /** A break-glass use waiting longer than this for review is RED (ACL-04). */
    static final Duration REVIEW_WITHIN = Duration.ofDays(7);
    /** A ledger verification older than this is AMBER (LOG-02, PRES-04). */
    static final Duration VERIFY_WITHIN = Duration.ofDays(31);
    /** A restore drill older than this is AMBER (BACKUP-01). */
    static final Duration DRILL_WITHIN = Duration.ofDays(366);
    /** Features Kiroku does not have: nothing can be computed or proven (their tests would be by other systems). */
    static final Set<String> NOT_BUILT = Set.of("ACL-05", "PRES-02", "SIGN-01", "SIGN-02", "SIGN-03", "SIGN-04", "SIGN-05",
            "SCAN-01", "SCAN-02", "SCAN-03");

    private final KirokuProperties props;
    private final Accounts accounts;
    private final BreakGlass breakGlass;
    private final Devices devices;
    private final Backups backups;
    private final ClockCheck clock;
    private final AuditTrail audit;
    private final Incidents incidents;
    private final Environment env;
    private final Clock time;
    private final RightsRequests rights;

    EvidenceChecks(KirokuProperties props, Accounts accounts, BreakGlass breakGlass, Devices devices, Backups backups,
                   ClockCheck clock, AuditTrail audit, Incidents incidents, Environment env, Clock time,
                   RightsRequests rights) {
        this.rights = rights;
        this.props = props;
        this.accounts = accounts;
        this.breakGlass = breakGlass;
        this.devices = devices;
        this.backups = backups;
        this.clock = clock;
        this.audit = audit;
        this.incidents = incidents;
        this.env = env;
        this.time = time;
    }

    /** The checks by requirement id (and DEVICES for checklist 2-①), in catalog order. */
    Map<String, Supplier<Finding>> all() {
        Map<String, Supplier<Finding>> c = new LinkedHashMap<>();
        c.put("AUTH-04", this::passwordRule);
        c.put("AUTH-06", this::lockout);
        c.put("AUTH-07", this::secondFactor);
        c.put("AUTH-09", this::idleTimeout);
        c.put("AUTH-10", this::unusedAccounts);
        c.put("ACL-02", this::rightsApproved);
        c.put("ACL-03", this::administrators);
        c.put("ACL-04", this::breakGlassReviews);
        c.put("LOG-02", this::ledgerVerified);
        c.put("LOG-03", this::clockSynchronised);
        c.put("PRES-04", this::ledgerVerified);
        c.put("BACKUP-01", this::lastBackupAndDrill);
        c.put("BACKUP-02", this::generations);
        c.put("BACKUP-03", this::writeOnce);
        c.put("BACKUP-04", this::backupTarget);
        c.put("BACKUP-05", this::masterKey);
        c.put("EXT-04", this::masterKey);
        c.put("IOT-01", this::iotDisclosures);
        c.put("IOT-03", this::firmware);
        c.put("BYOD-01", this::terminals);
        c.put("NET-03", this::tls);
        c.put("NET-04", this::tlsProtocols);
        c.put("INC-02", this::contacts);
        c.put(DEVICES, this::responsiblePersons);
        return c;
    }

    /** The check of checklist 2-① (the inventory): every device in use names a responsible person who is still here. */
    static final String DEVICES = "devices";

    private String when(Instant t) {
        return DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(zone()).format(t);
    }

    private ZoneId zone() {
        return props.getTimeZone();
    }

    private static String minutes(Duration d) {
        return d.toMinutes() + " min";
    }

    Finding passwordRule() {
        KirokuProperties.Auth a = props.getAuth();
        String rule = switch (a.getPasswordRule()) {
            case "two-factor" -> "at least 8 mixed characters for accounts with a second factor, 13 without";
            case "long" -> "at least 13 mixed characters";
            case "expiring" -> "at least 8 mixed characters, changed at least every 60 days";
            default -> null;
        };
        String ruleJa = switch (a.getPasswordRule()) {
            case "two-factor" -> "二要素認証のアカウントは英数記号混在8文字以上、それ以外は13文字以上";
            case "long" -> "英数記号混在13文字以上";
            case "expiring" -> "英数記号混在8文字以上・60日以内に変更";
            default -> null;
        };
        if (rule == null) {
            return new Finding(Status.RED, "kiroku.auth.password-rule is '" + a.getPasswordRule() + "', not a rule of the"
                    + " guideline.", "kiroku.auth.password-rule が「" + a.getPasswordRule() + "」で、ガイドラインの規則ではありません。");
        }
        String en = "kiroku.auth.password-rule=" + a.getPasswordRule() + ": " + rule + "; guessable passwords (names, birth"
                + " dates, dictionary words) are refused";
        String ja = "kiroku.auth.password-rule=" + a.getPasswordRule() + "：" + ruleJa + "。推測可能なパスワード（氏名・生年月日・辞書語）は拒否";
        if (a.getPasswordHistory() < 1) {
            return new Finding(Status.AMBER, en + "; but earlier passwords may be used again (kiroku.auth.password-history=0).",
                    ja + "。ただし過去のパスワードの再利用を禁止していません（password-history=0）。");
        }
        return new Finding(Status.GREEN, en + "; the last " + a.getPasswordHistory() + " passwords cannot be used again.",
                ja + "。直近" + a.getPasswordHistory() + "個のパスワードは再利用できません。");
    }

    Finding lockout() {
        KirokuProperties.Auth a = props.getAuth();
        if (a.getLockoutAttempts() < 1 || a.getLockoutDuration().isZero() || a.getLockoutDuration().isNegative()) {
            return new Finding(Status.RED, "No lockout after failed logins (kiroku.auth.lockout-attempts="
                    + a.getLockoutAttempts() + ", lockout-duration=" + a.getLockoutDuration() + ").",
                    "ログイン失敗によるロックが設定されていません（lockout-attempts=" + a.getLockoutAttempts() + "）。");
        }
        Status s = a.getLockoutAttempts() <= 10 ? Status.GREEN : Status.AMBER;
        return new Finding(s, "A user name is locked for " + minutes(a.getLockoutDuration()) + " after "
                + a.getLockoutAttempts() + " consecutive failed logins" + (s == Status.AMBER ? " (more than 10 attempts)" : "")
                + "; each failure delays the next attempt.",
                a.getLockoutAttempts() + "回連続でログインに失敗すると" + minutes(a.getLockoutDuration()) + "ロックします"
                        + (s == Status.AMBER ? "（10回を超える設定）" : "") + "。失敗ごとに次の試行を遅らせます。");
    }

    Finding secondFactor() {
        List<String> exempt = accounts.secondFactorExemptRoles();
        if (!exempt.isEmpty()) {
            return new Finding(Status.RED, "Two-factor authentication is NOT required for the roles " + exempt
                    + " (kiroku.auth.two-factor-exempt-roles): they log in with a password alone.",
                    "二要素認証が必須でない役割があります：" + exempt + "（kiroku.auth.two-factor-exempt-roles）。パスワードだけでログインできます。");
        }
        return new Finding(Status.GREEN, "Every role must present a second factor (TOTP authenticator or passkey) after the"
                + " password; kiroku.auth.two-factor-exempt-roles is empty.",
                "すべての役割でパスワードに加えて第二要素（認証アプリのワンタイムコードまたはパスキー）が必須です（除外する役割なし）。");
    }

    Finding idleTimeout() {
        KirokuProperties.Auth a = props.getAuth();
        Duration longest = a.getIdleTimeoutByRole().values().stream().reduce(a.getIdleTimeout(),
                (x, y) -> x.compareTo(y) >= 0 ? x : y);
        Status s = longest.compareTo(Duration.ofMinutes(15)) <= 0 ? Status.GREEN
                : longest.compareTo(Duration.ofMinutes(30)) <= 0 ? Status.AMBER : Status.RED;
        return new Finding(s, "Sessions end after " + minutes(a.getIdleTimeout()) + " without a request (longest for any"
                + " role: " + minutes(longest) + "; shared terminals " + minutes(a.getSharedTerminalIdleTimeout())
                + "), enforced by the server; at most " + a.getAbsoluteTimeout().toHours() + " h after login.",
                "操作がないまま" + minutes(a.getIdleTimeout()) + "でセッションを終了します（役割別の最長 " + minutes(longest)
                        + "、共用端末 " + minutes(a.getSharedTerminalIdleTimeout()) + "）。サーバ側で強制し、ログインから最長"
                        + a.getAbsoluteTimeout().toHours() + "時間です。");
    }

    Finding unusedAccounts() {
        List<Account> unused = accounts.list(UNUSED).stream().filter(a -> "staff".equals(a.kind())).toList();
        if (unused.isEmpty()) {
            return new Finding(Status.GREEN, "No active staff account has been unused for 90 days or more.",
                    "90日以上使われていない有効な職員アカウントはありません。");
        }
        String names = names(unused.stream().map(Account::username).toList());
        return new Finding(Status.RED, unused.size() + " active staff account(s) unused for 90 days or more: " + names
                + " (disable them: kiroku user disable).",
                "90日以上使われていない有効な職員アカウントが" + unused.size() + "件あります：" + names + "（kiroku user disable で無効化）。");
    }

    private static String names(List<String> all) {
        return all.stream().limit(10).collect(Collectors.joining(", ")) + (all.size() > 10 ? ", …" : "");
    }

    Finding administrators() {
        List<String> admins = accounts.list(null).stream().filter(a -> a.active() && a.roles().contains("admin"))
                .map(Account::username).toList();
        if (admins.isEmpty()) {
            return new Finding(Status.AMBER, "No active account has the admin role.", "admin 役割を持つ有効なアカウントがありません。");
        }
        return new Finding(Status.GREEN, admins.size() + " named administrator(s): " + names(admins)
                + "; roles change only through approved rights requests.",
                "管理者は" + admins.size() + "名（個人アカウント）：" + names(admins) + "。役割は承認された申請でのみ変わります。");
    }

    Finding rightsApproved() {
        List<RightsRequests.ReportLine> active = rights.report().stream().filter(RightsRequests.ReportLine::active).toList();
        List<String> differ = active.stream().filter(l -> l.finding() == RightsRequests.Finding.DIFFERS)
                .map(RightsRequests.ReportLine::username).toList();
        List<String> none = active.stream().filter(l -> l.finding() == RightsRequests.Finding.NO_APPROVED_REQUEST)
                .map(RightsRequests.ReportLine::username).toList();
        if (!differ.isEmpty()) {
            return new Finding(Status.RED, differ.size() + " active staff account(s) whose roles differ from their approved"
                    + " request (changed outside the workflow): " + names(differ) + ".",
                    "承認された申請と役割が異なる有効な職員アカウントが" + differ.size() + "件あります（申請外の変更）：" + names(differ) + "。");
        }
        if (!none.isEmpty()) {
            return new Finding(Status.AMBER, none.size() + " of " + active.size() + " active staff account(s) hold roles"
                    + " set at creation without an approved department request: " + names(none) + " (/console/rights).",
                    "有効な職員アカウント" + active.size() + "件のうち" + none.size() + "件は、部門の承認済み申請のない役割（作成時の設定）です："
                            + names(none) + "（/console/rights）。");
        }
        return new Finding(Status.GREEN, "Every active staff account's roles match its latest approved department request ("
                + active.size() + " accounts).", "有効な職員アカウント" + active.size() + "件すべての役割が承認された申請と一致しています。");
    }

    Finding breakGlassReviews() {
        Instant now = time.instant();
        List<BreakGlass.Use> waiting = breakGlass.uses(false, Instant.EPOCH);
        if (waiting.isEmpty()) {
            return new Finding(Status.GREEN, "Every break-glass use has been reviewed.", "緊急アクセス（ブレークグラス）の利用はすべて確認済みです。");
        }
        Instant oldest = waiting.get(0).startedAt();
        boolean late = oldest.isBefore(now.minus(REVIEW_WITHIN));
        return new Finding(late ? Status.RED : Status.AMBER, waiting.size() + " break-glass use(s) not yet reviewed, the"
                + " oldest from " + when(oldest) + (late ? " (more than 7 days ago)" : "") + ": review them at /console/break-glass.",
                "未確認の緊急アクセスが" + waiting.size() + "件あります（最も古いもの：" + when(oldest) + (late ? "、7日超過" : "")
                        + "）。/console/break-glass で確認してください。");
    }

    Finding ledgerVerified() {
        // refused attempts (no role) are audited under the same action: only verifications that ran count
        List<StoredEvent> last = audit.find(new AuditQuery(null, null, null, null, List.of("ledger.verify"),
                jp.kiroku.audit.AuditRecord.Outcome.SUCCESS.code(), null, 1));
        if (last.isEmpty()) {
            return new Finding(Status.AMBER, "The ledgers have never been verified (kiroku verify, or /console/ledger);"
                    + " the logs are append-only and ledgered.",
                    "台帳の検証がまだ一度も行われていません（kiroku verify または /console/ledger）。記録は追記のみで台帳化されています。");
        }
        StoredEvent e = last.get(0);
        if (!"ok".equals(e.detail())) {
            return new Finding(Status.RED, "The last ledger verification (" + when(e.recorded()) + ") found: " + e.detail() + ".",
                    "最後の台帳検証（" + when(e.recorded()) + "）で問題が見つかりました：" + e.detail() + "。");
        }
        boolean old = e.recorded().isBefore(time.instant().minus(VERIFY_WITHIN));
        return new Finding(old ? Status.AMBER : Status.GREEN, "Both ledgers were last verified on " + when(e.recorded())
                + ": intact" + (old ? " (more than a month ago)" : "") + ".",
                "記録・アクセス台帳の最終検証は" + when(e.recorded()) + "で、改ざんはありませんでした" + (old ? "（1か月以上前）" : "") + "。");
    }

    Finding clockSynchronised() {
        ClockCheck.State s = clock.state();
        String refusal = clock.refusal();
        if (refusal != null) {
            return new Finding(Status.RED, "Clock: " + refusal + "; checkpoints are not signed.", "時刻：" + refusal + "。チェックポイントに署名しません。");
        }
        if (!s.known()) {
            return new Finding(Status.UNKNOWN, "The clock's synchronisation cannot be asked: " + s.summary() + ".",
                    "時刻同期の状態を取得できません：" + s.summary() + "。");
        }
        return new Finding(s.synchronised() ? Status.GREEN : Status.AMBER, "Clock " + s.summary() + " (checked "
                + when(s.checked()) + ").", "時刻：" + s.summary() + "（" + when(s.checked()) + " 確認）。");
    }

    Finding lastBackupAndDrill() {
        List<Backups.Run> runs = backups.runs(1000);
        Optional<Backups.Run> verified = runs.stream().filter(r -> Boolean.TRUE.equals(r.verifiedOk()) && r.prunedAt() == null)
                .findFirst();
        Optional<Backups.Run> drilled = runs.stream().filter(r -> r.drilledAt() != null)
                .max(java.util.Comparator.comparing(Backups.Run::drilledAt));
        String drill = drilled.map(d -> "last restore drill " + when(d.drilledAt()) + " (" + d.drillDetail() + ")")
                .orElse("no restore drill recorded");
        String drillJa = drilled.map(d -> "最後の復元訓練は" + when(d.drilledAt())).orElse("復元訓練の記録なし");
        if (verified.isEmpty()) {
            return new Finding(Status.RED, "No verified backup (kiroku backup create, then kiroku backup verify); " + drill + ".",
                    "検証済みのバックアップがありません（kiroku backup create / verify）。" + drillJa + "。");
        }
        Backups.Run v = verified.get();
        Duration age = Duration.between(v.finished(), time.instant());
        if (age.compareTo(props.getBackup().getMaxAge()) > 0) {
            return new Finding(Status.RED, "The newest verified backup is from " + when(v.finished()) + ", older than"
                    + " kiroku.backup.max-age (" + props.getBackup().getMaxAge().toHours() + " h); " + drill + ".",
                    "最新の検証済みバックアップは" + when(v.finished()) + "で、許容期間（" + props.getBackup().getMaxAge().toHours()
                            + "時間）を超えています。" + drillJa + "。");
        }
        boolean drillOk = drilled.isPresent() && drilled.get().drilledAt().isAfter(time.instant().minus(DRILL_WITHIN));
        return new Finding(drillOk ? Status.GREEN : Status.AMBER, "Newest verified backup " + when(v.finished()) + " (" + v.kind()
                + ", verified " + when(v.verifiedAt()) + "); " + drill + (drillOk ? "" : ": run one (kiroku backup drill)") + ".",
                "最新の検証済みバックアップ：" + when(v.finished()) + "（" + v.kind() + "、" + when(v.verifiedAt()) + " 検証）。" + drillJa
                        + (drillOk ? "" : "：訓練を実施してください") + "。");
    }

    Finding generations() {
        long kept = backups.runs(1000).stream().filter(r -> Boolean.TRUE.equals(r.verifiedOk()) && r.prunedAt() == null).count();
        KirokuProperties.Backup b = props.getBackup();
        String keep = "daily " + b.getKeepDaily() + ", weekly " + b.getKeepWeekly() + ", monthly " + b.getKeepMonthly();
        if (kept < 2) {
            return new Finding(Status.RED, kept + " verified backup generation(s) kept (retention: " + keep + ").",
                    "保持されている検証済みバックアップは" + kept + "世代です。");
        }
        return new Finding(Status.AMBER, kept + " verified generations kept (retention: " + keep + ") by one method"
                + " (Kiroku's backup); a second method (e.g. storage snapshots, tape) is the institution's to show.",
                "検証済みバックアップ" + kept + "世代を保持（1方式：Kiroku のバックアップ）。別方式（スナップショット、テープ等）は施設で確認してください。");
    }

    Finding writeOnce() {
        if (!props.getBackup().isWriteOnce()) {
            return new Finding(Status.RED, "New backup generations are not made read-only (kiroku.backup.write-once=false),"
                    + " and Kiroku cannot see an offline copy.",
                    "バックアップを書き換え不可にしていません（kiroku.backup.write-once=false）。オフラインの複製はシステムからは確認できません。");
        }
        return new Finding(Status.AMBER, "New generations are written read-only and never rewritten or deleted by Kiroku"
                + " (kiroku.backup.write-once); whether older ones are offline or on WORM storage is for the officer.",
                "新しい世代は読み取り専用で書き込み、Kiroku は書き換え・削除しません。古い世代のオフライン保管・WORM は施設で確認してください。");
    }

    Finding backupTarget() {
        if (props.getBackup().getTarget() == null) {
            return new Finding(Status.RED, "Backups go to the data directory (kiroku.backup.target unset): one disk loss"
                    + " takes data and backups.", "バックアップ先がデータと同じディレクトリです（kiroku.backup.target 未設定）。");
        }
        Path target = props.getBackup().getTarget();
        try {
            if (Files.exists(target) && Files.getFileStore(target).equals(Files.getFileStore(props.getDataDir()))) {
                return new Finding(Status.RED, "The backup target " + target + " is on the same file system as the data.",
                        "バックアップ先 " + target + " がデータと同じファイルシステムにあります。");
            }
        } catch (IOException e) {
            return new Finding(Status.UNKNOWN, "The backup target " + target + " cannot be examined: " + e.getMessage(),
                    "バックアップ先 " + target + " を確認できません。");
        }
        return new Finding(Status.AMBER, "Backups go to " + target + ", another file system than the data; whether a copy"
                + " is kept at another site is for the officer.", "バックアップ先 " + target + " はデータと別のファイルシステムです。遠隔地の複製は施設で確認してください。");
    }

    Finding masterKey() {
        boolean trial = (props.getMasterKeyPassphrase() == null || props.getMasterKeyPassphrase().isEmpty())
                && props.getMasterKeyPassphraseFile() == null;
        if (trial) {
            return new Finding(Status.RED, "TRIAL KEYS: the master key store's passphrase is written beside it in "
                    + props.getKeysDir() + " (no KIROKU_MASTER_KEY_PASSPHRASE): encrypted data and backups are protected by"
                    + " nothing.", "試用の鍵設定です：マスター鍵のパスフレーズが鍵と同じ場所にあります（KIROKU_MASTER_KEY_PASSPHRASE 未設定）。暗号化が保護になっていません。");
        }
        Path keys = props.getKeysDir().toAbsolutePath().normalize();
        if (keys.startsWith(props.getDataDir().toAbsolutePath().normalize())) {
            return new Finding(Status.AMBER, "The master key has its own passphrase, but the keys directory " + keys
                    + " is inside the data directory.", "マスター鍵はパスフレーズで保護されていますが、鍵ディレクトリがデータディレクトリの中にあります。");
        }
        return new Finding(Status.GREEN, "Records, audit details and backups are sealed (AES-256-GCM) under data keys wrapped"
                + " by a master key with its own passphrase, kept in " + keys + ", outside the data directory.",
                "記録・監査詳細・バックアップは AES-256-GCM で暗号化され、データ鍵はパスフレーズ付きのマスター鍵（データと別の場所 " + keys + "）で保護されています。");
    }

    private List<Devices.Device> inUse() {
        return devices.list().stream().filter(d -> Set.of("registered", "active").contains(d.state())).toList();
    }

    Finding iotDisclosures() {
        List<Devices.Device> iot = inUse().stream().filter(d -> "iot".equals(d.kind())).toList();
        List<String> missing = iot.stream().filter(d -> d.mdsSds() == null || d.mdsSds().isBlank()).map(Devices.Device::id).toList();
        if (!missing.isEmpty()) {
            return new Finding(Status.RED, missing.size() + " IoT device(s) in use without the maker's MDS/SDS: " + names(missing) + ".",
                    "MDS/SDS の記録がない IoT 機器が" + missing.size() + "台あります：" + names(missing) + "。");
        }
        return new Finding(Status.GREEN, iot.size() + " IoT device(s) in use, each with the maker's MDS/SDS recorded.",
                "使用中の IoT 機器" + iot.size() + "台すべてに MDS/SDS が記録されています。");
    }

    Finding firmware() {
        List<Devices.Device> due = devices.importantUpdatesDue();
        if (!due.isEmpty()) {
            return new Finding(Status.RED, due.size() + " device(s) wait for an important firmware update: "
                    + names(due.stream().map(Devices.Device::id).toList()) + ".",
                    "重要なファームウェア更新が未適用の機器が" + due.size() + "台あります。");
        }
        return new Finding(Status.GREEN, "No registered device waits for an important firmware update.", "重要な更新が未適用の登録機器はありません。");
    }

    Finding terminals() {
        if (!props.getDevices().isTerminalRequired()) {
            return new Finding(Status.RED, "Staff may log in from any device (kiroku.devices.terminal-required=false).",
                    "職員が任意の端末からログインできます（kiroku.devices.terminal-required=false）。");
        }
        List<String> uncontrolled = props.getDevices().getAllowedByRole().entrySet().stream()
                .filter(e -> e.getValue().contains("personal-uncontrolled")).map(Map.Entry::getKey).toList();
        if (!uncontrolled.isEmpty()) {
            return new Finding(Status.AMBER, "Staff log in only from registered terminals, but the roles " + uncontrolled
                    + " may use uncontrolled personal devices.", "登録端末のみ利用可能ですが、役割 " + uncontrolled + " は管理されていない私物端末を使えます。");
        }
        return new Finding(Status.GREEN, "Staff log in only from registered, enrolled terminals; personal devices only under"
                + " MDM (kiroku.devices.terminal-required).", "職員は登録済みの端末からのみログインできます。私物端末は MDM 管理下に限ります。");
    }

    Finding tls() {
        if (KirokuProperties.tlsConfigured(env)) {
            return new Finding(Status.GREEN, "Kiroku listens with TLS (server.ssl.*) on " + props.getHost() + ".",
                    "Kiroku は TLS で待ち受けています（" + props.getHost() + "）。");
        }
        return new Finding(Status.AMBER, "Kiroku listens on loopback only (" + props.getHost() + ") without TLS, and refuses"
                + " any other address without it; other machines reach it through a TLS proxy, which the officer confirms.",
                "Kiroku は TLS なしでループバック（" + props.getHost() + "）のみで待ち受けます。他の端末からは TLS プロキシ経由となるため、施設で確認してください。");
    }

    Finding tlsProtocols() {
        if (!KirokuProperties.tlsConfigured(env)) {
            return new Finding(Status.UNKNOWN, "TLS is terminated outside Kiroku: its protocol versions cannot be seen here.",
                    "TLS は Kiroku の外で終端されているため、プロトコルの版を確認できません。");
        }
        String protocols = env.getProperty("server.ssl.enabled-protocols", "");
        if (protocols.isBlank()) {
            return new Finding(Status.AMBER, "server.ssl.enabled-protocols is not set: the Java defaults apply (TLS 1.2 and"
                    + " 1.3 on Java 17); set TLSv1.3 (or TLSv1.2,TLSv1.3).", "server.ssl.enabled-protocols が未設定です（Java の既定：TLS 1.2/1.3）。");
        }
        boolean ok = java.util.Arrays.stream(protocols.split(",")).map(String::strip).allMatch(p -> p.equals("TLSv1.3")
                || p.equals("TLSv1.2"));
        return new Finding(ok ? Status.GREEN : Status.RED, "TLS protocols: " + protocols + (ok ? "" : " (older than TLS 1.2)") + ".",
                "TLS プロトコル：" + protocols + (ok ? "" : "（TLS 1.2 未満を含む）") + "。");
    }

    Finding contacts() {
        List<Incidents.Contact> all = incidents.contacts();
        if (all.isEmpty()) {
            return new Finding(Status.RED, "No incident contacts are recorded (kiroku incident contacts add).",
                    "インシデント時の連絡先が登録されていません。");
        }
        String parties = all.stream().map(Incidents.Contact::party).distinct().collect(Collectors.joining(", "));
        return new Finding(Status.GREEN, all.size() + " incident contact(s) recorded (" + parties + ").",
                "インシデント時の連絡先が" + all.size() + "件登録されています（" + parties + "）。");
    }

    Finding responsiblePersons() {
        List<Devices.Device> used = inUse();
        List<String> gone = used.stream().filter(d -> d.responsible() == null || d.responsible().isBlank()
                || accounts.find(d.responsible().replaceFirst("^person:", "")).map(a -> !a.active()).orElse(false))
                .map(Devices.Device::id).toList();
        if (!gone.isEmpty()) {
            return new Finding(Status.RED, gone.size() + " device(s) in use without a responsible person (none named, or"
                    + " the named person's account is disabled): " + names(gone) + ".",
                    "責任者がいない使用中の機器が" + gone.size() + "台あります（未記入、または責任者のアカウントが無効）：" + names(gone) + "。");
        }
        return new Finding(Status.GREEN, used.size() + " device(s) in use in the registry, each with a responsible person.",
                "台帳の使用中の機器" + used.size() + "台すべてに責任者がいます。");
    }
}
