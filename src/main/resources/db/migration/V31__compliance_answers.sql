-- The compliance report (issue 12, item 6): the security officer's answers to what the system cannot know (the
-- organisational requirements and checklist items). Each answer is a new row, so earlier answers stay as they were
-- given; the report shows the newest per item, with who gave it and when.
CREATE TABLE compliance_answer (
    id          bigserial   PRIMARY KEY,
    item        text        NOT NULL,             -- a requirement id (NET-01) or a checklist key (CL-1-1)
    answer      text        NOT NULL,
    answered_by text        NOT NULL,             -- the person or local operator (kind:id)
    answered_at timestamptz NOT NULL
);
CREATE INDEX compliance_answer_item ON compliance_answer (item, answered_at DESC);
