-- WebAuthn passkeys as a possession factor (issue 5, AUTH-07): one row per registered authenticator of a person.
CREATE TABLE passkey (
    credential_id bytea PRIMARY KEY,
    account_id    uuid NOT NULL REFERENCES account (id),
    name          text NOT NULL,                 -- what the person called it ("office security key")
    credential    bytea NOT NULL,                -- attested credential data: AAGUID, id and COSE public key
    sign_count    bigint NOT NULL,               -- the authenticator's counter: a step back means a cloned key
    transports    text[],
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz
);
CREATE INDEX passkey_account ON passkey (account_id);
