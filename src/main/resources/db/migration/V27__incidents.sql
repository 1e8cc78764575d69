-- Incident records (issue 10, item 3; INC-01..05): opened from alerts or by hand. The subjects (account:<name>,
-- client:<id>, address:<ip>) and the window say whose audit events are the incident's; the affected patients are
-- computed from the audit ledger, never typed in. The items the ministry's report and the Personal Information
-- Protection Commission's report ask for are kept here, filled in as the response goes on.
CREATE TABLE incident (
    id                bigserial   PRIMARY KEY,
    title             text        NOT NULL,
    status            text        NOT NULL CHECK (status IN ('open', 'contained', 'recovered', 'closed')),
    facility          text        REFERENCES facility (id),
    detected_at       timestamptz NOT NULL,             -- when the institution learned of it (report deadlines count from here)
    window_from       timestamptz NOT NULL,             -- the attack's events: from ...
    window_to         timestamptz,                      -- ... to (open: until now)
    subjects          text[]      NOT NULL DEFAULT '{}',
    systems           text[]      NOT NULL DEFAULT '{}', -- affected systems, in words
    description       text,                             -- what happened (概要)
    cause             text,                             -- 原因
    personal_data     text        NOT NULL DEFAULT 'unknown' CHECK (personal_data IN ('unknown', 'no', 'suspected', 'yes')),
    data_kinds        text[]      NOT NULL DEFAULT '{}', -- kinds of personal data affected (項目)
    malicious         boolean     NOT NULL DEFAULT false, -- by an act with unjust intent: the final PPC report is due in 60 days
    secondary_damage  text,                             -- 二次被害又はそのおそれ
    persons_notified  text,                             -- 本人への対応
    publication       text,                             -- 公表
    prevention        text,                             -- 再発防止策
    opened_by         text        NOT NULL,
    opened_at         timestamptz NOT NULL,
    closed_at         timestamptz
);

-- The timeline: alerts taken up, actions taken, contacts made, status changes, notes, reports sent. Append-only.
CREATE TABLE incident_entry (
    id          bigserial   PRIMARY KEY,
    incident_id bigint      NOT NULL REFERENCES incident (id),
    at          timestamptz NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('opened', 'alert', 'action', 'contact', 'status', 'note', 'report')),
    text        text        NOT NULL,
    by_agent    text        NOT NULL
);
CREATE INDEX incident_entry_incident ON incident_entry (incident_id, at);

ALTER TABLE alert ADD COLUMN incident_id bigint REFERENCES incident (id);

-- The contact chart (INC-02, checklist 3-①): who is called, in which order, inside and outside the institution.
CREATE TABLE incident_contact (
    id           bigserial PRIMARY KEY,
    party        text      NOT NULL CHECK (party IN ('internal', 'vendor', 'ministry', 'police', 'prefecture', 'ppc',
                                                     'other')),
    organisation text      NOT NULL,
    name         text,
    role         text,
    phone        text,
    email        text,
    notes        text,
    priority     int       NOT NULL DEFAULT 100     -- call order: lower first
);
