package jp.kiroku.admin;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import jp.kiroku.audit.AuditRecord;
import jp.kiroku.audit.AuditTrail;
import jp.kiroku.identity.Caller;
import jp.kiroku.ledger.Ledgers;
import jp.kiroku.store.RecordStore;
import jp.kiroku.store.ResourceKey;

/**
 * The ledgers over HTTP for auditors (issue 4): verification, signed checkpoints and inclusion proofs, for
 * {@link Auditors}; every call is audited.
 */
@RestController
@RequestMapping("/admin/ledger")
class LedgerAdminController {

    private final Ledgers ledgers;
    private final AuditTrail audit;
    private final RecordStore store;
    private final Auditors auditors;

    LedgerAdminController(Ledgers ledgers, AuditTrail audit, RecordStore store, Auditors auditors) {
        this.ledgers = ledgers;
        this.audit = audit;
        this.store = store;
        this.auditors = auditors;
    }

    /** Recomputes both ledgers and reports as {@code kiroku verify} does; "ok" false names every finding. */
    @GetMapping(value = "/verify", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Object> verify(HttpServletRequest request) {
        Caller caller = Caller.current(request.getRemoteAddr());
        if (!auditors.allows(caller)) {
            return refused(caller, "ledger.verify");
        }
        Ledgers.Verification v = ledgers.verify(List.of(), n -> { });
        audit.record(AuditRecord.of(caller.agent(), "ledger.verify", AuditRecord.Outcome.SUCCESS).withDetail(v.summary()));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("ok", v.ok());
        body.put("logs", v.logs());
        return ResponseEntity.ok(body);
    }

    /** The latest signed checkpoint of each ledger (signed now if a log grew) and the public key, as text. */
    @GetMapping(value = "/checkpoints", produces = MediaType.TEXT_PLAIN_VALUE)
    ResponseEntity<Object> checkpoints(HttpServletRequest request) {
        Caller caller = Caller.current(request.getRemoteAddr());
        if (!auditors.allows(caller)) {
            return refused(caller, "checkpoint.export");
        }
        String text = ledgers.checkpointFile();
        audit.record(AuditRecord.of(caller.agent(), "checkpoint.export", AuditRecord.Outcome.SUCCESS));
        return ResponseEntity.ok(text);
    }

    /**
     * Proof that a stored version is in the record ledger: its leaf, the audit path and the signed checkpoint it leads
     * to (RFC 9162 §2.1.3.2 checks it; hashes in base64).
     */
    @GetMapping(value = "/proof", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Object> proof(HttpServletRequest request, @RequestParam String type, @RequestParam String id,
                                 @RequestParam int version) {
        Caller caller = Caller.current(request.getRemoteAddr());
        if (!auditors.allows(caller)) {
            return refused(caller, "ledger.proof");
        }
        ResourceKey key = new ResourceKey(type, id);
        var seq = store.sequenceOf(key, version);
        var proof = seq.isPresent() ? ledgers.prove("kiroku/record", seq.getAsLong()) : java.util.Optional.<Ledgers.InclusionProof>empty();
        audit.record(AuditRecord.of(caller.agent(), "ledger.proof", proof.isPresent() ? AuditRecord.Outcome.SUCCESS
                : AuditRecord.Outcome.FAILED).on(type, id, version, null));
        if (proof.isEmpty()) {
            return ResponseEntity.status(404).body(Map.of("error", type + "/" + id + "/_history/" + version
                    + " is not in the record ledger (unknown version, or not sequenced yet)"));
        }
        Ledgers.InclusionProof p = proof.get();
        List<String> path = new ArrayList<>();
        p.path().forEach(h -> path.add(Base64.getEncoder().encodeToString(h)));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("origin", p.origin());
        body.put("leafIndex", p.index());
        body.put("treeSize", p.treeSize());
        body.put("leafHash", Base64.getEncoder().encodeToString(p.leafHash()));
        body.put("path", path);
        body.put("checkpoint", p.checkpoint());
        body.put("publicKey", ledgers.publicKeyPem());
        return ResponseEntity.ok(body);
    }

    private ResponseEntity<Object> refused(Caller caller, String action) {
        return auditors.refuse(caller, action, "The ledgers are for auditors: the token's scopes must name AuditEvent"
                + " (e.g. system/AuditEvent.rs; for a person, also the auditor role)");
    }
}
