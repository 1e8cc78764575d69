package jp.kiroku.cli;

import java.time.Duration;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;

import org.springframework.context.ConfigurableApplicationContext;

import jp.kiroku.audit.Agent;
import jp.kiroku.identity.Account;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.NewAccount;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kiroku user create|list|disable|reset-password|unlock|care-units}: people's accounts (AUTH-02, AUTH-03, AUTH-06, AUTH-10). */
@Command(name = "user", mixinStandardHelpOptions = true, description = "Manage people's accounts.",
        subcommands = {UserCommands.Create.class, UserCommands.ListUsers.class, UserCommands.Disable.class,
                UserCommands.ResetPassword.class, UserCommands.Unlock.class, UserCommands.CareUnits.class})
final class UserCommands extends CommandGroup {

    static void printIssued(java.io.PrintWriter out, Accounts.Issued issued) {
        out.println("user:               " + issued.username());
        out.println("one-time password:  " + issued.oneTimePassword());
        out.println("Hand it to the person only; it is shown only now. At the first login they must change it and");
        out.println("enrol a second factor.");
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create one person's account (from HR records); prints a one-time password once.")
    static final class Create extends AdminCommand {
        @Option(names = "--username", required = true, description = "Login ID of the person, e.g. yamada.taro.")
        String username;
        @Option(names = "--name", required = true, description = "Name as written (kanji), e.g. \"山田 太郎\".")
        String name;
        @Option(names = "--kana", required = true, description = "Reading in katakana, e.g. \"ヤマダ タロウ\".")
        String kana;
        @Option(names = "--romaji", description = "Name in Latin letters.")
        String romaji;
        @Option(names = "--birth-date", description = "YYYY-MM-DD (kept out of passwords; tells one person from another).")
        LocalDate birthDate;
        @Option(names = "--kind", defaultValue = "staff", description = "staff or patient (default staff).")
        String kind;
        @Option(names = "--roles", required = true, description = "Comma separated: physician, nurse, pharmacist, clerk, admin, auditor, ...")
        String roles;
        @Option(names = "--profession", description = "Qualification: physician, nurse, pharmacist, medical-clerk, ...")
        String profession;
        @Option(names = "--department", description = "Department.")
        String department;
        @Option(names = "--facility", description = "Facility.")
        String facility;
        @Option(names = "--fhir-ref", description = "The person's FHIR resource: Practitioner/<id>, or Patient/<id> for a patient.")
        String fhirRef;
        @Option(names = "--emergency", description = "An emergency account for disasters (ACL-04): created disabled; enabled"
                + " only by 'kiroku emergency request' and a second administrator's 'approve'.")
        boolean emergency;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            List<String> roleList = Arrays.stream(roles.split("[,\\s]+")).filter(s -> !s.isEmpty()).toList();
            NewAccount account = new NewAccount(username, kind, roleList, name, kana, romaji, birthDate, profession,
                    department, facility, fhirRef);
            if (emergency) {
                String created = ctx.getBean(jp.kiroku.identity.EmergencyAccounts.class).create(account, Agent.localOperator());
                out.println("Created emergency account " + created + ", disabled (no password is known until an approved"
                        + " activation)");
                return 0;
            }
            printIssued(out, ctx.getBean(Accounts.class).create(account, Agent.localOperator()));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List accounts; --unused-days N lists active accounts not used for N days (AUTH-10).")
    static final class ListUsers extends AdminCommand {
        @Option(names = "--unused-days", description = "Only active accounts whose last login is older than this.")
        Integer unusedDays;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            Accounts accounts = ctx.getBean(Accounts.class);
            List<Account> list = accounts.list(unusedDays == null ? null : Duration.ofDays(unusedDays));
            out.printf("%-24s %-9s %-28s %-20s %s%n", "USER", "STATUS", "ROLES", "LAST LOGIN", "NAME");
            for (Account a : list) {
                out.printf("%-24s %-9s %-28s %-20s %s%n", a.username(), a.active() ? "active" : "disabled",
                        String.join(",", a.roles()), a.lastLoginAt() == null ? "never" : a.lastLoginAt().toString()
                                .substring(0, 16).replace('T', ' '), a.name());
            }
            return 0;
        }
    }

    @Command(name = "disable", mixinStandardHelpOptions = true,
            description = "Disable an account (the person left); its sessions end at once. Accounts are never deleted.")
    static final class Disable extends AdminCommand {
        @Parameters(paramLabel = "USER")
        String username;
        @Option(names = "--reason", required = true, description = "Why, e.g. \"left 2026-11-30\".")
        String reason;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            Accounts accounts = ctx.getBean(Accounts.class);
            if (!accounts.disable(username, reason, Agent.localOperator())) {
                return fail("no active account '" + username + "'");
            }
            out.println("Disabled " + username);
            return 0;
        }
    }

    @Command(name = "reset-password", mixinStandardHelpOptions = true,
            description = "Issue a new one-time password after verifying the person's identity (AUTH-03).")
    static final class ResetPassword extends AdminCommand {
        @Parameters(paramLabel = "USER")
        String username;
        @Option(names = "--verified-by", required = true,
                description = "How you verified the person's identity, e.g. \"staff ID card, in person\".")
        String verification;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            Accounts accounts = ctx.getBean(Accounts.class);
            printIssued(out, accounts.resetPassword(username, verification, Agent.localOperator()));
            return 0;
        }
    }

    @Command(name = "unlock", mixinStandardHelpOptions = true,
            description = "Lift a lockout after failed logins before it expires (AUTH-06).")
    static final class Unlock extends AdminCommand {
        @Parameters(paramLabel = "USER")
        String username;

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            Accounts accounts = ctx.getBean(Accounts.class);
            if (!accounts.unlock(username, Agent.localOperator())) {
                return fail("'" + username + "' is not locked");
            }
            out.println("Unlocked " + username);
            return 0;
        }
    }

    @Command(name = "care-units", mixinStandardHelpOptions = true,
            description = "Assign the person to departments and wards (replacing the previous assignment): the patients"
                    + " those units care for come within their reach. No units: none.")
    static final class CareUnits extends AdminCommand {
        @Parameters(index = "0", paramLabel = "USER")
        String username;
        @Parameters(index = "1..*", paramLabel = "UNIT", arity = "0..*",
                description = "Organization/id (a department), Location/id (a ward) or HealthcareService/id.")
        List<String> units = List.of();

        @Override
        int run(ConfigurableApplicationContext ctx, java.io.PrintWriter out) {
            ctx.getBean(Accounts.class).assignCareUnits(username, units, Agent.localOperator());
            out.println(username + " is assigned to " + (units.isEmpty() ? "no care unit" : String.join(", ", units)));
            return 0;
        }
    }
}
