-- The clinician's words of a break-glass use may hold personal data: sealed under the patient's data key from now on
-- (reason_sealed); uses recorded before keep their plain reason_text.
ALTER TABLE break_glass ADD COLUMN reason_sealed bytea;
ALTER TABLE break_glass ALTER COLUMN reason_text DROP NOT NULL;
