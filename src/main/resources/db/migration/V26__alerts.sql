-- Detection (issue 10, item 1): alerts raised by rules over the access log. Each names its evidence: the audit events
-- (audit_log.seq) that made it fire. Acknowledging keeps the alert; an incident may take it up later.
CREATE TABLE alert (
    id              bigserial   PRIMARY KEY,
    rule            text        NOT NULL,
    subject         text        NOT NULL,             -- what it is about: account:<name>, address:<ip>, ledger, backup
    summary         text        NOT NULL,             -- codes and counts only, no PHI
    evidence        bigint[]    NOT NULL,             -- audit_log.seq of the events (at most 200)
    window_from     timestamptz NOT NULL,
    window_to       timestamptz NOT NULL,
    fired_at        timestamptz NOT NULL,
    acknowledged_at timestamptz,
    acknowledged_by text
);
CREATE INDEX alert_rule_subject ON alert (rule, subject, fired_at);
CREATE INDEX alert_open ON alert (fired_at) WHERE acknowledged_at IS NULL;
