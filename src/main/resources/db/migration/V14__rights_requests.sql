-- Access rights workflow (issue 6, item 6; ACL-02, ACL-03): a department asks for a person's roles, the department's
-- manager approves (then the roles are applied) or rejects; a report compares what accounts have with what was
-- approved. Rows are kept for the record; a decision is made once.
CREATE TABLE department_manager (
    department  text NOT NULL,
    username    text NOT NULL,
    assigned_by text NOT NULL,
    assigned_at timestamptz NOT NULL,
    PRIMARY KEY (department, username)
);

CREATE TABLE rights_request (
    id           uuid PRIMARY KEY,
    username     text NOT NULL,           -- whose roles
    department   text NOT NULL,           -- the requesting department
    roles        text[] NOT NULL,         -- the complete set of roles the person should have
    reason       text NOT NULL,
    requested_by text NOT NULL,           -- kind:id of who asked
    requested_at timestamptz NOT NULL,
    decision     text CHECK (decision IN ('approved', 'rejected')),
    decided_by   text,                    -- the manager (username)
    decided_at   timestamptz,
    note         text
);
CREATE INDEX rights_request_user ON rights_request (username, decided_at);
