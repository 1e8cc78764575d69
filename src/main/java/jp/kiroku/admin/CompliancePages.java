package jp.kiroku.admin;

import java.util.List;
import java.util.Locale;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.Authentication;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;

import jakarta.servlet.http.HttpServletRequest;
import jp.kiroku.audit.Agent;
import jp.kiroku.compliance.ComplianceReport;
import jp.kiroku.compliance.OfficerAnswers;
import jp.kiroku.platform.KirokuProperties;

/**
 * The compliance report's console page (issue 12, item 6) for the security officer (auditor role) and the
 * administrators: every checklist item and requirement with its state computed now, the evidence and the tests that
 * prove it, the report as a PDF in Japanese or English and as JSON, and the officer's answers to the questions only
 * the institution can answer (each confirmed by a current authenticator code).
 */
@Controller
class CompliancePages {

    private static final List<String> ROLES = List.of("auditor", "admin");

    private final ComplianceReport reports;
    private final OfficerAnswers answers;
    private final ConsolePeople people;
    private final KirokuProperties props;

    CompliancePages(ComplianceReport reports, OfficerAnswers answers, ConsolePeople people, KirokuProperties props) {
        this.reports = reports;
        this.answers = answers;
        this.people = people;
        this.props = props;
    }

    @GetMapping("/console/compliance")
    String page(Authentication auth, HttpServletRequest request, Locale locale, Model model) {
        Agent person = people.requireAny(auth, request, "compliance.report", ROLES);
        ComplianceReport.Report report = reports.report(person);
        model.addAttribute("report", report).addAttribute("lang", lang(locale)).addAttribute("zone", props.getTimeZone());
        return "console/compliance";
    }

    @GetMapping(path = "/console/compliance/report.pdf", produces = "application/pdf")
    ResponseEntity<byte[]> pdf(@RequestParam(defaultValue = "ja") String lang, Authentication auth, HttpServletRequest request) {
        Agent person = people.requireAny(auth, request, "compliance.report", ROLES);
        String l = "en".equals(lang) ? "en" : "ja";
        byte[] pdf = reports.pdf(reports.report(person), l);
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_PDF)
                .header("Content-Disposition", "attachment; filename=\"kiroku-compliance-" + l + ".pdf\"").body(pdf);
    }

    @GetMapping(path = "/console/compliance/report.json", produces = "application/json")
    ResponseEntity<byte[]> json(Authentication auth, HttpServletRequest request) {
        Agent person = people.requireAny(auth, request, "compliance.report", ROLES);
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON)
                .header("Content-Disposition", "attachment; filename=\"kiroku-compliance.json\"")
                .body(reports.json(reports.report(person)));
    }

    /** Records the officer's answer to a question, confirmed by a current authenticator code. */
    @PostMapping("/console/compliance/answers")
    String answer(@RequestParam String item, @RequestParam(defaultValue = "") String text,
                  @RequestParam(defaultValue = "") String otp, Authentication auth, HttpServletRequest request) {
        Agent person = people.requireAny(auth, request, "compliance.answer", ROLES);
        if (text.isBlank()) { // refused before the code is checked, so that an empty answer does not spend it
            throw new IllegalArgumentException("an answer needs text");
        }
        people.reauthenticate(person, otp, "compliance.answer");
        OfficerAnswers.Answer a = answers.answer(item, text, person);
        return "redirect:/console/compliance#answer-" + a.item();
    }

    private static String lang(Locale locale) {
        return locale != null && "en".equals(locale.getLanguage()) ? "en" : "ja";
    }
}
