-- BCP downtime reading (issue 10, item 5): the downtime viewer's audit files imported into the access log. One row per
-- import, keyed by the hash of the last line imported (the chain's head), so the same file is not imported twice and a
-- file that grew after an import brings in only its new lines. The lines themselves become audit_log rows.
CREATE TABLE downtime_audit_import (
    head_hash   text        PRIMARY KEY,          -- SHA-256 of the last line imported
    first_prev  text        NOT NULL,             -- the chain's start: SHA-256 of the export file it logged
    lines       integer     NOT NULL,             -- lines in the file at this import
    imported    integer     NOT NULL,             -- lines recorded by this import (the rest came with earlier ones)
    imported_at timestamptz NOT NULL,
    imported_by text        NOT NULL
);
