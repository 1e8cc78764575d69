-- Envelope encryption (issue 7): one data key per owner (a patient, a facility, the audit log), stored only wrapped by
-- the master key, which never enters the database. Destroying a key (crypto-shredding) removes the wrapped bytes and
-- keeps the row as the disposal register: a restore must never revive a key listed here as destroyed.
CREATE TABLE data_key (
    owner         text PRIMARY KEY,        -- patient:<patient key> | facility:<id> | audit
    key_id        uuid NOT NULL,
    wrapped       bytea,                   -- null once destroyed
    master_key_id text NOT NULL,
    created_at    timestamptz NOT NULL,
    destroyed_at  timestamptz,
    destroyed_by  text
);
