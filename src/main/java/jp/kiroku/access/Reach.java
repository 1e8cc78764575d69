package jp.kiroku.access;

/** How far a role's permission on a category reaches; the order is from narrowest to widest. */
public enum Reach {
    /** Only the person's own patient record (a patient's account). */
    SELF,
    /** Patients the person has a care relationship with; records of no patient within the facility. */
    CARE,
    /** Every record of the person's facility. */
    FACILITY;

    public String code() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Reach of(String code) {
        return valueOf(code.toUpperCase(java.util.Locale.ROOT));
    }
}
