package jp.kiroku.identity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.http.HttpServletResponse;

/** 401/403 bodies as a FHIR OperationOutcome, written before the FHIR layer (and HAPI) is reached. */
final class OperationOutcomeErrors {

    private OperationOutcomeErrors() {
    }

    static void write(HttpServletResponse response, int status, String code, String message) throws IOException {
        if (response.isCommitted()) {
            return;
        }
        response.setStatus(status);
        response.setContentType("application/fhir+json;charset=UTF-8");
        String json = "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"" + code
                + "\",\"diagnostics\":\"" + message.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}]}";
        response.getOutputStream().write(json.getBytes(StandardCharsets.UTF_8));
    }
}
