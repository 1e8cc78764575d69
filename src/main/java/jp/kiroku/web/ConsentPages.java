package jp.kiroku.web;

import java.time.LocalDate;
import java.util.List;

import org.springframework.security.core.Authentication;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;

import jakarta.servlet.http.HttpServletRequest;
import jp.kiroku.phr.Consents;
import jp.kiroku.phr.DeletionRequests;

/**
 * The portal's consent pages (PHR-01, PHR-04): a patient grants a facility access to chosen categories of their
 * records for a purpose and a period, sees every grant (active or revoked) and revokes one; and asks for their data to
 * be deleted and follows the answer. The patient is always the signed-in account's own ({@link PortalPages#me}).
 */
@Controller
class ConsentPages {

    private final PortalPages portal;
    private final Consents consents;
    private final DeletionRequests deletions;
    private final Display show;

    ConsentPages(PortalPages portal, Consents consents, DeletionRequests deletions, jp.kiroku.platform.KirokuProperties props) {
        this.portal = portal;
        this.consents = consents;
        this.deletions = deletions;
        this.show = new Display(props.getTimeZone());
    }

    @GetMapping("/my/consents")
    String page(Authentication auth, HttpServletRequest request, Model model) {
        PortalPages.Me me = portal.me(auth, request);
        model.addAttribute("grants", consents.of(me.caller(), me.patientId()))
                .addAttribute("recipients", consents.recipients())
                .addAttribute("purposes", Consents.PURPOSES)
                .addAttribute("categories", Consents.CATEGORIES)
                .addAttribute("deletions", deletions.of(me.patientId()).stream().map(r -> new Deletion(
                        show.when(r.requestedAt()), r.state(), r.answer())).toList())
                .addAttribute("show", show);
        return "my/consents";
    }

    /** A deletion request as the patient sees it. */
    record Deletion(String when, String state, String answer) {
    }

    @PostMapping("/my/consents")
    String grant(Authentication auth, HttpServletRequest request, @RequestParam(required = false) String recipient,
                 @RequestParam(name = "category", required = false) List<String> categories,
                 @RequestParam(name = "purpose", required = false) List<String> purposes,
                 @RequestParam(required = false) String from, @RequestParam(required = false) String to, Model model) {
        PortalPages.Me me = portal.me(auth, request);
        try {
            consents.grant(me.caller(), me.patientId(), new Consents.Request(recipient, categories, purposes, day(from), day(to)));
        } catch (IllegalArgumentException e) {
            model.addAttribute("error", e.getMessage());
            return page(auth, request, model);
        }
        return "redirect:/my/consents";
    }

    @PostMapping("/my/consents/{id}/revoke")
    String revoke(Authentication auth, HttpServletRequest request, @PathVariable String id, Model model) {
        PortalPages.Me me = portal.me(auth, request);
        consents.revoke(me.caller(), me.patientId(), id);
        return "redirect:/my/consents";
    }

    @PostMapping("/my/deletion")
    String deletion(Authentication auth, HttpServletRequest request, @RequestParam(required = false) String reason,
                    Model model) {
        PortalPages.Me me = portal.me(auth, request);
        try {
            deletions.file(me.caller().agent(), me.patientId(), reason);
        } catch (IllegalArgumentException e) {
            model.addAttribute("error", e.getMessage());
            return page(auth, request, model);
        }
        return "redirect:/my/consents";
    }

    private static LocalDate day(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return LocalDate.parse(value.strip());
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("not a date (yyyy-mm-dd): " + value);
        }
    }
}
