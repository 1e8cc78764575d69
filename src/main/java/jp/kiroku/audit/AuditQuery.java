package jp.kiroku.audit;

import java.time.Instant;
import java.util.List;

/**
 * Which audit events to list, newest first: all criteria optional (null / empty = any). {@code from} is inclusive,
 * {@code to} exclusive; {@code beforeSeq} continues a listing after its last event.
 */
public record AuditQuery(String patient, String agentId, Instant from, Instant to, List<String> actions, String outcome,
                         Long beforeSeq, int limit) {

    public AuditQuery {
        actions = actions == null ? List.of() : List.copyOf(actions);
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be positive");
        }
    }

    public static AuditQuery all(int limit) {
        return new AuditQuery(null, null, null, null, List.of(), null, null, limit);
    }
}
