-- Devices (issue 9): the firmware (or OS) version each device type should run, so that the inventory says which
-- devices need an update (IOT-03); and the OAuth2 client a server-side integration uses, so that retiring the
-- integration's registry entry disables its credential (IOT-04).
CREATE TABLE device_firmware (
    device_type  text        PRIMARY KEY,
    version      text        NOT NULL,                -- the version devices of this type should run
    important    boolean     NOT NULL,                -- a security update: due devices are flagged in the health check
    note         text,                                -- e.g. the vendor's advisory
    set_at       timestamptz NOT NULL,
    set_by       text        NOT NULL
);
ALTER TABLE device ADD COLUMN client_id text;        -- integrations: the system client they use
