-- The reference rows of one patient's records in one range scan (bench/RESULTS.md, 2026-12-07): Patient/$everything
-- adds what the patient's records refer to (practitioners, organisations, locations, medications), and looking those
-- up key by key for every record was its costliest statement (~1.2 ms of the ~2.8 ms of SQL a first page took).
-- On a large database this index takes a while to build during the upgrade.
CREATE INDEX IF NOT EXISTS search_reference_patient ON search_reference (patient_key);
