package jp.kiroku.exchange;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import jakarta.servlet.http.HttpServletRequest;
import jp.kiroku.identity.Caller;
import jp.kiroku.platform.KirokuProperties;

/**
 * {@code POST /exchange/checkup} (issue 12, item 2): a health-check file over HTTP with a bearer token, for a
 * health-check centre's or an EMR's system client. The body is the file, read as UTF-8: {@code text/csv}
 * (docs/health-checks.md) or a 健診結果報告書 document Bundle ({@code application/fhir+json} / {@code
 * application/fhir+xml}), at most {@code kiroku.max-request-size} as for the FHIR API (413 above); {@code
 * valid-rows-only=true} writes a CSV's valid rows and reports the others. Every check is the FHIR transaction's
 * (scopes of the token, a person's roles, references, validation) and every write and refusal is audited there. The
 * answer is the import's report as JSON: 200 when imported (or nothing new), 422 when the file was refused for its bad
 * rows (nothing written), and the FHIR layer's status (400, 403, 412, 422) with its message otherwise.
 */
@RestController
class CheckupEndpoint {

    private final CheckupImport imports;
    private final long maxBytes;

    CheckupEndpoint(CheckupImport imports, KirokuProperties props) {
        this.imports = imports;
        this.maxBytes = props.getMaxRequestSize().toBytes();
    }

    @PostMapping(path = "/exchange/checkup", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Map<String, Object>> importFile(@RequestHeader(name = "Content-Type", required = false) String type,
                                                   @RequestParam(name = "valid-rows-only", defaultValue = "false")
                                                   boolean validRowsOnly, HttpServletRequest request)
            throws java.io.IOException {
        Caller caller = Caller.current(request.getRemoteAddr());
        byte[] body = request.getInputStream().readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
        if (body.length > maxBytes) { // the FHIR endpoint's limit (kiroku.max-request-size), chunked bodies included
            return ResponseEntity.status(413).body(Map.of("error", "the file is larger than " + maxBytes
                    + " bytes (kiroku.max-request-size); import it with kiroku checkup import at the server"));
        }
        CheckupImport.Format format = type != null && type.toLowerCase(java.util.Locale.ROOT).startsWith("text/csv")
                ? CheckupImport.Format.CSV : CheckupImport.Format.FHIR;
        try {
            CheckupImport.Report report = imports.importContent(caller, format,
                    new String(body, java.nio.charset.StandardCharsets.UTF_8), validRowsOnly);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("format", report.format().name().toLowerCase(java.util.Locale.ROOT));
            out.put("refused", report.refused());
            out.put("written", report.written());
            out.put("created", report.created());
            out.put("updated", report.updated());
            out.put("unchanged", report.unchanged());
            out.put("patientsCreated", report.patientsCreated());
            out.put("rejected", report.rejected().stream().map(r -> Map.of("line", r.line(), "reason", r.reason())).toList());
            out.put("notes", report.notes());
            out.put("summary", report.summary());
            return ResponseEntity.status(report.refused() ? 422 : 200).body(out);
        } catch (BaseServerResponseException e) {
            return ResponseEntity.status(e.getStatusCode()).body(Map.of("error", String.valueOf(e.getMessage())));
        }
    }
}
