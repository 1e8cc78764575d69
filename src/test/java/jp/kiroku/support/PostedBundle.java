package jp.kiroku.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;

/**
 * A transaction Bundle from the test data, posted to the server: what was sent (to compute expected answers from)
 * and where each entry ended up ({@code Type/id} by fullUrl).
 */
public final class PostedBundle {

    public final Bundle sent;
    private final Map<String, String> locationOf = new HashMap<>();
    public final String patientId;
    public final Patient patient;

    public PostedBundle(FhirHttp client, Path file) throws java.io.IOException {
        String json = Files.readString(file);
        sent = FhirHttp.CTX.newJsonParser().parseResource(Bundle.class, json);
        FhirHttp.Response r = client.post("", json);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        Bundle response = r.as(Bundle.class);
        String pid = null;
        Patient p = null;
        for (int i = 0; i < sent.getEntry().size(); i++) {
            String[] location = response.getEntry().get(i).getResponse().getLocation().split("/");
            locationOf.put(sent.getEntry().get(i).getFullUrl(), location[0] + "/" + location[1]);
            if (sent.getEntry().get(i).getResource() instanceof Patient patient) {
                pid = location[1];
                p = patient;
            }
        }
        patientId = pid;
        patient = p;
    }

    /** The sent resources of one type. */
    public <T extends Resource> List<T> sent(Class<T> type) {
        return sent.getEntry().stream().filter(e -> type.isInstance(e.getResource())).map(e -> type.cast(e.getResource())).toList();
    }

    /** Type/id on the server of the entry with this fullUrl (or reference), or null. */
    public String location(String fullUrl) {
        return locationOf.get(fullUrl);
    }

    /** The server id of a sent resource. */
    public String idOf(Resource r) {
        return sent.getEntry().stream().filter(e -> e.getResource() == r).findFirst()
                .map(e -> locationOf.get(e.getFullUrl()).split("/")[1]).orElseThrow();
    }
}
