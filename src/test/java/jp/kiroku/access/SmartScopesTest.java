package jp.kiroku.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

class SmartScopesTest {

    @Test
    void v1ReadAndWriteMapToTheirPermissions() {
        SmartScopes s = SmartScopes.of(List.of("system/Patient.read", "system/Observation.write"));
        assertThat(s.permits("Patient", Permission.READ)).isTrue();
        assertThat(s.permits("Patient", Permission.SEARCH)).isTrue();
        assertThat(s.permits("Patient", Permission.CREATE)).isFalse();
        assertThat(s.permits("Observation", Permission.CREATE)).isTrue();
        assertThat(s.permits("Observation", Permission.DELETE)).isTrue();
        assertThat(s.permits("Observation", Permission.READ)).isFalse();
        assertThat(s.permits("Encounter", Permission.READ)).isFalse();
    }

    @Test
    void v2LettersGrantExactlyWhatTheyName() {
        SmartScopes s = SmartScopes.of(List.of("system/Observation.rs", "system/*.c"));
        assertThat(s.permits("Observation", Permission.READ)).isTrue();
        assertThat(s.permits("Observation", Permission.SEARCH)).isTrue();
        assertThat(s.permits("Observation", Permission.UPDATE)).isFalse();
        assertThat(s.permits("Encounter", Permission.CREATE)).isTrue();
        assertThat(s.permitsAllTypes(Permission.CREATE)).isTrue();
        assertThat(s.permitsAllTypes(Permission.READ)).isFalse();
    }

    @Test
    @org.junit.jupiter.api.Tag("LOG-05")
    void theAccessLogTakesAScopeThatNamesIt() {
        assertThat(SmartScopes.of(List.of("system/*.*")).permits("AuditEvent", Permission.READ)).isFalse();
        assertThat(SmartScopes.of(List.of("system/*.*")).permitsAnything("AuditEvent")).isFalse();
        assertThat(SmartScopes.of(List.of("system/AuditEvent.rs")).permits("AuditEvent", Permission.READ)).isTrue();
        assertThat(SmartScopes.of(List.of("system/AuditEvent.rs")).permits("AuditEvent", Permission.SEARCH)).isTrue();
    }

    @Test
    void wildcardsAndUnknownScopes() {
        assertThat(SmartScopes.of(List.of("system/*.*")).permitsAllTypes(Permission.DELETE)).isTrue();
        SmartScopes none = SmartScopes.of(List.of("openid", "profile", "launch/patient", "system/Patient.x"));
        for (Permission p : Permission.values()) {
            assertThat(none.permits("Patient", p)).as(p.name()).isFalse();
        }
        // user/ and patient/ scopes (an app acting for a person) grant per type; the person's reach narrows them
        SmartScopes user = SmartScopes.of(List.of("user/Patient.read"));
        assertThat(user.permits("Patient", Permission.READ)).isTrue();
        assertThat(user.permits("Patient", Permission.CREATE)).isFalse();
        assertThat(user.permits("Observation", Permission.READ)).isFalse();
        SmartScopes patient = SmartScopes.of(List.of("patient/Observation.rs"));
        assertThat(patient.permits("Observation", Permission.SEARCH)).isTrue();
        assertThat(patient.permits("Observation", Permission.CREATE)).isFalse();
        assertThat(SmartScopes.patientLevel(List.of("openid", "patient/Observation.rs"))).isTrue();
        assertThat(SmartScopes.patientLevel(List.of("openid", "user/Observation.rs", "launch/patient"))).isFalse();
    }

    @Test
    void problemsForSystemClientsNameTheBadScope() {
        Set<String> types = Set.of("Patient", "Observation");
        assertThat(SmartScopes.problemsForSystemClient(List.of("system/*.read", "system/Patient.cruds"), types)).isEmpty();
        assertThat(SmartScopes.problemsForSystemClient(List.of("system/Patinet.read"), types)).singleElement()
                .asString().contains("Patinet is not an R4 resource type");
        assertThat(SmartScopes.problemsForSystemClient(List.of("patient/*.read"), types)).singleElement()
                .asString().contains("system/ scopes only");
        assertThat(SmartScopes.problemsForSystemClient(List.of("everything"), types)).singleElement()
                .asString().contains("not a SMART scope");
        assertThat(SmartScopes.problemsForSystemClient(List.of(), types)).isNotEmpty();
    }
}
