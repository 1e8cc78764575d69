-- Break-glass (issue 6, ACL-04): a clinician opens a patient outside their care, with a reason, after
-- re-authentication, for a limited time; every use waits in a review queue until the security officer closes it.
CREATE TABLE break_glass (
    id             uuid PRIMARY KEY,
    username       text        NOT NULL,
    patient_key    text        NOT NULL,
    reason_code    text        NOT NULL,
    reason_text    text        NOT NULL,             -- the clinician's words: may hold PHI, never copied to the audit log
    source_address text,
    started_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    ended_at       timestamptz,                      -- closed early by the person
    reviewed_at    timestamptz,
    reviewed_by    text,
    review_outcome text CHECK (review_outcome IN ('justified', 'unjustified')),
    review_note    text
);
CREATE INDEX break_glass_person ON break_glass (username, expires_at);
CREATE INDEX break_glass_unreviewed ON break_glass (started_at) WHERE reviewed_at IS NULL;

-- Emergency accounts for disasters (ACL-04): disabled in normal times; one is enabled only when two different
-- administrators agree (a request and an approval); "return to normal" disables them all and replaces their
-- credentials, so that nothing used during the emergency works afterwards.
ALTER TABLE account ADD COLUMN emergency boolean NOT NULL DEFAULT false;
CREATE TABLE emergency_activation (
    id           uuid PRIMARY KEY,
    username     text        NOT NULL,
    reason       text        NOT NULL,
    requested_by text        NOT NULL,
    requested_at timestamptz NOT NULL,
    approved_by  text,
    approved_at  timestamptz,
    ended_by     text,
    ended_at     timestamptz
);
