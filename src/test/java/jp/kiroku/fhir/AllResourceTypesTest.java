package jp.kiroku.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CapabilityStatement.TypeRestfulInteraction;
import org.junit.jupiter.api.Test;

import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.FhirHttp.Response;
import jp.kiroku.support.ServerTest;

/**
 * Every R4 resource type HAPI knows can be created, read and listed — except AuditEvent, which is the access log,
 * read-only — and the CapabilityStatement says exactly that.
 */
class AllResourceTypesTest extends ServerTest {

    @Test
    void everyTypeSupportsCreateReadAndHistory() {
        Set<String> types = new TreeSet<>(FhirHttp.CTX.getResourceTypes());
        assertThat(types).hasSizeGreaterThan(140);
        types.remove("AuditEvent"); // recorded by Kiroku, never created by clients (AuditEventsTest)
        for (String type : types) {
            Response created = admin.post(type, "{\"resourceType\":\"" + type + "\"}");
            assertThat(created.status()).as(type + ": " + created.body()).isEqualTo(201);
            String location = created.header("Location");
            String id = location.replaceAll(".*/" + type + "/([^/]+)/_history/1$", "$1");
            Response read = admin.get(type + "/" + id);
            assertThat(read.status()).as(type).isEqualTo(200);
            Bundle history = admin.get(type + "/" + id + "/_history").as(Bundle.class);
            assertThat(history.getEntry()).as(type).hasSize(1);
        }
    }

    @Test
    void theCapabilityStatementListsExactlyTheServedTypesAndInteractions() {
        CapabilityStatement cs = anonymous.get("metadata").as(CapabilityStatement.class);
        var resources = cs.getRestFirstRep().getResource();
        Set<String> listed = resources.stream().map(CapabilityStatement.CapabilityStatementRestResourceComponent::getType)
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(listed).isEqualTo(new TreeSet<>(FhirHttp.CTX.getResourceTypes()));
        for (var r : resources) {
            if (r.getType().equals("AuditEvent")) { // the access log: read and search, with its own parameters
                assertThat(r.getInteraction()).extracting(CapabilityStatement.ResourceInteractionComponent::getCode)
                        .containsExactlyInAnyOrder(TypeRestfulInteraction.READ, TypeRestfulInteraction.SEARCHTYPE);
                assertThat(r.getSearchParam()).extracting(p -> p.getName())
                        .containsExactly("patient", "agent", "altid", "date", "subtype", "action", "outcome");
                continue;
            }
            Set<TypeRestfulInteraction> interactions = r.getInteraction().stream()
                    .map(CapabilityStatement.ResourceInteractionComponent::getCode).collect(Collectors.toSet());
            assertThat(interactions).as(r.getType()).containsExactlyInAnyOrder(TypeRestfulInteraction.READ,
                    TypeRestfulInteraction.VREAD, TypeRestfulInteraction.CREATE, TypeRestfulInteraction.UPDATE,
                    TypeRestfulInteraction.DELETE, TypeRestfulInteraction.HISTORYINSTANCE, TypeRestfulInteraction.HISTORYTYPE,
                    TypeRestfulInteraction.SEARCHTYPE);
            assertThat(r.getSearchParam()).as(r.getType()).extracting(p -> p.getName()).contains("_id", "_lastUpdated");
        }
        // every advertised parameter is accepted under strict handling (a sample of types, every parameter each)
        for (var r : resources) {
            if (!Set.of("Patient", "Observation", "Encounter", "Condition", "MedicationRequest", "Practitioner").contains(r.getType())) {
                continue;
            }
            assertThat(r.getSearchParam()).as(r.getType()).hasSizeGreaterThan(5);
            for (var p : r.getSearchParam()) {
                Response res = admin.get(r.getType() + "?" + p.getName() + ":missing=false&_count=1",
                        java.util.Map.of("Prefer", "handling=strict"));
                assertThat(res.status()).as(r.getType() + "?" + p.getName() + ": " + res.body()).isEqualTo(200);
            }
            // every advertised _include and _revinclude is accepted too
            if (r.getType().equals("Observation")) {
                assertThat(r.getSearchInclude()).extracting(i -> i.getValue()).contains("Observation:patient", "Observation:encounter");
            }
            if (r.getType().equals("Patient")) {
                assertThat(r.getSearchRevInclude()).extracting(i -> i.getValue()).contains("Observation:patient", "Encounter:subject");
            }
            for (var inc : r.getSearchInclude()) {
                Response res = admin.get(r.getType() + "?_id=none&_include=" + inc.getValue(),
                        java.util.Map.of("Prefer", "handling=strict"));
                assertThat(res.status()).as(inc.getValue() + ": " + res.body()).isEqualTo(200);
            }
            for (var inc : r.getSearchRevInclude().subList(0, Math.min(20, r.getSearchRevInclude().size()))) {
                Response res = admin.get(r.getType() + "?_id=none&_revinclude=" + inc.getValue(),
                        java.util.Map.of("Prefer", "handling=strict"));
                assertThat(res.status()).as(inc.getValue() + ": " + res.body()).isEqualTo(200);
            }
        }
        Response unknown = admin.get("Patient?nonsense=1", java.util.Map.of("Prefer", "handling=strict"));
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.body()).contains("nonsense");
        var system = cs.getRestFirstRep().getInteraction().stream()
                .map(i -> i.getCode().toCode()).collect(Collectors.toSet());
        assertThat(system).contains("transaction", "batch", "history-system");
    }
}
