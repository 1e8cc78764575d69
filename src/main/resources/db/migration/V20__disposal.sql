-- Disposal (issue 7, item 5; DISP-01..04): a job that one person requests and another approves, for one patient, for
-- every patient past retention, or for the records of one facility past retention (a facility closing). Executing it, patient by patient (each in its own transaction, so a long job resumes
-- where it stopped): a tombstone version of each of the patient's resources (the record ledger gets an entry per
-- disposed resource), the versions that held content removed with their index rows, the patient's data key destroyed
-- (crypto-shredding: every copy, backups included, becomes unreadable), and an access-log event with the SHA-256 of
-- the removed versions' numbers, which ties the register below to the ledger.
CREATE TABLE disposal (
    id             uuid PRIMARY KEY,
    scope          text NOT NULL CHECK (scope IN ('patient', 'past-retention', 'facility')),
    facility_id    text,                   -- scope facility: only the records made there
    reason         text NOT NULL,
    requested_by   text NOT NULL,
    requested_at   timestamptz NOT NULL,
    approved_by    text,
    approved_at    timestamptz,
    refused_by     text,
    refused_at     timestamptz,
    executed_at    timestamptz,            -- every patient of the job done (disposed of, or skipped with a reason)
    certificate    text                    -- the disposal certificate (JSON)
);

-- The patients of a job, fixed when it is requested, and what happened to each.
CREATE TABLE disposal_patient (
    disposal_id     uuid NOT NULL REFERENCES disposal (id),
    patient_key     text NOT NULL,
    done_at         timestamptz,
    skipped         text,                  -- why this patient was not disposed of (hold, referrers, new records)
    key_id          uuid,                  -- the data key destroyed (null when the patient keeps records elsewhere)
    resources       integer,
    versions        integer,
    versions_sha256 text,                  -- over the removed versions' seq numbers, ascending, one per line
    PRIMARY KEY (disposal_id, patient_key)
);
CREATE INDEX disposal_patient_patient ON disposal_patient (patient_key);

-- The disposal register of record versions: each removed resource_version row by its seq. Ledger verification counts
-- a log entry whose row is listed here as disposed, not deleted; the list is append-only.
CREATE TABLE disposed_version (
    seq         bigint PRIMARY KEY,
    disposal_id uuid NOT NULL REFERENCES disposal (id),
    patient_key text NOT NULL
);
CREATE TRIGGER disposed_version_append_only BEFORE UPDATE OR DELETE ON disposed_version
    FOR EACH ROW EXECUTE FUNCTION kiroku_refuse_change();

-- Versions stay append-only, and the application's role has no DELETE on them (platform.DatabaseRoles: a table whose
-- trigger function is named kiroku_refuse_change...). A disposal removes the versions it listed in the register
-- through this function, which runs with the owner's rights and only for a disposal not executed yet; the trigger
-- lets exactly the listed rows go.
CREATE FUNCTION kiroku_refuse_change_unless_disposed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM disposed_version WHERE seq = OLD.seq) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER resource_version_append_only ON resource_version;
CREATE TRIGGER resource_version_append_only BEFORE UPDATE OR DELETE ON resource_version
    FOR EACH ROW EXECUTE FUNCTION kiroku_refuse_change_unless_disposed();

CREATE FUNCTION kiroku_dispose_versions(p_disposal uuid, p_patient text) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    n integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM disposal d JOIN disposal_patient p ON p.disposal_id = d.id WHERE d.id = p_disposal
                   AND d.approved_at IS NOT NULL AND d.executed_at IS NULL AND p.patient_key = p_patient
                   AND p.done_at IS NULL) THEN
        RAISE EXCEPTION 'no approved disposal % of % waiting to be executed', p_disposal, p_patient
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM resource_version WHERE seq IN (SELECT seq FROM disposed_version WHERE disposal_id = p_disposal
                                               AND patient_key = p_patient);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
