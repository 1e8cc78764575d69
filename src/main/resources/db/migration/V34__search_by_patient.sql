-- A search that names one patient (Observation?patient=X&date=ge2024-01-01) reads the records placed with X by one range
-- scan and checks its date and token conditions against X's index rows, read once as a set, instead of probing the
-- index for each of X's records (bench/RESULTS.md, 2026-12-07, "searches by patient"). The record index now leads with
-- the patient and the type, so that such a search reads only X's records of its type.
-- On a large database these indexes take a while to build during the upgrade.
DROP INDEX IF EXISTS resource_current_patient;
CREATE INDEX resource_current_patient ON resource_current (patient_key, res_type) WHERE patient_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS search_date_patient ON search_date (patient_key, res_type, param) WHERE patient_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS search_token_patient ON search_token (patient_key, res_type, param) WHERE patient_key IS NOT NULL;
