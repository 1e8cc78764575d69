package jp.kiroku.platform;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The URI templates of request metrics: a FHIR path keeps its shape and R4 type names only; ids, version ids, unknown
 * type names and unknown operation names never reach a tag (they may be a patient number or a name a caller typed).
 */
class HttpMetricsTest {

    @Test
    void fhirPathsBecomeTemplates() {
        assertThat(HttpMetrics.fhir("")).isEqualTo("/fhir");
        assertThat(HttpMetrics.fhir("/")).isEqualTo("/fhir");
        assertThat(HttpMetrics.fhir("/metadata")).isEqualTo("/fhir/metadata");
        assertThat(HttpMetrics.fhir("/_history")).isEqualTo("/fhir/_history");
        assertThat(HttpMetrics.fhir("/.well-known/smart-configuration")).isEqualTo("/fhir/.well-known/**");
        assertThat(HttpMetrics.fhir("/Patient")).isEqualTo("/fhir/Patient");
        assertThat(HttpMetrics.fhir("/Patient/_search")).isEqualTo("/fhir/Patient/_search");
        assertThat(HttpMetrics.fhir("/Patient/_history")).isEqualTo("/fhir/Patient/_history");
        assertThat(HttpMetrics.fhir("/Patient/123")).isEqualTo("/fhir/Patient/{id}");
        assertThat(HttpMetrics.fhir("/Patient/MRN-0012345/")).isEqualTo("/fhir/Patient/{id}");
        assertThat(HttpMetrics.fhir("/Patient/123/_history")).isEqualTo("/fhir/Patient/{id}/_history");
        assertThat(HttpMetrics.fhir("/Patient/123/_history/4")).isEqualTo("/fhir/Patient/{id}/_history/{vid}");
        assertThat(HttpMetrics.fhir("/Patient/123/$everything")).isEqualTo("/fhir/Patient/{id}/$everything");
        assertThat(HttpMetrics.fhir("/Patient/123/Observation")).isEqualTo("/fhir/Patient/{id}/Observation");
        assertThat(HttpMetrics.fhir("/Patient/123/Observation/_search")).isEqualTo("/fhir/Patient/{id}/Observation/_search");
        assertThat(HttpMetrics.fhir("/Observation/$lastn")).isEqualTo("/fhir/Observation/$lastn");
        assertThat(HttpMetrics.fhir("/$unapproved")).isEqualTo("/fhir/$unapproved");
    }

    @Test
    void nothingACallerTypedBecomesATag() {
        assertThat(HttpMetrics.fhir("/Yamada/123")).isEqualTo("/fhir/{type}/{id}");
        assertThat(HttpMetrics.fhir("/%E5%B1%B1%E7%94%B0")).isEqualTo("/fhir/{type}");
        assertThat(HttpMetrics.fhir("/Patient/123/$yamada-taro")).isEqualTo("/fhir/Patient/{id}/$other");
        assertThat(HttpMetrics.fhir("/$yamada")).isEqualTo("/fhir/$other");
        assertThat(HttpMetrics.fhir("/Patient/123/Yamada")).isEqualTo("/fhir/Patient/{id}/{type}");
        assertThat(HttpMetrics.fhir("/Patient/123/_history/4/yamada/taro")).isEqualTo("/fhir/**");
        assertThat(HttpMetrics.fixed("/patients/MRN-0012345", 200)).isEqualTo("/patients/**");
        assertThat(HttpMetrics.fixed("/oauth2/token", 400)).isEqualTo("/oauth2/token");
        assertThat(HttpMetrics.fixed("/yamada-taro", 404)).isEqualTo("NOT_FOUND");
        assertThat(HttpMetrics.fixed("/yamada-taro", 401)).isEqualTo("UNKNOWN");
        assertThat(HttpMetrics.fixed("/yamada-taro", 302)).isEqualTo("REDIRECTION");
    }
}
