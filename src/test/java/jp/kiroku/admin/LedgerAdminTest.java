package jp.kiroku.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Base64;
import java.util.List;

import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import jp.kiroku.ledger.Checkpoint;
import jp.kiroku.ledger.LedgerKeys;
import jp.kiroku.ledger.Ledgers;
import jp.kiroku.ledger.MerkleProofs;
import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.ServerTest;

/** Auditors verify the ledgers and get inclusion proofs over HTTP; a proof checks out with the public key alone. */
@Tag("LOG-02")
@Tag("INTEG-03")
class LedgerAdminTest extends ServerTest {

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void onlyAuditorsVerifyAndTheReportSaysOk() throws Exception {
        assertThat(admin.get(admin.root() + "/admin/ledger/verify").status()).isEqualTo(403);
        FhirHttp auditor = clientWith("system/AuditEvent.rs");
        FhirHttp.Response r = auditor.get(auditor.root() + "/admin/ledger/verify");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode report = json.readTree(r.body());
        assertThat(report.get("ok").asBoolean()).isTrue();
        assertThat(report.get("logs")).hasSize(2);
        assertThat(auditor.get(auditor.root() + "/admin/ledger/checkpoints").body())
                .contains("kiroku/record\n").contains("kiroku/audit\n").contains("BEGIN PUBLIC KEY");
    }

    @Test
    void aVersionsInclusionProofChecksOutAgainstTheSignedCheckpoint() throws Exception {
        String id = admin.post("Patient", "{\"resourceType\":\"Patient\"}").as(Patient.class).getIdElement().getIdPart();
        FhirHttp auditor = clientWith("system/AuditEvent.rs");
        FhirHttp.Response r = auditor.get(auditor.root() + "/admin/ledger/proof?type=Patient&id=" + id + "&version=1");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode p = json.readTree(r.body());
        // what an auditor does, with nothing but the public key: check the note's signature, then the path to its root
        Checkpoint c = Checkpoint.parse(p.get("checkpoint").asText(),
                LedgerKeys.parsePublicKeyPem(p.get("publicKey").asText()), Ledgers.KEY_NAME);
        assertThat(c.origin()).isEqualTo("kiroku/record");
        assertThat(c.size()).isEqualTo(p.get("treeSize").asLong());
        List<byte[]> path = new java.util.ArrayList<>();
        p.get("path").forEach(h -> path.add(Base64.getDecoder().decode(h.asText())));
        byte[] leaf = Base64.getDecoder().decode(p.get("leafHash").asText());
        long index = p.get("leafIndex").asLong();
        assertThat(MerkleProofs.verifyInclusion(index, c.size(), leaf, path, c.rootHash())).isTrue();
        // the same path does not prove another leaf at that place
        byte[] other = leaf.clone();
        other[0] ^= 1;
        assertThat(MerkleProofs.verifyInclusion(index, c.size(), other, path, c.rootHash())).isFalse();

        assertThat(auditor.get(auditor.root() + "/admin/ledger/proof?type=Patient&id=" + id + "&version=7").status())
                .isEqualTo(404);
        assertThat(admin.get(admin.root() + "/admin/ledger/proof?type=Patient&id=" + id + "&version=1").status())
                .isEqualTo(403);
    }
}
