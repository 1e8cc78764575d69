package jp.kiroku.audit;

/**
 * One access event. Resource fields are null for events that touch no record (e.g. client registration).
 * {@code detail} must never hold PHI or secrets: it is for codes and counts.
 */
public record AuditRecord(Agent agent, String action, Outcome outcome, String patientKey,
                          String resourceType, String resourceId, Integer versionId, String detail) {

    public enum Outcome {
        SUCCESS, DENIED, FAILED;

        public String code() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public static AuditRecord of(Agent agent, String action, Outcome outcome) {
        return new AuditRecord(agent, action, outcome, null, null, null, null, null);
    }

    public AuditRecord on(String type, String id, Integer version, String patient) {
        return new AuditRecord(agent, action, outcome, patient, type, id, version, detail);
    }

    public AuditRecord withDetail(String text) {
        return new AuditRecord(agent, action, outcome, patientKey, resourceType, resourceId, versionId, text);
    }
}
