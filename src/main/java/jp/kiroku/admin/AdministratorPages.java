package jp.kiroku.admin;

import java.util.List;

import org.springframework.security.core.Authentication;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;

import jakarta.servlet.http.HttpServletRequest;
import jp.kiroku.access.AccessMatrix;
import jp.kiroku.audit.Agent;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.backup.Backups;
import jp.kiroku.devices.Devices;
import jp.kiroku.identity.Account;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.ClientRegistry;
import jp.kiroku.incidents.OperatingMode;
import jp.kiroku.platform.KirokuProperties;

/**
 * The administrators' console pages (issue 11, item 3; role admin): people's accounts — find, and disable one (their
 * sessions and tokens end at once) — the API clients, the role × category matrix, the devices, the backups, and the
 * business-continuity mode (read-only / isolate, BCP).
 * Changes are confirmed with a current authenticator code and audited.
 */
@Controller
class AdministratorPages {

    /** At most this many accounts a search lists. */
    static final int ACCOUNTS_LIMIT = 200;

    private final ConsolePeople people;
    private final Accounts accounts;
    private final ClientRegistry clients;
    private final OperatingMode modes;
    private final AuditTrail audit;
    private final KirokuProperties props;

    private final AccessMatrix matrix;
    private final Devices devices;
    private final Backups backups;
    private final jp.kiroku.retention.Retention retention;
    private final jp.kiroku.crypto.KeyProvider master;
    private final jp.kiroku.crypto.DataKeys dataKeys;
    private final jp.kiroku.crypto.BlindIndex blindIndex;

    AdministratorPages(ConsolePeople people, Accounts accounts, ClientRegistry clients, OperatingMode modes,
                       AuditTrail audit, KirokuProperties props, AccessMatrix matrix, Devices devices, Backups backups,
                       jp.kiroku.retention.Retention retention, jp.kiroku.crypto.KeyProvider master,
                       jp.kiroku.crypto.DataKeys dataKeys, jp.kiroku.crypto.BlindIndex blindIndex) {
        this.retention = retention;
        this.master = master;
        this.dataKeys = dataKeys;
        this.blindIndex = blindIndex;
        this.matrix = matrix;
        this.devices = devices;
        this.backups = backups;
        this.people = people;
        this.accounts = accounts;
        this.clients = clients;
        this.modes = modes;
        this.audit = audit;
        this.props = props;
    }

    /** Accounts whose login id, name or kana contains {@code q} (all when empty), at most {@link #ACCOUNTS_LIMIT}. */
    @GetMapping("/console/users")
    String users(@RequestParam(defaultValue = "") String q, Authentication auth, HttpServletRequest request, Model model) {
        Agent admin = people.require(auth, request, "account.list", "admin");
        List<Account> found = accounts.search(q.strip(), ACCOUNTS_LIMIT);
        audit.record(AuditRecord.of(admin, "account.list", AuditRecord.Outcome.SUCCESS).withDetail(found.size() + " accounts"));
        model.addAttribute("accounts", found).addAttribute("q", q).addAttribute("zone", props.getTimeZone());
        return "console/users";
    }

