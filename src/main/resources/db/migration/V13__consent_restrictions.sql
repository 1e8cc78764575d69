-- Patients' consent restrictions (issue 6, item 4): what an active FHIR Consent denies, one row per deny provision ×
-- category × type, replaced whenever the Consent is written (same transaction), like care_relation. A person's
-- searches and reads leave out the patient's records a row matches, unless the person wrote the record.
CREATE TABLE consent_restriction (
    consent_id  text NOT NULL,          -- the Consent resource's id
    patient_key text NOT NULL,
    category    text,                   -- information category; null = every category
    res_type    text,                   -- resource type; null = every type
    data_from   timestamptz,            -- records created from (inclusive); null = since ever
    data_to     timestamptz,            -- records created before (exclusive); null = until now
    actors      text[]                  -- the parties it hides from (Practitioner/…, Organization/…); null = everyone
);
CREATE INDEX consent_restriction_patient ON consent_restriction (patient_key);
CREATE INDEX consent_restriction_consent ON consent_restriction (consent_id);

-- When a record came to be and who (a person) wrote it: the "author" a restriction spares, and the time a
-- restriction's period is compared with. Kept on the current pointer; set at creation, never changed.
ALTER TABLE resource_current ADD COLUMN created_at timestamptz;
ALTER TABLE resource_current ADD COLUMN created_by text;
UPDATE resource_current c SET created_at = v.last_updated,
    created_by = CASE WHEN v.author_kind = 'user' THEN v.author_id END
FROM resource_version v WHERE v.res_type = c.res_type AND v.res_id = c.res_id AND v.version_id = 1;
