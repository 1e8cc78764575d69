-- Blind index (issue 7, item 2): token, string and uri values and quantity units are stored as keyed hashes
-- (HMAC-SHA-256 under an index key, crypto.BlindIndex), never as they were written. Prefix search on strings uses the
-- hashes of every normalised prefix (up to 40 characters), kept as an array; uri :below the hashes of every prefix
-- that ends a path segment. Rows written before this migration held plain values: they are removed here and rebuilt
-- under the index key when Kiroku next starts (search.IndexRebuild), before it serves.

TRUNCATE search_token, search_string, search_uri, search_quantity, search_composite, search_date, search_reference,
    search_number;

-- One row per index key generation; the key itself is a data key (data_key.owner = 'index:<gen>'), wrapped by the
-- master key. A rotation adds a generation that is first only searched ('queried'), then written ('current') while
-- the one it replaces is still searched ('previous') until every resource is re-indexed; then that one is 'retired'
-- and its key destroyed. The cursor makes the re-index resumable after a crash.
CREATE TABLE index_key (
    gen          integer PRIMARY KEY,
    state        text NOT NULL CHECK (state IN ('queried', 'current', 'previous', 'retired')),
    created_at   timestamptz NOT NULL,
    changed_at   timestamptz NOT NULL,
    cursor_type  text,                    -- the last resource re-indexed under this generation (null: none yet)
    cursor_id    text,
    reindexed    bigint NOT NULL DEFAULT 0,
    reindex_done boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX index_key_one_current ON index_key ((true)) WHERE state = 'current';

ALTER TABLE search_string DROP COLUMN norm;
ALTER TABLE search_string ADD COLUMN prefixes text[] NOT NULL;
CREATE INDEX search_string_prefixes ON search_string USING gin (prefixes);
CREATE INDEX search_string_exact ON search_string (res_type, param, exact);

ALTER TABLE search_uri ADD COLUMN prefixes text[] NOT NULL;
DROP INDEX search_uri_lookup;
CREATE INDEX search_uri_lookup ON search_uri (res_type, param, uri);
CREATE INDEX search_uri_prefixes ON search_uri USING gin (prefixes);

ALTER TABLE search_composite DROP COLUMN v_norm;
ALTER TABLE search_composite ADD COLUMN v_prefixes text[];

-- What was asked in a search (which may name a patient) is sealed under the audit data key from now on; events
-- recorded before keep their plain text in query (the log is append-only).
ALTER TABLE audit_log ADD COLUMN query_sealed bytea;
