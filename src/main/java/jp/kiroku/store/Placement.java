package jp.kiroku.store;

/**
 * Where a resource's current version belongs, as access control sees it: its patient (null for records of no
 * patient), its facility and its information category; and its record status: {@link #CONFIRMED},
 * {@link #UNAPPROVED} (a proxy entry awaiting the responsible clinician) or null (a draft).
 */
public record Placement(String patientKey, String facility, String category, boolean deleted, String status) {

    public static final String CONFIRMED = "confirmed";
    public static final String UNAPPROVED = "unapproved";

    public Placement(String patientKey, String facility, String category, boolean deleted) {
        this(patientKey, facility, category, deleted, null);
    }

    public boolean confirmed() {
        return CONFIRMED.equals(status);
    }

    public boolean unapproved() {
        return UNAPPROVED.equals(status);
    }
}
