package jp.kiroku.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import jp.kiroku.support.ServerTest;

/**
 * Retention per information category (PRES-01): counted from the patient's last entry, never shorter than the legal
 * minimum, lengthened by the administrator, and a legal hold keeps everything; the report names the patients past
 * retention.
 */
@Tag("PRES-01")
class RetentionCommandsTest extends ServerTest {

    @org.springframework.beans.factory.annotation.Autowired
    org.springframework.jdbc.core.JdbcTemplate jdbc;

    private CliRun kiroku(String... args) {
        return CliRun.kiroku(DATA_DIR, args);
    }

    @Test
    void aPatientIsPastRetentionOnlyWhenEveryCategoryIsAndNotOnHold() {
        String p = "ret-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(admin.put("Patient/" + p, "{\"resourceType\":\"Patient\",\"id\":\"" + p + "\"}").status()).isEqualTo(201);
        assertThat(admin.post("Condition", "{\"resourceType\":\"Condition\",\"code\":{\"text\":\"x\"},\"subject\":"
                + "{\"reference\":\"Patient/" + p + "\"}}").status()).isEqualTo(201);
        assertThat(admin.post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"Patient/" + p + "\"}}").status()).isEqualTo(201);

        CliRun rules = kiroku("retention", "rules");
        assertThat(rules.out()).containsPattern("clinical\\s+5\\s+5\\s+診療録 \\(医師法24条2項").containsPattern("results\\s+3\\s+3");
        CliRun tooShort = kiroku("retention", "set", "--category", "clinical", "--years", "3");
        assertThat(tooShort.code()).isNotZero();
        assertThat(tooShort.err()).contains("at least 5 years");

        LocalDate today = LocalDate.now();
        String in4 = today.plusYears(4).toString();
        String in6 = today.plusYears(6).toString();
        assertThat(kiroku("retention", "report", "--as-of", in4).out()).as("results are past 3 years, the record not")
                .doesNotContain(p);
        assertThat(kiroku("retention", "report", "--as-of", in6).out()).contains("Patient/" + p);

        assertThat(kiroku("retention", "set", "--category", "clinical", "--years", "10").code()).isZero();
        try {
            assertThat(kiroku("retention", "report", "--as-of", in6).out()).as("kept longer").doesNotContain(p);
        } finally {
            assertThat(kiroku("retention", "set", "--category", "clinical", "--years", "5").code()).isZero();
        }

        assertThat(kiroku("retention", "hold", p, "--reason", "令和8年(ワ)第123号").code()).isZero();
        assertThat(kiroku("retention", "holds").out()).contains(p).contains("第123号");
        assertThat(kiroku("retention", "report", "--as-of", in6).out()).as("on legal hold").doesNotContain(p);
        assertThat(kiroku("retention", "release", p).code()).isZero();
        assertThat(kiroku("retention", "report", "--as-of", in6).out()).contains("Patient/" + p);
        assertThat(kiroku("retention", "release", p).code()).as("not on hold any more").isNotZero();
    }

    @Test
    void aFacilityTypesRuleKeepsTheRecordsOfItsFacilitiesLongerAndOnlyThose() {
        String s = UUID.randomUUID().toString().substring(0, 8);
        String atPharmacy = "ret-ph-" + s;
        String elsewhere = "ret-el-" + s;
        for (String p : List.of(atPharmacy, elsewhere)) {
            assertThat(admin.put("Patient/" + p, "{\"resourceType\":\"Patient\",\"id\":\"" + p + "\"}").status()).isEqualTo(201);
            assertThat(admin.post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":"
                    + "\"x\"},\"subject\":{\"reference\":\"Patient/" + p + "\"}}").status()).isEqualTo(201);
        }
        // the first patient's records were made at a pharmacy of the network (records keep the facility they were made in)
        jdbc.update("UPDATE resource_current SET facility_id = ? WHERE patient_key = ?", "pharmacy-" + s, atPharmacy);
        String in6 = LocalDate.now().plusYears(6).toString();
        assertThat(kiroku("retention", "report", "--as-of", in6).out()).contains(atPharmacy).contains(elsewhere);

        assertThat(kiroku("facility", "set", "--id", "pharmacy-" + s, "--type", "pharmacy", "--name", "記録薬局").code()).isZero();
        assertThat(kiroku("facility", "list").out()).contains("pharmacy-" + s).contains("記録薬局");
        CliRun tooShort = kiroku("retention", "set", "--facility-type", "pharmacy", "--category", "results", "--years", "2");
        assertThat(tooShort.code()).isNotZero();
        assertThat(tooShort.err()).contains("at least 3 years");
        assertThat(kiroku("retention", "set", "--facility-type", "nowhere", "--category", "results", "--years", "9").err())
                .contains("no facility type 'nowhere'");
        try {
            assertThat(kiroku("retention", "set", "--facility-type", "pharmacy", "--category", "results", "--years", "8").code())
                    .isZero();
            assertThat(kiroku("retention", "rules").out()).containsPattern("pharmacy\\s+results\\s+8\\s+3");
            CliRun report = kiroku("retention", "report", "--as-of", in6);
            assertThat(report.out()).as("the pharmacy's results are kept 8 years").doesNotContain(atPharmacy)
                    .as("other facilities follow the rule for every facility").contains(elsewhere);
        } finally {
            assertThat(kiroku("retention", "set", "--facility-type", "pharmacy", "--category", "results", "--years", "3").code())
                    .isZero();
        }
    }
}
