-- Tamper-evident ledgers (issue 4): the access log becomes one event per interaction, and both the record log
-- (resource_version) and the access log (audit_event) are put under append-only Merkle logs (RFC 6962/9162).

-- 1. The access log, one row per interaction (a search is one event naming every resource it returned).
--    Columns are the event; the ledger leaf is a canonical encoding of them (ledger.LeafEncoder).
CREATE TABLE audit_log (
    seq             bigserial   PRIMARY KEY,
    recorded        timestamptz NOT NULL,             -- server clock, UTC, millisecond precision
    action          text        NOT NULL,             -- read | vread | search | create | update | delete | history | transaction | everything | client.create ...
    outcome         text        NOT NULL,             -- success | denied | failed
    agent_kind      text        NOT NULL,             -- client | user | operator | anonymous
    agent_id        text        NOT NULL,
    agent_role      text,                             -- role the agent acted in (identity / access-control issues)
    source_address  text,                             -- network source, or the host of the local operator
    device_id       text,                             -- registered terminal (devices issue)
    purpose         text,                             -- purpose of use (access-control issue)
    request_id      text,                             -- one HTTP request or one admin command
    patients        text[]      NOT NULL,             -- patient keys touched (internal ids), sorted, distinct
    entities        text[]      NOT NULL,             -- resources touched: Type/id/_history/version (or Type/id, Type)
    detail          text,                             -- codes and counts only: no PHI, no secrets
    query           text                              -- what was asked (search parameters): may hold PHI, kept apart
);                                                    -- so that the encryption issue can encrypt it
CREATE INDEX audit_log_patients ON audit_log USING gin (patients);
CREATE INDEX audit_log_recorded ON audit_log (recorded);
CREATE INDEX audit_log_agent ON audit_log (agent_id, recorded);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION kiroku_refuse_change();

-- Events recorded before this migration keep their contents: one event each, as they were.
INSERT INTO audit_log (recorded, action, outcome, agent_kind, agent_id, source_address, patients, entities, detail)
SELECT recorded, action, outcome, agent_kind, agent_id, source_address,
       CASE WHEN patient_key IS NULL THEN '{}'::text[] ELSE ARRAY[patient_key] END,
       CASE WHEN res_type IS NULL THEN '{}'::text[]
            WHEN res_id IS NULL THEN ARRAY[res_type]
            WHEN version_id IS NULL THEN ARRAY[res_type || '/' || res_id]
            ELSE ARRAY[res_type || '/' || res_id || '/_history/' || version_id] END,
       detail
FROM audit_event ORDER BY seq;
DROP TABLE audit_event;

-- 2. Ledgers. A log is numbered: 1 = record log (resource_version), 2 = access log (audit_log).
--    A write inserts its rows; a trigger queues each row as pending in the same transaction (durable at commit).
--    The sequencer (one process at a time, advisory lock) appends pending rows to the log in batches.
CREATE TABLE ledger_pending (
    log         smallint NOT NULL,
    source_seq  bigint   NOT NULL,
    PRIMARY KEY (log, source_seq)
);

CREATE FUNCTION ledger_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ledger_pending (log, source_seq) VALUES (TG_ARGV[0]::smallint, NEW.seq);
    RETURN NULL;
END $$;
CREATE TRIGGER resource_version_ledger AFTER INSERT ON resource_version
    FOR EACH ROW EXECUTE FUNCTION ledger_enqueue('1');
CREATE TRIGGER audit_log_ledger AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION ledger_enqueue('2');

-- Rows written before the ledgers existed are the first leaves, in write order.
INSERT INTO ledger_pending (log, source_seq) SELECT 1, seq FROM resource_version;
INSERT INTO ledger_pending (log, source_seq) SELECT 2, seq FROM audit_log;

-- The logs themselves: leaf idx (0-based, dense) -> source row and leaf hash. Append-only.
CREATE TABLE ledger_entry (
    log         smallint NOT NULL,
    idx         bigint   NOT NULL,
    source_seq  bigint   NOT NULL,
    leaf_hash   bytea    NOT NULL,                    -- SHA-256(0x00 || leaf)
    PRIMARY KEY (log, idx)
);
CREATE UNIQUE INDEX ledger_entry_source ON ledger_entry (log, source_seq);
CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION kiroku_refuse_change();

-- Where each log's tree stands: size, root and the roots of its complete subtrees (the "compact range"), so that the
-- next batch continues the tree without reading old leaves. Derivable from ledger_entry; verification recomputes it.
CREATE TABLE ledger_state (
    log         smallint    PRIMARY KEY,
    size        bigint      NOT NULL,
    root        bytea       NOT NULL,
    frontier    bytea[]     NOT NULL,
    updated     timestamptz NOT NULL
);

-- Signed tree heads, kept for ever (and exportable to keep outside Kiroku). Append-only.
CREATE TABLE ledger_checkpoint (
    log         smallint    NOT NULL,
    size        bigint      NOT NULL,
    root        bytea       NOT NULL,
    signed_at   timestamptz NOT NULL,
    note        text        NOT NULL,                 -- the signed note (c2sp.org/tlog-checkpoint)
    timestamp_token bytea,                            -- RFC 3161 time-stamp token over the note, when a TSA is set
    PRIMARY KEY (log, size)
);
CREATE TRIGGER ledger_checkpoint_append_only BEFORE UPDATE OR DELETE ON ledger_checkpoint
    FOR EACH ROW EXECUTE FUNCTION kiroku_refuse_change();
