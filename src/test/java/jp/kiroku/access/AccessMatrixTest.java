package jp.kiroku.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.audit.Agent;
import jp.kiroku.store.Placement;
import jp.kiroku.support.ServerTest;

/**
 * The shipped role × information-category matrix (ACL-01), checked cell by cell against the table in
 * docs/operations.md: for every role, category and interaction, a record of a patient in the person's care, of a
 * patient not in their care, of another facility, and (patients) their own. Care relationships are real: an
 * Encounter written through the FHIR API.
 */
@Tag("ACL-01")
class AccessMatrixTest extends ServerTest {

    /** docs/operations.md, "The default matrix": r = read and search, w = create, update and delete, c = confirm. */
    private static final String DOCUMENTED = """
            role             demographics encounters clinical orders results nursing billing sensitive undisclosed audit directory reach
            physician        rw           rw         rwc      rwc    rwc     r       -       rwc       rwc         -     r         care
            dentist          rw           rw         rwc      rwc    rwc     -       -       -         rwc         -     r         care
            nurse            r            rw         r        r      rw      rwc     -       -         r           -     r         care
            pharmacist       r            -          r        rw     r       r       -       -         r           -     r         care
            technician       r            -          -        r      rwc     -       -       -         r           -     r         care
            therapist        r            -          rw       r      r       -       -       -         r           -     r         care
            dietitian        r            -          r        rw     r       -       -       -         r           -     r         care
            doctor-assistant r            r          rw       rw     r       -       -       -         rw          -     r         care
            clerk            rw           rw         -        -      -       -       rw      -         -           -     r         facility
            admin            -            -          -        -      -       -       -       -         -           -     rw        facility
            auditor          -            -          -        -      -       -       -       -         -           r     r         facility
            patient          r            r          r        r      r       r       r       -         -           -     r         self
            """;

    private static final List<String> INTERACTIONS = List.of("read", "search", "create", "update", "delete", "confirm");

    record Cell(String role, String category, String interaction, boolean allowed, String reach) {
        @Override
        public String toString() {
            return role + " " + interaction + " " + category + " → " + (allowed ? "allow (" + reach + ")" : "deny");
        }
    }

