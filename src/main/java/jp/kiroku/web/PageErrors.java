package jp.kiroku.web;

import java.util.TreeMap;
import java.util.regex.Pattern;

import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jp.kiroku.access.BreakGlass;

/**
 * What the clinicians' pages answer when a read is refused, a record is missing or deleted, or the input is wrong:
 * the refusal page saying why — never a stack trace. A chart refused (or a break-glass that failed) offers break-glass.
 */
@ControllerAdvice(assignableTypes = {PatientPages.class, PrintPages.class, PortalPages.class, ConsentPages.class})
class PageErrors {

    private static final Pattern CHART_PATH = Pattern.compile("/patients/([^/]+)(/break-glass)?");

    @ExceptionHandler(BaseServerResponseException.class)
    String refused(BaseServerResponseException e, HttpServletRequest request, HttpServletResponse response, Model model) {
        var chart = CHART_PATH.matcher(request.getRequestURI());
        if (chart.matches() && (e.getStatusCode() == 403 || chart.group(2) != null)) {
            model.addAttribute("patientId", chart.group(1)).addAttribute("reasons", new TreeMap<>(BreakGlass.REASONS));
        }
        return page(e.getStatusCode(), e.getMessage(), response, model);
    }

    /** Bad input (a reversed period, a date that is no date): 400 with what was wrong. */
    @ExceptionHandler({IllegalArgumentException.class, MethodArgumentTypeMismatchException.class})
    String badInput(Exception e, HttpServletResponse response, Model model) {
        String message = e instanceof MethodArgumentTypeMismatchException m
                ? m.getName() + ": '" + m.getValue() + "' is not valid here" : e.getMessage();
        return page(400, message, response, model);
    }

    private static String page(int status, String message, HttpServletResponse response, Model model) {
        response.setStatus(status);
        model.addAttribute("status", status).addAttribute("message", message);
        return "patients/refused";
    }
}
