-- Access control (issue 6, ACL-01): who may read, write and confirm which information categories, how far (their
-- care relationships, their whole facility, or only their own record), held as data that administrators edit.

CREATE TABLE access_category (
    code    text PRIMARY KEY,
    name_ja text NOT NULL,
    name_en text NOT NULL
);
INSERT INTO access_category VALUES
    ('demographics', '患者基本情報',       'Patient demographics'),
    ('encounters',   '受診・入院・担当',   'Encounters, episodes and care teams'),
    ('clinical',     '診療記録',           'Clinical records (problems, notes, documents)'),
    ('orders',       'オーダ・処方',       'Orders and prescriptions'),
    ('results',      '検査結果',           'Laboratory and imaging results'),
    ('nursing',      '看護記録',           'Nursing records'),
    ('billing',      '会計・請求',         'Billing and claims'),
    ('sensitive',    '精神科等の機微情報', 'Mental health and other sensitive information'),
    ('audit',        'アクセス記録',       'Access log'),
    ('directory',    '施設・職員・マスタ', 'Facility, staff and master data'),
    ('unclassified', '未分類',             'Unclassified (no role reaches it until an administrator maps the type)');

-- A resource's category: by its type, unless one of its security labels or tags names another (labels win).
CREATE TABLE access_category_type (
    res_type text PRIMARY KEY,
    category text NOT NULL REFERENCES access_category (code)
);
INSERT INTO access_category_type (res_type, category)
SELECT t, 'demographics' FROM unnest(ARRAY['Patient', 'RelatedPerson', 'Person']) t
UNION ALL SELECT t, 'encounters' FROM unnest(ARRAY['Encounter', 'EpisodeOfCare', 'CareTeam', 'Appointment',
    'AppointmentResponse', 'Schedule', 'Slot', 'Group']) t
UNION ALL SELECT t, 'clinical' FROM unnest(ARRAY['Condition', 'AllergyIntolerance', 'Procedure', 'ClinicalImpression',
    'FamilyMemberHistory', 'CarePlan', 'Goal', 'Composition', 'DocumentReference', 'DocumentManifest', 'Flag',
    'Immunization', 'ImmunizationEvaluation', 'ImmunizationRecommendation', 'RiskAssessment', 'DetectedIssue',
    'AdverseEvent', 'QuestionnaireResponse', 'Communication', 'CommunicationRequest', 'List', 'Consent', 'Provenance',
    'Basic', 'BodyStructure', 'DeviceUseStatement', 'ResearchSubject', 'MeasureReport']) t
UNION ALL SELECT t, 'orders' FROM unnest(ARRAY['MedicationRequest', 'MedicationDispense', 'MedicationStatement',
    'ServiceRequest', 'DeviceRequest', 'NutritionOrder', 'VisionPrescription', 'SupplyRequest', 'SupplyDelivery',
    'Task', 'RequestGroup']) t
UNION ALL SELECT t, 'results' FROM unnest(ARRAY['Observation', 'DiagnosticReport', 'ImagingStudy', 'Specimen', 'Media',
    'MolecularSequence']) t
UNION ALL SELECT t, 'nursing' FROM unnest(ARRAY['MedicationAdministration']) t
UNION ALL SELECT t, 'billing' FROM unnest(ARRAY['Account', 'ChargeItem', 'Claim', 'ClaimResponse', 'Coverage',
    'CoverageEligibilityRequest', 'CoverageEligibilityResponse', 'EnrollmentRequest', 'EnrollmentResponse',
    'ExplanationOfBenefit', 'Invoice', 'PaymentNotice', 'PaymentReconciliation']) t
UNION ALL SELECT t, 'audit' FROM unnest(ARRAY['AuditEvent']) t
UNION ALL SELECT t, 'directory' FROM unnest(ARRAY['Practitioner', 'PractitionerRole', 'Organization', 'Location',
    'HealthcareService', 'Endpoint', 'Device', 'Medication', 'MedicationKnowledge', 'Substance', 'ValueSet',
    'CodeSystem', 'ConceptMap', 'NamingSystem', 'StructureDefinition', 'SearchParameter', 'Questionnaire',
    'ActivityDefinition', 'PlanDefinition', 'Library', 'Measure', 'ObservationDefinition', 'SpecimenDefinition',
    'ChargeItemDefinition', 'InsurancePlan', 'Binary', 'Bundle']) t;

CREATE TABLE access_category_label (
    system   text NOT NULL,
    code     text NOT NULL,
    category text NOT NULL REFERENCES access_category (code),
    PRIMARY KEY (system, code)
);
INSERT INTO access_category_label (system, code, category)
SELECT 'http://terminology.hl7.org/CodeSystem/v3-ActCode', c, 'sensitive'
FROM unnest(ARRAY['PSY', 'PSYTHPN', 'ETH', 'HIV', 'SDV', 'SEX', 'STD', 'SUD']) c
UNION ALL SELECT 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', c, 'sensitive' FROM unnest(ARRAY['R', 'V']) c
UNION ALL SELECT 'http://kiroku.jp/fhir/CodeSystem/information-category', code, code FROM access_category;

