-- Disclosure flags (issue 6, item 8): records marked JP-CLINS "UNINFORMED" (未告知: e.g. a diagnosis not yet told to
-- the patient) are in their own category, which the clinicians' roles reach and the patient's role does not, so the
-- patient's own access never shows them. Other labels can be mapped to it by administrators.
INSERT INTO access_category VALUES
    ('undisclosed', '未告知の情報', 'Not yet disclosed to the patient (JP-CLINS UNINFORMED)');
INSERT INTO access_category_label (system, code, category) VALUES
    ('http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication', 'UNINFORMED', 'undisclosed'),
    ('http://kiroku.jp/fhir/CodeSystem/information-category', 'undisclosed', 'undisclosed');
INSERT INTO access_rule (role, category, action, reach)
SELECT r, 'undisclosed', a, 'care' FROM unnest(ARRAY['physician', 'dentist']) r, unnest(ARRAY['read', 'write', 'confirm']) a
UNION ALL SELECT r, 'undisclosed', 'read', 'care' FROM unnest(ARRAY['nurse', 'pharmacist', 'technician', 'therapist',
    'dietitian', 'doctor-assistant']) r
UNION ALL SELECT 'doctor-assistant', 'undisclosed', 'write', 'care';
