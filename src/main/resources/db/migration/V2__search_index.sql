-- Search index: one row per extracted value of the CURRENT version of each resource (older versions leave it).
-- Token and string values pass through search.IndexValues so that switching to keyed hashes (blind index) for the
-- encryption issue is a change in one place; dates and references stay plain, as the brief says.
-- Every table carries patient_key for distribution by patient.

CREATE TABLE search_token (
    res_type    text NOT NULL,
    res_id      text NOT NULL,
    param       text NOT NULL,
    system      text,
    code        text NOT NULL,
    patient_key text
);
CREATE INDEX search_token_lookup ON search_token (res_type, param, code, system);
CREATE INDEX search_token_resource ON search_token (res_type, res_id);

CREATE TABLE search_string (
    res_type    text NOT NULL,
    res_id      text NOT NULL,
    param       text NOT NULL,
    norm        text NOT NULL,              -- normalised: NFKC, case- and accent-folded, hiragana as katakana
    exact       text NOT NULL,
    patient_key text
);
CREATE INDEX search_string_lookup ON search_string (res_type, param, norm text_pattern_ops);
CREATE INDEX search_string_resource ON search_string (res_type, res_id);

CREATE TABLE search_date (
    res_type    text NOT NULL,
    res_id      text NOT NULL,
    param       text NOT NULL,
    lo          timestamptz NOT NULL,       -- inclusive
    hi          timestamptz NOT NULL,       -- exclusive
    patient_key text
);
CREATE INDEX search_date_lookup ON search_date (res_type, param, lo, hi);
CREATE INDEX search_date_resource ON search_date (res_type, res_id);

CREATE TABLE search_reference (
    res_type    text NOT NULL,
    res_id      text NOT NULL,
    param       text NOT NULL,
    target_type text NOT NULL,
    target_id   text NOT NULL,
    patient_key text
);
CREATE INDEX search_reference_lookup ON search_reference (res_type, param, target_id, target_type);
CREATE INDEX search_reference_resource ON search_reference (res_type, res_id);

CREATE INDEX resource_current_type_updated ON resource_current (res_type, last_updated DESC, res_id) WHERE NOT deleted;
