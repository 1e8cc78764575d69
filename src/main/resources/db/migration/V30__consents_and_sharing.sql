-- Patients' consents and sharing between facilities (issue 12: PHR-01, PHR-04, item 4).
--
-- Consents get a category of their own, so that a patient may record and withdraw their own (reach self) without
-- being able to write any other clinical record. Everybody who could read or write clinical records keeps that right
-- on consents (same reach); clerks record paper consents at the front desk.
INSERT INTO access_category VALUES ('consents', '同意・第三者提供', 'Consents (restrictions, sharing, third-party provision)');
UPDATE access_category_type SET category = 'consents' WHERE res_type = 'Consent';
UPDATE resource_current SET category = 'consents' WHERE res_type = 'Consent' AND category = 'clinical';
INSERT INTO access_rule (role, category, action, reach)
SELECT role, 'consents', action, reach FROM access_rule WHERE category = 'clinical' AND action IN ('read', 'write')
UNION ALL SELECT 'clerk', 'consents', a, 'facility' FROM unnest(ARRAY['read', 'write']) a
UNION ALL SELECT 'patient', 'consents', 'write', 'self'
ON CONFLICT DO NOTHING;
-- Stored Bundles (JP-CLINS documents and collections kept as received, issue 12) hold a patient's data: they are placed
-- in that patient's compartment (fhir.FhirRecords#bundlePatient) and are clinical records, not master data.
UPDATE access_category_type SET category = 'clinical' WHERE res_type = 'Bundle';
UPDATE resource_current SET category = 'clinical' WHERE res_type = 'Bundle' AND category = 'directory';
-- Records of third-party provision must be kept 3 years (個人情報保護法29条, 同施行規則14条); consents are kept as long
-- as the medical record they govern.
INSERT INTO retention_rule (category, years, legal_minimum, basis) VALUES
    ('consents', 5, 3, '第三者提供に係る記録 (個人情報保護法29条・施行規則14条: 3年); 診療録に準じて5年');

-- What an active Consent's permit provision for a recipient facility shares (derived when the Consent is written, in
-- the same transaction, like consent_restriction): the recipient's people reach the patient's records of these
-- categories (null: every category) made at any facility, while now is within [valid_from, valid_to).
CREATE TABLE consent_share (
    consent_id  text        NOT NULL,
    patient_key text        NOT NULL,
    recipient   text        NOT NULL,            -- the facility id the records are shared with
    categories  text[],                          -- null: all categories
    purposes    text[]      NOT NULL,            -- v3-ActReason codes (TREAT, HPAYMT, ...)
    valid_from  timestamptz,
    valid_to    timestamptz,
    PRIMARY KEY (consent_id, recipient)
);
CREATE INDEX consent_share_recipient ON consent_share (recipient, patient_key);

-- Patients' requests to delete their data (PHR-04). A request is answered by an administrator: taken up as a disposal
-- (which a second person approves, and which is refused while legal retention runs), or refused with a reason the
-- patient sees.
CREATE TABLE deletion_request (
    id           uuid        PRIMARY KEY,
    patient_key  text        NOT NULL,
    requested_by text        NOT NULL,           -- the patient's account
    requested_at timestamptz NOT NULL,
    reason       text,
    answered_by  text,
    answered_at  timestamptz,
    outcome      text CHECK (outcome IN ('disposal', 'refused')),
    answer       text,                           -- the reason given to the patient (refusals) or a note
    disposal_id  uuid REFERENCES disposal (id)
);
CREATE INDEX deletion_request_patient ON deletion_request (patient_key);

-- Another Kiroku (or another facility's system) reads what patients share with its facility through a client of its
-- own (client credentials, read and search only): the client acts as the role 'partner' of that facility, so it
-- reaches exactly the records shared with the facility, and nothing of this installation's own.
ALTER TABLE oauth2_registered_client ADD COLUMN sharing_facility text;
INSERT INTO access_role VALUES ('partner', '連携先システム', 'Sharing partner (another facility''s system)');
INSERT INTO access_rule (role, category, action, reach)
SELECT 'partner', c, 'read', 'facility' FROM unnest(ARRAY['demographics', 'encounters', 'clinical', 'orders', 'results',
    'nursing']) c;
