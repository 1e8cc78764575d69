package jp.kiroku.store;

/**
 * Where a resource's current version belongs, as access control sees it: its patient (null for records of no
 * patient), its facility and its information category.
 */
public record Placement(String patientKey, String facility, String category, boolean deleted) {
}
