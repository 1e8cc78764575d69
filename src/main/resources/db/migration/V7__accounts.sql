-- People's accounts (issue 5, AUTH-01..10): one account per natural person, Argon2id password hashes, a TOTP second
-- factor, throttling, and server-side sessions.

CREATE TABLE account (
    id                   uuid PRIMARY KEY,
    username             text NOT NULL,
    kind                 text NOT NULL CHECK (kind IN ('staff', 'patient')),
    roles                text[] NOT NULL,
    name                 text NOT NULL,                 -- in kanji (or as written)
    name_kana            text NOT NULL,                 -- katakana reading
    name_romaji          text,
    birth_date           date,                          -- refuses it inside passwords (AUTH-04)
    profession           text,                          -- qualification: physician, nurse, pharmacist, ... (AUTH-10)
    department           text,
    facility             text,
    employment           text NOT NULL DEFAULT 'employed' CHECK (employment IN ('employed', 'leave', 'left')),
    fhir_ref             text,                          -- Practitioner/…, PractitionerRole/… or Patient/…
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at           timestamptz NOT NULL,
    created_by           text NOT NULL,
    disabled_at          timestamptz,
    disabled_by          text,
    disabled_reason      text,
    last_login_at        timestamptz,
    password_hash        text NOT NULL,
    password_set_at      timestamptz NOT NULL,
    password_expires_at  timestamptz,                   -- only under the expiring-password rule (AUTH-04 b)
    password_must_change boolean NOT NULL DEFAULT true, -- issued by an administrator (AUTH-05)
    totp_secret          bytea,                         -- the possession factor's shared secret (encrypted by issue 7)
    totp_enrolled_at     timestamptz,
    totp_last_step       bigint NOT NULL DEFAULT 0      -- a code is accepted once
);
CREATE UNIQUE INDEX account_username ON account (lower(username));
CREATE INDEX account_last_login ON account (last_login_at);

CREATE TABLE password_history (
    account_id uuid NOT NULL REFERENCES account (id),
    hash       text NOT NULL,
    set_at     timestamptz NOT NULL
);
CREATE INDEX password_history_account ON password_history (account_id, set_at DESC);

CREATE TABLE recovery_code (
    account_id uuid NOT NULL REFERENCES account (id),
    code_hash  text NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (account_id, code_hash)
);

-- Failed logins per claimed user name (existing or not, so that nothing tells the two apart) and per source address.
CREATE TABLE login_throttle (
    key             text PRIMARY KEY,                   -- 'user:<lower-case name>' or 'addr:<address>'
    failures        int NOT NULL,
    last_failure_at timestamptz NOT NULL,
    not_before      timestamptz,                        -- the growing delay after a failure
    locked_until    timestamptz
);
CREATE INDEX login_throttle_age ON login_throttle (last_failure_at);

-- Spring Session JDBC (its schema-postgresql.sql, unchanged)
CREATE TABLE SPRING_SESSION (
    PRIMARY_ID CHAR(36) NOT NULL,
    SESSION_ID CHAR(36) NOT NULL,
    CREATION_TIME BIGINT NOT NULL,
    LAST_ACCESS_TIME BIGINT NOT NULL,
    MAX_INACTIVE_INTERVAL INT NOT NULL,
    EXPIRY_TIME BIGINT NOT NULL,
    PRINCIPAL_NAME VARCHAR(100),
    CONSTRAINT SPRING_SESSION_PK PRIMARY KEY (PRIMARY_ID)
);
CREATE UNIQUE INDEX SPRING_SESSION_IX1 ON SPRING_SESSION (SESSION_ID);
CREATE INDEX SPRING_SESSION_IX2 ON SPRING_SESSION (EXPIRY_TIME);
CREATE INDEX SPRING_SESSION_IX3 ON SPRING_SESSION (PRINCIPAL_NAME);

CREATE TABLE SPRING_SESSION_ATTRIBUTES (
    SESSION_PRIMARY_ID CHAR(36) NOT NULL,
    ATTRIBUTE_NAME VARCHAR(200) NOT NULL,
    ATTRIBUTE_BYTES BYTEA NOT NULL,
    CONSTRAINT SPRING_SESSION_ATTRIBUTES_PK PRIMARY KEY (SESSION_PRIMARY_ID, ATTRIBUTE_NAME),
    CONSTRAINT SPRING_SESSION_ATTRIBUTES_FK FOREIGN KEY (SESSION_PRIMARY_ID) REFERENCES SPRING_SESSION (PRIMARY_ID) ON DELETE CASCADE
);
