-- Kiroku foundation schema.
-- Records are never overwritten: every create, update and delete adds a row to resource_version;
-- resource_current is only the pointer to the newest version of each resource.
-- Every table holding patient data carries patient_key so that it can later be distributed by patient.

CREATE TABLE resource_version (
    seq             bigserial   NOT NULL,             -- global write order (history paging, ledger leaves)
    res_type        text        NOT NULL,
    res_id          text        NOT NULL,
    version_id      integer     NOT NULL,
    patient_key     text,                             -- Patient compartment owner; null for non-patient resources
    facility_id     text,                             -- owning facility (access-control issue)
    last_updated    timestamptz NOT NULL,             -- server clock, UTC, millisecond precision
    deleted         boolean     NOT NULL,             -- a delete is a tombstone version
    author_kind     text        NOT NULL,             -- client | user | operator
    author_id       text        NOT NULL,
    on_behalf_of    text,                             -- proxy input (代行入力): the responsible author
    confirmed_by    text,                             -- record confirmation (INTEG-02)
    confirmed_at    timestamptz,
    body_format     smallint    NOT NULL DEFAULT 1,   -- 1 = FHIR JSON (UTF-8)
    key_ref         text,                             -- data key that encrypts body; null = not encrypted
    body            bytea,                            -- exact stored bytes; null for a tombstone
    content_hash    bytea       NOT NULL,             -- SHA-256 of body (of the empty string for a tombstone)
    PRIMARY KEY (res_type, res_id, version_id)
);
CREATE UNIQUE INDEX resource_version_seq ON resource_version (seq);
CREATE INDEX resource_version_type_updated ON resource_version (res_type, last_updated, seq);
CREATE INDEX resource_version_updated ON resource_version (last_updated, seq);
CREATE INDEX resource_version_patient ON resource_version (patient_key, last_updated) WHERE patient_key IS NOT NULL;

CREATE TABLE resource_current (
    res_type        text        NOT NULL,
    res_id          text        NOT NULL,
    version_id      integer     NOT NULL,
    deleted         boolean     NOT NULL,
    patient_key     text,
    last_updated    timestamptz NOT NULL,
    PRIMARY KEY (res_type, res_id)
);
CREATE INDEX resource_current_patient ON resource_current (patient_key) WHERE patient_key IS NOT NULL;

-- Versions are immutable: refuse UPDATE and DELETE even from the application itself.
CREATE FUNCTION kiroku_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER resource_version_append_only BEFORE UPDATE OR DELETE ON resource_version
    FOR EACH ROW EXECUTE FUNCTION kiroku_refuse_change();

-- Access log (LOG-01). The ledger issue adds the Merkle ledger over these rows.
CREATE TABLE audit_event (
    seq             bigserial   PRIMARY KEY,
    recorded        timestamptz NOT NULL,
    action          text        NOT NULL,             -- read | vread | create | update | delete | history | transaction | client.create ...
    outcome         text        NOT NULL,             -- success | denied | failed
    agent_kind      text        NOT NULL,             -- client | user | operator | anonymous
    agent_id        text        NOT NULL,
    source_address  text,
    patient_key     text,
    res_type        text,
    res_id          text,
    version_id      integer,
    detail          text                              -- no PHI, no secrets
);
CREATE INDEX audit_event_patient ON audit_event (patient_key, recorded) WHERE patient_key IS NOT NULL;
CREATE INDEX audit_event_recorded ON audit_event (recorded);
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION kiroku_refuse_change();

-- OAuth2 clients: Spring Authorization Server's schema (timestamps as timestamptz), plus Kiroku's columns.
CREATE TABLE oauth2_registered_client (
    id varchar(100) NOT NULL,
    client_id varchar(100) NOT NULL,
    client_id_issued_at timestamptz DEFAULT CURRENT_TIMESTAMP NOT NULL,
    client_secret varchar(200) DEFAULT NULL,
    client_secret_expires_at timestamptz DEFAULT NULL,
    client_name varchar(200) NOT NULL,
    client_authentication_methods varchar(1000) NOT NULL,
    authorization_grant_types varchar(1000) NOT NULL,
    redirect_uris varchar(1000) DEFAULT NULL,
    post_logout_redirect_uris varchar(1000) DEFAULT NULL,
    scopes varchar(1000) NOT NULL,
    client_settings varchar(2000) NOT NULL,
    token_settings varchar(2000) NOT NULL,
    disabled_at timestamptz DEFAULT NULL,
    created_by varchar(200) DEFAULT NULL,
    PRIMARY KEY (id)
);
CREATE UNIQUE INDEX oauth2_registered_client_client_id ON oauth2_registered_client (client_id);

-- Which current resources refer to which: keeps local references resolvable and refuses deletes of referenced
-- resources (409). Rows follow the current version only; they are an index, not record data.
CREATE TABLE resource_reference (
    target_type     text NOT NULL,
    target_id       text NOT NULL,
    src_type        text NOT NULL,
    src_id          text NOT NULL,
    PRIMARY KEY (target_type, target_id, src_type, src_id)
);
CREATE INDEX resource_reference_src ON resource_reference (src_type, src_id);