    static Stream<Cell> cells() {
        List<String> lines = DOCUMENTED.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        String[] header = lines.get(0).split("\\s+");
        List<Cell> out = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] cols = line.split("\\s+");
            String reach = cols[cols.length - 1];
            for (int c = 1; c < header.length - 1; c++) {
                for (String interaction : INTERACTIONS) {
                    char letter = switch (interaction) {
                        case "read", "search" -> 'r';
                        case "confirm" -> 'c';
                        default -> 'w';
                    };
                    // directory and audit records belong to no patient: whoever reaches them reaches the whole facility
                    String cellReach = header[c].equals("directory") || header[c].equals("audit") ? "facility" : reach;
                    out.add(new Cell(cols[0], header[c], interaction, cols[c].indexOf(letter) >= 0, cellReach));
                }
            }
        }
        return out.stream();
    }

    @Autowired
    AccessPolicy policy;
    @Autowired
    AccessMatrix matrix;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    CareRelations relations;

    /** Shared across the cases: a practitioner with one patient in their care and one not. */
    static String practitioner;
    static String inCare;
    static String notInCare;

    @BeforeEach
    void patientsInAndOutOfCare() {
        if (practitioner != null) {
            return;
        }
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        practitioner = "dr-matrix-" + suffix;
        inCare = "pt-in-" + suffix;
        notInCare = "pt-out-" + suffix;
        assertThat(admin.put("Practitioner/" + practitioner, "{\"resourceType\":\"Practitioner\",\"id\":\"" + practitioner + "\"}")
                .status()).isEqualTo(201);
        for (String p : List.of(inCare, notInCare)) {
            assertThat(admin.put("Patient/" + p, "{\"resourceType\":\"Patient\",\"id\":\"" + p + "\"}").status()).isEqualTo(201);
        }
        assertThat(admin.post("Encounter", encounter(inCare, "in-progress", null, "Practitioner/" + practitioner)).status())
                .isEqualTo(201);
    }

    static String encounter(String patient, String status, String end, String... participants) {
        StringBuilder p = new StringBuilder();
        for (String who : participants) {
            p.append(p.length() == 0 ? "" : ",").append("{\"individual\":{\"reference\":\"").append(who).append("\"}}");
        }
        return "{\"resourceType\":\"Encounter\",\"status\":\"" + status + "\",\"class\":{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"IMP\"},\"subject\":{\"reference\":\"Patient/"
                + patient + "\"},\"participant\":[" + p + "]"
                + (end == null ? "" : ",\"period\":{\"start\":\"2020-01-01T00:00:00Z\",\"end\":\"" + end + "\"}") + "}";
    }

    private View view(Subject s, String interaction) {
        return switch (interaction) {
            case "read" -> policy.view(s, Permission.READ);
            case "search" -> policy.view(s, Permission.SEARCH);
            case "create" -> policy.view(s, Permission.CREATE);
            case "update" -> policy.view(s, Permission.UPDATE);
            case "delete" -> policy.view(s, Permission.DELETE);
            default -> policy.confirmView(s);
        };
    }

    private static String patientOf(String category, String patient) {
        return category.equals("directory") || category.equals("audit") ? null : patient;
    }

    /** One dynamic test per cell (dynamic tests share one set-up: no token fetched per cell). */
    @TestFactory
    Stream<DynamicTest> theDefaultMatrixAllowsExactlyWhatTheOperatorGuideSays() {
        return cells().map(cell -> DynamicTest.dynamicTest(cell.toString(), () -> check(cell)));
    }

    private void check(Cell cell) {
        boolean patientRole = cell.role().equals("patient");
        Subject person = Subject.person("someone", Set.of(cell.role()), null,
                patientRole ? List.of("Patient/" + inCare) : List.of("Practitioner/" + practitioner), patientRole ? inCare : null);
        View view = view(person, cell.interaction());
        Placement mine = new Placement(patientOf(cell.category(), inCare), Subject.HOME_FACILITY, cell.category(), false);
        Placement others = new Placement(patientOf(cell.category(), notInCare), Subject.HOME_FACILITY, cell.category(), false);
        Placement elsewhere = new Placement(patientOf(cell.category(), inCare), "clinic-b", cell.category(), false);

        assertThat(view.allows(mine)).as("in care / own record").isEqualTo(cell.allowed());
        boolean othersReachable = cell.allowed() && (cell.reach().equals("facility") || others.patientKey() == null
                && !cell.reach().equals("self"));
        assertThat(view.allows(others)).as("a patient not in care / someone else's record").isEqualTo(othersReachable);
        assertThat(view.allows(elsewhere)).as("another facility").isEqualTo(cell.allowed() && cell.reach().equals("self"));
    }

    @Test
    void thePatientsInCareAreSharedUntilARelationshipEndsAndNoLonger() {
        String party = "Practitioner/cache-" + java.util.UUID.randomUUID();
        Instant end = Instant.parse("2026-01-10T00:00:00Z");
        relations.replace(new jp.kiroku.store.ResourceKey("Encounter", "cache-a-" + party.hashCode()), "pt-ends",
                List.of(new CareRelations.Link(party, end)));
        relations.replace(new jp.kiroku.store.ResourceKey("Encounter", "cache-b-" + party.hashCode()), "pt-open",
                List.of(new CareRelations.Link(party, null)));
        var before = relations.patientsInCare(List.of(party), end.minusSeconds(60));
        assertThat(before.set()).containsExactlyInAnyOrder("pt-ends", "pt-open");
        assertThat(relations.patientsInCare(List.of(party), end.minusSeconds(30))).as("shared while nothing ends")
                .isSameAs(before);
        var after = relations.patientsInCare(List.of(party), end);
        assertThat(after.set()).containsExactly("pt-open");
        assertThat(after.array()).containsExactly("pt-open");
        assertThat(relations.patientsInCare(List.of(party), end.minusSeconds(60)).set())
                .as("an earlier cutoff is computed again, not served from a later one").contains("pt-ends");
    }

    @Test
    void theSqlConditionSelectsWhatTheSingleChecksAllow() {
        Subject nurse = Subject.person("n", Set.of("nurse"), null, List.of("Practitioner/" + practitioner), null);
        View.Condition c = policy.view(nurse, Permission.SEARCH).condition("c");
        List<Object> args = new ArrayList<>(c.args());
        args.add(0, List.of(inCare, notInCare).toArray(String[]::new));
        List<String> found = jdbc.queryForList("SELECT c.res_id FROM resource_current c WHERE c.res_type = 'Patient'"
                + " AND c.res_id = ANY (?) AND " + c.sql(), String.class, args.toArray());
        assertThat(found).containsExactly(inCare);
        assertThat(policy.view(Subject.system("lab"), Permission.SEARCH).condition("c")).isNull();
    }

    @Test
    void careEndsSomeTimeAfterTheEncounterAndCancelledOrForeignOnesGiveNone() {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String dr = "dr-end-" + suffix;
        admin.put("Practitioner/" + dr, "{\"resourceType\":\"Practitioner\",\"id\":\"" + dr + "\"}");
        Map<String, String> encounters = new LinkedHashMap<>();
        encounters.put("recent", encounter("pt-recent-" + suffix, "finished", java.time.Instant.now().minus(java.time.Duration.ofDays(3)).toString(), "Practitioner/" + dr));
        encounters.put("old", encounter("pt-old-" + suffix, "finished", "2020-02-01T00:00:00Z", "Practitioner/" + dr));
        encounters.put("cancelled", encounter("pt-cancelled-" + suffix, "cancelled", null, "Practitioner/" + dr));
        encounters.put("other", encounter("pt-other-" + suffix, "in-progress", null, "Practitioner/" + practitioner));
        for (var e : encounters.entrySet()) {
            String patient = "pt-" + e.getKey() + "-" + suffix;
            admin.put("Patient/" + patient, "{\"resourceType\":\"Patient\",\"id\":\"" + patient + "\"}");
            assertThat(admin.post("Encounter", e.getValue()).status()).isEqualTo(201);
        }
        Subject doctor = Subject.person("d", Set.of("physician"), null, List.of("Practitioner/" + dr), null);
        View view = policy.view(doctor, Permission.READ);
        Map<String, Boolean> reached = new LinkedHashMap<>();
        for (String k : encounters.keySet()) {
            reached.put(k, view.allows(new Placement("pt-" + k + "-" + suffix, Subject.HOME_FACILITY, "clinical", false)));
        }
        assertThat(reached).containsExactly(Map.entry("recent", true), Map.entry("old", false), Map.entry("cancelled", false),
                Map.entry("other", false));
    }

    @Test
    @Tag("ACL-02")
    void anAdministratorsGrantAndRevokeChangeTheOutcomeAndAreAudited() {
        Subject clerk = Subject.person("c", Set.of("clerk"), null, List.of(), null);
        Placement results = new Placement(inCare, Subject.HOME_FACILITY, "results", false);
        assertThat(policy.view(clerk, Permission.READ).allows(results)).isFalse();
        matrix.grant("clerk", "results", "read", "facility", Agent.localOperator());
        try {
            assertThat(policy.view(clerk, Permission.READ).allows(results)).isTrue();
            assertThat(policy.view(clerk, Permission.CREATE).allows(results)).as("read only").isFalse();
        } finally {
            assertThat(matrix.revoke("clerk", "results", "read", Agent.localOperator())).isTrue();
        }
        assertThat(policy.view(clerk, Permission.READ).allows(results)).isFalse();
        assertThat(jdbc.queryForList("SELECT action FROM audit_log WHERE action LIKE 'access.%' AND detail LIKE"
                + " 'role=clerk category=results%' ORDER BY seq", String.class)).containsSubsequence("access.grant", "access.revoke");
        assertThatThrownBy(() -> matrix.grant("janitor", "results", "peek", "world", Agent.localOperator()))
                .hasMessageContaining("unknown role 'janitor'").hasMessageContaining("action must be read, write or confirm")
                .hasMessageContaining("reach must be care, facility or self");
    }

    @Test
    void mappingATypeMovesItsStoredResourcesAndLabelsOverrideTheType() {
        String id = "basic-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(admin.put("Basic/" + id, "{\"resourceType\":\"Basic\",\"id\":\"" + id + "\",\"code\":{\"text\":\"x\"}}")
                .status()).isEqualTo(201);
        String labelled = "cond-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(admin.put("Condition/" + labelled, "{\"resourceType\":\"Condition\",\"id\":\"" + labelled + "\",\"meta\":"
                + "{\"security\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"PSY\"}]},"
                + "\"subject\":{\"reference\":\"Patient/" + inCare + "\"}}").status()).isEqualTo(201);
        assertThat(category("Condition", labelled)).isEqualTo("sensitive");
        assertThat(category("Basic", id)).isEqualTo("clinical");
        int moved = matrix.mapType("Basic", "nursing", Set.of("Basic"), Agent.localOperator());
        try {
            assertThat(moved).isGreaterThanOrEqualTo(1);
            assertThat(category("Basic", id)).isEqualTo("nursing");
            assertThat(policy.categoryOfType("Basic")).isEqualTo("nursing");
        } finally {
            matrix.mapType("Basic", "clinical", Set.of("Basic"), Agent.localOperator());
        }
        assertThat(category("Basic", id)).isEqualTo("clinical");
        assertThat(category("Condition", labelled)).as("labelled records stay").isEqualTo("sensitive");
    }

    @Test
    @Tag("ACL-04")
    void breakGlassOpensOnePatientInTheRolesCategoriesInAnyFacilityAndTheSqlAgrees() {
        Subject nurse = Subject.person("n", Set.of("nurse"), null, List.of(), null);
        Subject opened = nurse.withEmergencyPatients(Set.of(notInCare));
        Placement results = new Placement(notInCare, "clinic-b", "results", false);
        Placement billing = new Placement(notInCare, Subject.HOME_FACILITY, "billing", false);
        Placement otherPatient = new Placement(inCare, Subject.HOME_FACILITY, "results", false);
        assertThat(policy.view(nurse, Permission.READ).allows(results)).isFalse();
        assertThat(policy.view(opened, Permission.READ).allows(results)).as("opened, even in another facility").isTrue();
        assertThat(policy.view(opened, Permission.READ).allows(billing)).as("not a category of the nurse's roles").isFalse();
        assertThat(policy.view(opened, Permission.READ).allows(otherPatient)).as("only the patient opened").isFalse();
        View.Condition c = policy.view(opened, Permission.SEARCH).condition("c");
        List<Object> args = new ArrayList<>(c.args());
        args.add(0, List.of(inCare, notInCare).toArray(String[]::new));
        assertThat(jdbc.queryForList("SELECT c.res_id FROM resource_current c WHERE c.res_type = 'Patient'"
                + " AND c.res_id = ANY (?) AND " + c.sql(), String.class, args.toArray())).containsExactly(notInCare);
        Subject patient = Subject.person("p", Set.of("patient"), null, List.of(), inCare).withEmergencyPatients(Set.of(notInCare));
        assertThat(policy.view(patient, Permission.READ).allows(new Placement(notInCare, Subject.HOME_FACILITY, "results", false)))
                .as("a patient's own reach is not widened").isFalse();
    }

    private String category(String type, String id) {
        return jdbc.queryForObject("SELECT category FROM resource_current WHERE res_type = ? AND res_id = ?", String.class, type, id);
    }
}
