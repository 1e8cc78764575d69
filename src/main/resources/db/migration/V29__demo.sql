-- Demo mode (issue 11, item 6): a database that `kiroku serve --demo` created says so, in one row. Demo mode refuses a
-- database with data but without this row, and a normal start refuses a database with it (demo accounts have
-- printed passwords; a demo must never turn into a real installation).
CREATE TABLE demo_installation (
    only_row  boolean     PRIMARY KEY DEFAULT true CHECK (only_row),
    marked_at timestamptz NOT NULL,               -- when serve --demo first started on this database
    marked_by text        NOT NULL,               -- the local operator (OS user@host)
    loaded_at timestamptz                         -- when the example data and demo accounts were complete
);
