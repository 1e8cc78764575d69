package jp.kiroku.admin;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.ExceptionHandler;

/**
 * Bad input on the consoles' pages — an alert or incident that does not exist, a field out of its values, a date that
 * is no date — answered 400 with what was wrong, never a stack trace.
 */
@ControllerAdvice(assignableTypes = {ConsolePages.class, AdministratorPages.class, RightsPages.class, CompliancePages.class})
class ConsoleErrors {

    @ExceptionHandler(IllegalArgumentException.class)
    ResponseEntity<String> badRequest(IllegalArgumentException e) {
        return ResponseEntity.badRequest().contentType(MediaType.TEXT_PLAIN).body(e.getMessage());
    }
}
