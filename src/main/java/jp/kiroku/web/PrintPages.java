package jp.kiroku.web;

import java.time.LocalDate;
import java.time.ZoneId;
import java.util.List;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.Authentication;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;

import jakarta.servlet.http.HttpServletRequest;
import jp.kiroku.fhir.Interactions;
import jp.kiroku.identity.Caller;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.render.ChartPdf;
import jp.kiroku.render.ChartPrint;
import jp.kiroku.render.Charts;
import jp.kiroku.store.RecordStore;

/**
 * Printing from the pages (issue 11, item 2; READ-01): the chart — whole or the versions recorded in a period — and
 * one record with all its versions, as PDF with versions, authors, the patient on every page and the ledger
 * checkpoint. What is printed is what the person may read ({@link Interactions#printable}), audited as print.
 */
@Controller
class PrintPages {

    private final Interactions fhir;
    private final Charts charts;
    private final ZoneId zone;

    PrintPages(Interactions fhir, Charts charts, KirokuProperties props) {
        this.fhir = fhir;
        this.charts = charts;
        this.zone = props.getTimeZone();
    }

    /** The chart as PDF; {@code from}/{@code to} (dates, inclusive) keep the versions recorded in that period. */
    @GetMapping("/patients/{id}/print.pdf")
    ResponseEntity<byte[]> chart(@PathVariable String id, @RequestParam(required = false) LocalDate from,
                                 @RequestParam(required = false) LocalDate to, Authentication auth,
                                 HttpServletRequest request) {
        if (from != null && to != null && to.isBefore(from)) {
            throw new IllegalArgumentException("the period ends (" + to + ") before it starts (" + from + ")");
        }
        Caller caller = PatientPages.caller(auth, request);
        List<RecordStore.AuthoredVersion> versions = fhir.printable(caller, id,
                from == null ? null : from.atStartOfDay(zone).toInstant(),
                to == null ? null : to.plusDays(1).atStartOfDay(zone).toInstant());
        String scope = from == null && to == null ? "全記録・全版 (the whole chart, every version)"
                : "記録日時 (recorded) " + (from == null ? "" : from) + " 〜 " + (to == null ? "" : to);
        return pdf(charts.printout(ChartPrint.Purpose.CHART, charts.patient(id).orElse(null), scope, versions, 0,
                caller.agent()), "chart-" + id);
    }

    /** One record, every version, as PDF. */
    @GetMapping("/patients/{patient}/history/{type}/{id}/print.pdf")
    ResponseEntity<byte[]> record(@PathVariable String patient, @PathVariable String type, @PathVariable String id,
                                  Authentication auth, HttpServletRequest request) {
        Caller caller = PatientPages.caller(auth, request);
        List<RecordStore.AuthoredVersion> versions = fhir.printable(caller, type, id);
        String owner = versions.get(versions.size() - 1).version().patientKey();
        return pdf(charts.printout(ChartPrint.Purpose.CHART, owner == null ? null : charts.patient(owner).orElse(null),
                type + "/" + id + " 全版 (every version)", versions, 0, caller.agent()), type + "-" + id);
    }

    private static ResponseEntity<byte[]> pdf(ChartPrint print, String name) {
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_PDF)
                .header("Content-Disposition", "inline; filename=\"" + name.replaceAll("[^A-Za-z0-9._-]", "_") + ".pdf\"")
                .header("Cache-Control", "no-store").body(ChartPdf.pdf(print));
    }

}
