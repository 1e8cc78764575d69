package jp.kiroku.web;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.Authentication;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.server.ResponseStatusException;

import ca.uhn.fhir.context.FhirContext;
import jakarta.servlet.http.HttpServletRequest;
import jp.kiroku.audit.AuditQuery;
import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.audit.StoredEvent;
import jp.kiroku.fhir.Interactions;
import jp.kiroku.identity.Account;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.Caller;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.render.ChartPdf;
import jp.kiroku.render.ChartPrint;
import jp.kiroku.render.Charts;
import jp.kiroku.store.RecordStore;

/**
 * The patients' portal (PHR; issue 12, item 1): a patient signed in with their second factor sees their own records —
 * allergies, medications, problems, results with reference ranges and trends — downloads everything as FHIR JSON and
 * as PDF (PHR-03), and sees who looked at their record. Which patient is always the account's own (its FHIR
 * reference), never a request parameter; what is shown is what the patient role may read of it (records not yet told
 * to the patient, and sensitive ones, are not), through {@link Interactions} and audited like every read.
 */
@Controller
class PortalPages {

    /** The most access-log events the page lists, newest first. */
    static final int ACCESS_LOG_LIMIT = 200;

    private final Interactions fhir;
    private final Accounts accounts;
    private final AuditTrail audit;
    private final Charts charts;
    private final FhirContext ctx;
    private final KirokuProperties props;
    private final Display show;

    PortalPages(Interactions fhir, Accounts accounts, AuditTrail audit, Charts charts, FhirContext ctx,
                KirokuProperties props) {
        this.fhir = fhir;
        this.accounts = accounts;
        this.audit = audit;
        this.charts = charts;
        this.ctx = ctx;
        this.props = props;
        this.show = new Display(props.getTimeZone());
    }

    /** A patient signed in: the caller and their own patient id. */
    record Me(Caller caller, String patientId) {
    }

    @GetMapping("/my")
    String records(Authentication auth, HttpServletRequest request, Model model) {
        Me me = me(auth, request);
        List<Resource> resources = PatientPages.allPages(params -> fhir.chart(me.caller(), me.patientId(), params));
        // health-check results have a section of their own (by item, with trends); the rest is the chart's
        List<Resource> others = resources.stream().filter(r -> !(r instanceof org.hl7.fhir.r4.model.Observation o
                && CheckupResults.isCheckupResult(o))).toList();
        Chart chart = Chart.of(others, fhir.authored(Chart.versionKeys(others)), username -> accounts.find(username)
                .map(Account::name).orElse(username), show);
        model.addAttribute("chart", chart);
        model.addAttribute("checkups", CheckupResults.of(resources, show));
        return "my/records";
    }

    /** Everything the patient may read of their own record, as a FHIR collection Bundle (PHR-03). */
    @GetMapping(path = "/my/records.json")
    ResponseEntity<String> json(Authentication auth, HttpServletRequest request) {
        Me me = me(auth, request);
        Bundle out = new Bundle().setType(Bundle.BundleType.COLLECTION);
        PatientPages.allPages(params -> fhir.download(me.caller(), me.patientId(), params)).forEach(r -> out.addEntry().setFullUrl(r.fhirType() + "/" + r.getIdElement().getIdPart())
                .setResource(r));
        return ResponseEntity.ok().contentType(MediaType.parseMediaType("application/fhir+json;charset=UTF-8"))
                .header("Content-Disposition", "attachment; filename=\"kiroku-my-records.json\"")
                .body(ctx.newJsonParser().setPrettyPrint(true).encodeResourceToString(out));
    }

    /** The same as a PDF: every version of what the patient may read, with the ledger checkpoint. */
    @GetMapping(path = "/my/records.pdf")
    ResponseEntity<byte[]> pdf(Authentication auth, HttpServletRequest request) {
        Me me = me(auth, request);
        List<RecordStore.AuthoredVersion> versions = fhir.printable(me.caller(), me.patientId(), null, null);
        ChartPrint print = charts.printout(ChartPrint.Purpose.CHART, charts.patient(me.patientId()).orElse(null),
                "本人による取得 (the patient's own copy)", versions, 0, me.caller().agent());
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_PDF)
                .header("Content-Disposition", "attachment; filename=\"kiroku-my-records.pdf\"").body(ChartPdf.pdf(print));
    }

    /** One access to the patient's record by someone else, as the patient is shown it. */
    record Access(String when, String who, String role, String facility, String action, String purpose) {
    }

    /**
     * Who looked at my record: every access by someone else (staff, systems) from the audit ledger, newest first —
     * role, facility, what, when, why; names only where the facility's policy says so (kiroku.phr.show-staff-names).
     */
    @GetMapping("/my/access")
    String access(Authentication auth, HttpServletRequest request, Model model) {
        Me me = me(auth, request);
        String self = me.caller().agent().id();
        boolean names = props.getPhr().isShowStaffNames();
        Map<String, Account> staff = new HashMap<>();
        List<Access> rows = new ArrayList<>();
        for (StoredEvent e : audit.find(new AuditQuery(me.patientId(), null, null, null, List.of(), "success", null,
                ACCESS_LOG_LIMIT))) {
            if (self.equals(e.agentId())) {
                continue;
            }
            Account a = "user".equals(e.agentKind()) ? staff.computeIfAbsent(e.agentId(),
                    id -> accounts.find(id).orElse(null)) : null;
            rows.add(new Access(show.when(e.recorded()), a == null ? e.agentId() : names ? a.name() : null,
                    e.agentRole() != null ? e.agentRole() : a == null ? e.agentKind() : String.join(",", a.roles()),
                    a == null ? null : a.facility(), e.action(), e.purpose()));
        }
        audit.record(AuditRecord.of(me.caller().agent(), "phr.access-log", AuditRecord.Outcome.SUCCESS)
                .on("Patient", me.patientId(), null, me.patientId()).withDetail(rows.size() + " accesses"));
        model.addAttribute("accesses", rows).addAttribute("names", names);
        return "my/access";
    }

    /** The signed-in patient; a staff account (or a patient account without its record) is refused, audited. */
    Me me(Authentication auth, HttpServletRequest request) {
        Caller caller = PatientPages.caller(auth, request);
        Account a = accounts.activeAccount(caller.agent().id()).orElse(null);
        if (a == null || !"patient".equals(a.kind()) || a.fhirRef() == null || !a.fhirRef().startsWith("Patient/")) {
            audit.record(AuditRecord.of(caller.agent(), "phr.open", AuditRecord.Outcome.DENIED)
                    .withDetail("not a patient's own account"));
            throw new ResponseStatusException(HttpStatus.FORBIDDEN, "the portal is for patients' own accounts");
        }
        return new Me(caller, a.fhirRef().substring("Patient/".length()));
    }
}