CREATE TABLE access_role (
    code    text PRIMARY KEY,
    name_ja text NOT NULL,
    name_en text NOT NULL
);
INSERT INTO access_role VALUES
    ('physician',        '医師',               'Physician'),
    ('dentist',          '歯科医師',           'Dentist'),
    ('nurse',            '看護師',             'Nurse'),
    ('pharmacist',       '薬剤師',             'Pharmacist'),
    ('technician',       '臨床検査技師・放射線技師', 'Laboratory or radiology technologist'),
    ('therapist',        '療法士',             'Therapist'),
    ('dietitian',        '管理栄養士',         'Dietitian'),
    ('doctor-assistant', '医師事務作業補助者', 'Doctor''s assistant (proxy input)'),
    ('clerk',            '医事課職員',         'Medical clerk'),
    ('admin',            'システム管理者',     'System administrator'),
    ('auditor',          '監査担当者',         'Auditor / security officer'),
    ('patient',          '患者',               'Patient');

-- The matrix: one row per (role, category, action) that is allowed; what is absent is denied.
-- reach: care = only patients the person has a care relationship with (records of no patient: all of the facility);
--        facility = every record of the person's facility; self = only the person's own patient record.
CREATE TABLE access_rule (
    role     text NOT NULL REFERENCES access_role (code),
    category text NOT NULL REFERENCES access_category (code),
    action   text NOT NULL CHECK (action IN ('read', 'write', 'confirm')),
    reach    text NOT NULL CHECK (reach IN ('care', 'facility', 'self')),
    PRIMARY KEY (role, category, action)
);
INSERT INTO access_rule (role, category, action, reach)
SELECT r, c, a, 'care' FROM unnest(ARRAY['physician', 'dentist']) r,
    unnest(ARRAY['demographics', 'encounters', 'clinical', 'orders', 'results']) c, unnest(ARRAY['read', 'write']) a
UNION ALL SELECT r, c, 'confirm', 'care' FROM unnest(ARRAY['physician', 'dentist']) r,
    unnest(ARRAY['clinical', 'orders', 'results']) c
UNION ALL SELECT 'physician', c, 'read', 'care' FROM unnest(ARRAY['nursing']) c
UNION ALL SELECT 'physician', 'sensitive', a, 'care' FROM unnest(ARRAY['read', 'write', 'confirm']) a
UNION ALL SELECT 'nurse', c, 'read', 'care' FROM unnest(ARRAY['demographics', 'encounters', 'clinical', 'orders', 'results', 'nursing']) c
UNION ALL SELECT 'nurse', c, 'write', 'care' FROM unnest(ARRAY['encounters', 'results', 'nursing']) c
UNION ALL SELECT 'nurse', 'nursing', 'confirm', 'care'
UNION ALL SELECT 'pharmacist', c, 'read', 'care' FROM unnest(ARRAY['demographics', 'clinical', 'orders', 'results', 'nursing']) c
UNION ALL SELECT 'pharmacist', 'orders', 'write', 'care'
UNION ALL SELECT 'technician', c, 'read', 'care' FROM unnest(ARRAY['demographics', 'orders', 'results']) c
UNION ALL SELECT 'technician', 'results', a, 'care' FROM unnest(ARRAY['write', 'confirm']) a
UNION ALL SELECT 'therapist', c, 'read', 'care' FROM unnest(ARRAY['demographics', 'clinical', 'orders', 'results']) c
UNION ALL SELECT 'therapist', 'clinical', 'write', 'care'
UNION ALL SELECT 'dietitian', c, 'read', 'care' FROM unnest(ARRAY['demographics', 'clinical', 'orders', 'results']) c
UNION ALL SELECT 'dietitian', 'orders', 'write', 'care'
UNION ALL SELECT 'doctor-assistant', c, 'read', 'care' FROM unnest(ARRAY['demographics', 'encounters', 'clinical', 'orders', 'results']) c
UNION ALL SELECT 'doctor-assistant', c, 'write', 'care' FROM unnest(ARRAY['clinical', 'orders']) c
UNION ALL SELECT 'clerk', c, a, 'facility' FROM unnest(ARRAY['demographics', 'encounters', 'billing']) c,
    unnest(ARRAY['read', 'write']) a
UNION ALL SELECT 'admin', 'directory', 'write', 'facility'
UNION ALL SELECT 'auditor', 'audit', 'read', 'facility'
UNION ALL SELECT 'patient', c, 'read', 'self' FROM unnest(ARRAY['demographics', 'encounters', 'clinical', 'orders',
    'results', 'nursing', 'billing']) c
UNION ALL SELECT r, 'directory', 'read', 'facility' FROM access_role r(r);

-- Care relationships (ACL-01 by duty): who treats which patient, derived from Encounter, EpisodeOfCare and CareTeam
-- whenever one is written (same transaction). party = Practitioner/…, PractitionerRole/…, Organization/… (a
-- department) or Location/… (a ward); until = the end of the source's period (null = open).
CREATE TABLE care_relation (
    res_type    text NOT NULL,
    res_id      text NOT NULL,
    party       text NOT NULL,
    patient_key text NOT NULL,
    until       timestamptz,
    PRIMARY KEY (res_type, res_id, party)
);
CREATE INDEX care_relation_party ON care_relation (party, patient_key);

-- Where a record belongs: its facility and its information category (kept on the current pointer for searches).
ALTER TABLE resource_current ADD COLUMN facility_id text;
ALTER TABLE resource_current ADD COLUMN category text;
UPDATE resource_current c SET facility_id = 'home',
    category = coalesce((SELECT t.category FROM access_category_type t WHERE t.res_type = c.res_type), 'unclassified');
ALTER TABLE resource_current ALTER COLUMN facility_id SET NOT NULL;
ALTER TABLE resource_current ALTER COLUMN category SET NOT NULL;

-- People's care units (departments and wards they are assigned to), and the doctor's assistant role.
ALTER TABLE account ADD COLUMN care_units text[] NOT NULL DEFAULT '{}';
