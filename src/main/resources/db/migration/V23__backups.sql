-- Backups (issue 8): every generation made, verified or restored in a drill, for the health indicator ("last verified
-- backup: 3 h ago"), the retention of generations and the compliance report. The backups themselves live outside.
CREATE TABLE backup_run (
    id              uuid PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind IN ('full', 'incremental')),
    parent_id       uuid,
    location        text        NOT NULL,             -- the generation's directory
    write_once      boolean     NOT NULL,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    position        bigint      NOT NULL,             -- record ledger size at the snapshot
    audit_position  bigint      NOT NULL,             -- access ledger size at the snapshot
    stored_bytes    bigint      NOT NULL,
    verified_at     timestamptz,
    verified_ok     boolean,
    verify_detail   text,
    drilled_at      timestamptz,
    drill_detail    text,
    pruned_at       timestamptz
);
CREATE INDEX backup_run_finished ON backup_run (finished_at);
