package jp.kiroku.audit;

import java.time.Instant;
import java.util.List;

/** An audit event as recorded ({@code audit_log}), for auditors, exports and "who looked at my record". */
public record StoredEvent(long seq, Instant recorded, String action, String outcome, String agentKind, String agentId,
                          String agentRole, String sourceAddress, String deviceId, String purpose, String requestId,
                          List<String> patients, List<String> entities, String detail, String query) {
}
