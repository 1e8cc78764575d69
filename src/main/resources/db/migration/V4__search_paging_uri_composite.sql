-- Paging snapshots: a search whose matches span several pages keeps the ordered keys of all its matches, so that
-- next/previous links page through exactly that list (no duplicates or gaps while others write). Only keys are kept,
-- never search values (which may be names). Expired snapshots are removed when new ones are saved.
CREATE TABLE search_snapshot (
    id          uuid        PRIMARY KEY,
    owner       text        NOT NULL,               -- the agent (client) that ran the search; only it may page
    res_type    text        NOT NULL,               -- the searched type (or the operation, e.g. Patient/$everything)
    created     timestamptz NOT NULL,
    total       integer     NOT NULL,           -- all matches; more than the keys when the search was truncated
    key_types   text[]      NOT NULL,
    key_ids     text[]      NOT NULL
);
CREATE INDEX search_snapshot_created ON search_snapshot (created);

-- uri parameters (canonical URLs, profiles, systems): plain values, they are not patient data.
CREATE TABLE search_uri (
    res_type    text NOT NULL,
    res_id      text NOT NULL,
    param       text NOT NULL,
    uri         text NOT NULL,
    patient_key text
);
CREATE INDEX search_uri_lookup ON search_uri (res_type, param, uri text_pattern_ops);
CREATE INDEX search_uri_resource ON search_uri (res_type, res_id);

-- _revinclude, _has and compartments look references up from the target's side.
CREATE INDEX search_reference_target ON search_reference (target_id, target_type);

-- Composite parameters (e.g. Observation code-value-quantity, component-code-value-quantity): one row per pair of
-- values taken from the same element, the first a token (system, code), the second in the v_ columns of its type.
CREATE TABLE search_composite (
    res_type    text NOT NULL,
    res_id      text NOT NULL,
    param       text NOT NULL,
    system      text,
    code        text NOT NULL,
    v_system    text,
    v_code      text,
    v_value     numeric,
    v_unit      text,
    v_lo        timestamptz,
    v_hi        timestamptz,
    v_norm      text,
    v_exact     text,
    patient_key text
);
CREATE INDEX search_composite_lookup ON search_composite (res_type, param, code, system);
CREATE INDEX search_composite_resource ON search_composite (res_type, res_id);
