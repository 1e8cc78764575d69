-- Record confirmation (確定, INTEG-02) and proxy input (代行入力, INTEG-04), issue 6 item 7.
-- A version is confirmed when it is written by the confirm operation (resource_version.confirmed_by/confirmed_at, set
-- when the row is inserted: versions stay immutable). A proxy entry carries resource_version.on_behalf_of (the
-- responsible clinician) and stays 'unapproved' until that clinician confirms it. The current pointer keeps the
-- status for the checks on change and for the worklist; null = draft (or a record nobody confirms).
ALTER TABLE resource_current ADD COLUMN status text CHECK (status IN ('confirmed', 'unapproved'));
CREATE INDEX resource_current_unapproved ON resource_current (res_type, res_id) WHERE status = 'unapproved';
