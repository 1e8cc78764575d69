-- Disposal (issue 7, item 5; DISP-01..04): a patient's records are destroyed by a job that one administrator requests
-- and another approves. Executing it destroys the patient's data key (crypto-shredding: every copy, backups included,
-- becomes unreadable), writes a tombstone version of each of their resources (the record ledger gets an entry per
-- disposed resource), removes the versions that held content and their index rows, and records the event in the
-- access ledger with the SHA-256 of the removed versions' numbers, which ties the register below to the ledger.
CREATE TABLE disposal (
    id             uuid PRIMARY KEY,
    patient_key    text NOT NULL,
    reason         text NOT NULL,
    requested_by   text NOT NULL,
    requested_at   timestamptz NOT NULL,
    approved_by    text,
    approved_at    timestamptz,
    refused_by     text,
    refused_at     timestamptz,
    executed_at    timestamptz,
    key_owner      text,                   -- the data key destroyed (data_key.owner)
    key_id         uuid,
    resources      integer,
    versions       integer,
    versions_sha256 text,                  -- over the removed versions' seq numbers, ascending, one per line
    certificate    text                    -- the disposal certificate (JSON)
);
CREATE INDEX disposal_patient ON disposal (patient_key);

-- The disposal register of record versions: each removed resource_version row by its seq. Ledger verification counts
-- a log entry whose row is listed here as disposed, not deleted; the list is append-only.
CREATE TABLE disposed_version (
    seq         bigint PRIMARY KEY,
    disposal_id uuid NOT NULL REFERENCES disposal (id)
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

CREATE FUNCTION kiroku_dispose_versions(p_disposal uuid) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    n integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM disposal WHERE id = p_disposal AND executed_at IS NULL AND refused_at IS NULL) THEN
        RAISE EXCEPTION 'no disposal % waiting to be executed', p_disposal USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM resource_version WHERE seq IN (SELECT seq FROM disposed_version WHERE disposal_id = p_disposal);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