    /** Disables an account (the person left, or the account is misused): logins, sessions and tokens end now. */
    @PostMapping("/console/users/{username}/disable")
    String disable(@PathVariable String username, @RequestParam(defaultValue = "") String reason,
                   @RequestParam(defaultValue = "") String otp, Authentication auth, HttpServletRequest request) {
        Agent admin = people.require(auth, request, "account.disable", "admin");
        if (reason.isBlank()) { // refused before the code is checked, so that it is not spent
            throw new IllegalArgumentException("say why the account is disabled (e.g. \"退職 2026-12-31\")");
        }
        if (admin.id().equalsIgnoreCase(username)) {
            throw new IllegalArgumentException("an administrator does not disable their own account here");
        }
        people.reauthenticate(admin, otp, "account.disable");
        if (!accounts.disable(username, reason.strip(), admin)) {
            throw new IllegalArgumentException("no active account " + username);
        }
        return "redirect:/console/users?q=" + java.net.URLEncoder.encode(username, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The API clients (systems and apps) and whether each is active. */
    @GetMapping("/console/clients")
    String clients(Authentication auth, HttpServletRequest request, Model model) {
        Agent admin = people.require(auth, request, "client.list", "admin");
        var list = clients.list();
        audit.record(AuditRecord.of(admin, "client.list", AuditRecord.Outcome.SUCCESS).withDetail(list.size() + " clients"));
        model.addAttribute("clients", list).addAttribute("zone", props.getTimeZone());
        return "console/clients";
    }

    /** The role × information-category matrix (ACL-01) as it holds now: per cell, the actions and their reach. */
    @GetMapping("/console/matrix")
    String matrix(Authentication auth, HttpServletRequest request, Model model) {
        Agent admin = people.require(auth, request, "access.matrix", "admin");
        java.util.Map<String, java.util.Map<String, String>> cells = new java.util.HashMap<>();
        for (AccessMatrix.Rule r : matrix.rules()) {
            cells.computeIfAbsent(r.role(), k -> new java.util.HashMap<>())
                    .merge(r.category(), r.action() + " (" + r.reach() + ")", (a, b) -> a + ", " + b);
        }
        audit.record(AuditRecord.of(admin, "access.matrix", AuditRecord.Outcome.SUCCESS));
        model.addAttribute("roles", matrix.roles()).addAttribute("categories", matrix.categories())
                .addAttribute("cells", cells);
        return "console/matrix";
    }

    /** The device registry (terminals, IoT devices lent to patients): state, management, last seen. */
    @GetMapping("/console/devices")
    String devices(Authentication auth, HttpServletRequest request, Model model) {
        Agent admin = people.require(auth, request, "device.list", "admin");
        var list = devices.list();
        audit.record(AuditRecord.of(admin, "device.list", AuditRecord.Outcome.SUCCESS).withDetail(list.size() + " devices"));
        model.addAttribute("devices", list).addAttribute("zone", props.getTimeZone());
        return "console/devices";
    }

    /** The newest backups: where, when, how big, verified, drilled (BACKUP-01..03). */
    @GetMapping("/console/backups")
    String backups(Authentication auth, HttpServletRequest request, Model model) {
        Agent admin = people.require(auth, request, "backup.list", "admin");
        var runs = backups.runs(50);
        audit.record(AuditRecord.of(admin, "backup.list", AuditRecord.Outcome.SUCCESS).withDetail(runs.size() + " backups"));
        model.addAttribute("runs", runs).addAttribute("zone", props.getTimeZone())
                .addAttribute("maxAge", props.getBackup().getMaxAge());
        return "console/backups";
    }

    /** The facilities and their kind (what the retention rules go by). */
    @GetMapping("/console/facilities")
    String facilities(Authentication auth, HttpServletRequest request, Model model) {
        Agent admin = people.require(auth, request, "facility.list", "admin");
        var list = retention.facilities();
        audit.record(AuditRecord.of(admin, "facility.list", AuditRecord.Outcome.SUCCESS).withDetail(list.size() + " facilities"));
        model.addAttribute("facilities", list);
        return "console/facilities";
    }

    /**
     * The keys (issue 7): the master key in use and those still held (a rotation not finished keeps the old one), the
     * data keys still wrapped under an older master key, and the generations of the search index key with their
     * re-indexing progress. No key material is shown.
     */
    @GetMapping("/console/keys")
    String keys(Authentication auth, HttpServletRequest request, Model model) {
        Agent admin = people.require(auth, request, "keys.status", "admin");
        audit.record(AuditRecord.of(admin, "keys.status", AuditRecord.Outcome.SUCCESS));
        model.addAttribute("master", master.masterKeyId()).addAttribute("held", master.masterKeyIds())
                .addAttribute("toRewrap", master.masterKeyIds().size() > 1 ? dataKeys.toRewrap() : 0L)
                .addAttribute("wrapped", dataKeys.wrappedLeft()).addAttribute("index", blindIndex.list());
        return "console/keys";
    }

    /** The operating mode (BCP-02): normal, read-only (writes refused) or isolate (also only this host served). */
    @GetMapping("/console/mode")
    String mode(Authentication auth, HttpServletRequest request, Model model) {
        people.require(auth, request, "mode.show", "admin");
        model.addAttribute("mode", modes.current()).addAttribute("zone", props.getTimeZone());
        return "console/mode";
    }

    @PostMapping("/console/mode")
    String setMode(@RequestParam String mode, @RequestParam(defaultValue = "") String reason,
                   @RequestParam(defaultValue = "") String otp, Authentication auth, HttpServletRequest request) {
        Agent admin = people.require(auth, request, "mode.set", "admin");
        if (!mode.equals("normal") && reason.isBlank()) {
            throw new IllegalArgumentException("say why (e.g. \"ランサムウェア感染の疑い\"): it is shown to every refused client");
        }
        people.reauthenticate(admin, otp, "mode.set");
        modes.set(mode, reason, admin);
        return "redirect:/console/mode";
    }
}
