package jp.kiroku.web;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.security.core.Authentication;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;

import jakarta.servlet.http.HttpServletRequest;
import jp.kiroku.fhir.Interactions;
import jp.kiroku.identity.Accounts;
import jp.kiroku.identity.Caller;
import jp.kiroku.platform.KirokuProperties;
import jp.kiroku.store.RecordStore;

/**
 * The clinicians' pages (issue 11, item 1): patient search and the patient's chart, in the signed-in person's session.
 * Every read goes through {@link Interactions}, so a page shows exactly what the person's roles, facility, care
 * relationships and the patient's consents allow over the API — hidden patients are not found, a chart outside the
 * person's reach is refused (403, audited) — and every page view is in the access log.
 */
@Controller
class PatientPages {

    /** At most this many patients a search shows: finding a patient, not browsing the register. */
    static final int SEARCH_LIMIT = 50;
    /** A chart is read in pages of the API's largest page. */
    private static final int CHART_PAGE = 1000;

    private final Interactions fhir;
    private final Accounts accounts;
    private final Display show;
    private final ca.uhn.fhir.context.FhirContext ctx;

    PatientPages(Interactions fhir, Accounts accounts, KirokuProperties props, ca.uhn.fhir.context.FhirContext ctx) {
        this.fhir = fhir;
        this.accounts = accounts;
        this.ctx = ctx;
        this.show = new Display(props.getTimeZone());
    }

    /** A patient's search row. */
    record Found(String id, String name, String kana, String birthDate, String gender, List<String> identifiers) {
    }

    /**
     * Finds patients by name (kanji, hiragana or katakana; the start of the family or given name), birth date,
     * a patient number (any identifier) or an insurance number (a Coverage's identifier naming the patient).
     */
    @GetMapping("/patients")
    String search(@RequestParam(defaultValue = "") String name, @RequestParam(defaultValue = "") String birthdate,
                  @RequestParam(defaultValue = "") String number, @RequestParam(defaultValue = "") String insurance,
                  Authentication auth, HttpServletRequest request, Model model) {
        Caller caller = caller(auth, request);
        Map<String, List<String>> params = new LinkedHashMap<>();
        if (!name.isBlank()) { // "ヤマダ ハナ": every word starts a part of the same name (repeated = AND)
            params.put("name", List.of(name.strip().split("[\\s\u3000]+")));
        }
        put(params, "birthdate", birthdate);
        put(params, "identifier", number);
        put(params, "_has:Coverage:beneficiary:identifier", insurance);
        model.addAttribute("name", name).addAttribute("birthdate", birthdate).addAttribute("number", number)
                .addAttribute("insurance", insurance).addAttribute("searched", !params.isEmpty());
        banner(caller, model);
        if (params.isEmpty()) { // no criteria, no list: a search is for one patient
            model.addAttribute("patients", List.of());
            return "patients/search";
        }
        params.put("_count", List.of(Integer.toString(SEARCH_LIMIT)));
        Bundle found = fhir.search(caller, "Patient", params);
        List<Found> patients = new ArrayList<>();
        for (Bundle.BundleEntryComponent e : found.getEntry()) {
            if (e.getResource() instanceof Patient p) {
                patients.add(new Found(p.getIdElement().getIdPart(), Display.name(p), Display.kana(p),
                        p.hasBirthDate() ? p.getBirthDateElement().getValueAsString() : "",
                        p.hasGender() ? p.getGender().toCode() : "",
                        p.getIdentifier().stream().map(i -> i.getValue()).filter(v -> v != null).toList()));
            }
        }
        model.addAttribute("patients", patients).addAttribute("total", found.getTotal());
        return "patients/search";
    }

    /** The chart: everything of the patient the person may see, read page by page, audited as {@code chart}. */
    @GetMapping("/patients/{id}")
    String chart(@PathVariable String id, Authentication auth, HttpServletRequest request, Model model) {
        Caller caller = caller(auth, request);
        banner(caller, model);
        List<Resource> resources = allPages(params -> fhir.chart(caller, id, params));
        Chart chart = Chart.of(resources, fhir.authored(Chart.versionKeys(resources)), personNames(), show);
        model.addAttribute("chart", chart);
        return "patients/chart";
    }

    /** How many versions the history page lists (a record changed more often shows its newest). */
    static final int HISTORY_LIMIT = 100;

    /**
     * A record's versions (who, when, status) and two of them side by side: {@code from} and {@code to} (version
     * numbers; by default the one before the newest, and the newest).
     */
    @GetMapping("/patients/{patient}/history/{type}/{id}")
    String history(@PathVariable String patient, @PathVariable String type, @PathVariable String id,
                   @RequestParam(required = false) Integer from, @RequestParam(required = false) Integer to,
                   Authentication auth, HttpServletRequest request, Model model) {
        Caller caller = caller(auth, request);
        banner(caller, model);
        if (ctx.getResourceTypes().stream().noneMatch(type::equals)) {
            throw new ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException("Unknown resource type: " + type);
        }
        List<Resource> versions = fhir.history(caller, type, id, HISTORY_LIMIT);
        Map<RecordStore.VersionKey, RecordStore.Authored> authored = fhir.authored(Chart.versionKeys(versions));
        List<Chart.Item> rows = new ArrayList<>();
        Map<Integer, Resource> byVersion = new LinkedHashMap<>();
        var people = personNames();
        for (Resource r : versions) {
            byVersion.put(Chart.versionKey(r).versionId(), r);
            rows.add(Chart.entry(r, authored, people, show));
        }
        int newest = byVersion.keySet().stream().max(Integer::compare).orElseThrow();
        int b = to != null && byVersion.containsKey(to) ? to : newest;
        int a = from != null && byVersion.containsKey(from) ? from : byVersion.keySet().stream().filter(v -> v < b)
                .max(Integer::compare).orElse(b);
        model.addAttribute("patientId", patient).addAttribute("ref", type + "/" + id).addAttribute("type", type)
                .addAttribute("rid", id).addAttribute("versions", rows)
                .addAttribute("from", a).addAttribute("to", b)
                .addAttribute("diff", VersionDiff.of(json(byVersion.get(a)), json(byVersion.get(b))));
        return "patients/history";
    }

    /**
     * Confirms (確定) or approves (a proxy entry made for this person) the version the person saw on the chart; the
     * same rules as {@code $confirm}, refusals on the refusal page.
     */
    @PostMapping("/patients/{patient}/confirm")
    String confirm(@PathVariable String patient, @RequestParam String type, @RequestParam String id,
                   @RequestParam int version, Authentication auth, HttpServletRequest request) {
        fhir.confirm(caller(auth, request), type, id, version);
        return "redirect:/patients/" + patient;
    }

    /** An entry on the worklist: whose chart it is in, and the entry. */
    record WorkItem(String patientId, Chart.Item item) {
    }

    /** The proxy entries awaiting the person's approval (INTEG-04), oldest first, each with its approve button. */
    @GetMapping("/worklist")
    String worklist(Authentication auth, HttpServletRequest request, Model model) {
        Caller caller = caller(auth, request);
        banner(caller, model);
        List<Resource> entries = fhir.unapproved(caller);
        var authored = fhir.authored(Chart.versionKeys(entries));
        var people = personNames();
        model.addAttribute("entries", entries.stream().map(r -> new WorkItem(Display.patientOf(r, ctx),
                Chart.entry(r, authored, people, show))).toList());
        return "patients/worklist";
    }

    @PostMapping("/worklist/approve")
    String approve(@RequestParam String type, @RequestParam String id, @RequestParam int version, Authentication auth,
                   HttpServletRequest request) {
        fhir.confirm(caller(auth, request), type, id, version);
        return "redirect:/worklist";
    }

    /** A version as FHIR JSON for the comparison; a deletion compares as nothing. */
    private String json(Resource r) {
        return isTombstone(r) ? null : ctx.newJsonParser().encodeResourceToString(r);
    }

    private static boolean isTombstone(Resource r) {
        return ca.uhn.fhir.model.api.ResourceMetadataKeyEnum.ENTRY_TRANSACTION_METHOD.get(r)
                == ca.uhn.fhir.model.valueset.BundleEntryTransactionMethodEnum.DELETE;
    }

    /** "Name（username）" of the people the page names, looked up once each. */
    private java.util.function.Function<String, String> personNames() {
        Map<String, String> names = new HashMap<>();
        return username -> names.computeIfAbsent(username, u -> accounts.find(u).map(a -> a.name() + "（" + u + "）").orElse(u));
    }

    /**
     * Break-glass from the page (ACL-04): the reason, why in words, and a current authenticator code; then the chart,
     * with the banner. Refusals (a wrong code, no reason) come back to the refusal page with the form.
     */
    @PostMapping("/patients/{id}/break-glass")
    String breakGlass(@PathVariable String id, @RequestParam(defaultValue = "") String reason,
                      @RequestParam(defaultValue = "") String text, @RequestParam(defaultValue = "") String otp,
                      Authentication auth, HttpServletRequest request) {
        fhir.openBreakGlass(caller(auth, request), id, reason, text, otp.replace(" ", ""));
        return "redirect:/patients/" + id;
    }

    /** The signed-in person of a page request, as the FHIR interactions see them. */
    static Caller caller(Authentication auth, HttpServletRequest request) {
        return Interactions.person(auth.getName().toLowerCase(Locale.ROOT), request.getRemoteAddr());
    }

    /**
     * Every entry of a paged read (a chart: $everything as the person), page after page of the API's largest page
     * (1000), following each page's next link.
     */
    static List<Resource> allPages(java.util.function.Function<Map<String, List<String>>, Bundle> read) {
        List<Resource> out = new ArrayList<>();
        Map<String, List<String>> params = new HashMap<>(Map.of("_count", List.of(Integer.toString(CHART_PAGE))));
        while (params != null) {
            Bundle page = read.apply(params);
            page.getEntry().forEach(e -> out.add(e.getResource()));
            params = next(page);
        }
        return out;
    }

    /** The break-glass banner: shown on every page while the person has patients opened so. */
    private void banner(Caller caller, Model model) {
        Set<String> opened = fhir.breakGlassPatients(caller);
        model.addAttribute("breakGlass", opened);
    }

    /** The parameters of the bundle's next page, or null on the last one. */
    private static Map<String, List<String>> next(Bundle page) {
        Bundle.BundleLinkComponent next = page.getLink("next");
        if (next == null || next.getUrl() == null || !next.getUrl().contains("?")) {
            return null;
        }
        Map<String, List<String>> params = new HashMap<>();
        for (String pair : next.getUrl().substring(next.getUrl().indexOf('?') + 1).split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                params.computeIfAbsent(java.net.URLDecoder.decode(pair.substring(0, eq), java.nio.charset.StandardCharsets.UTF_8),
                        k -> new ArrayList<>()).add(java.net.URLDecoder.decode(pair.substring(eq + 1),
                        java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        return params;
    }

    private static void put(Map<String, List<String>> params, String name, String value) {
        if (!value.isBlank()) {
            params.put(name, List.of(value.strip()));
        }
    }
}
