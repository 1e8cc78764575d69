-- BCP operating modes (issue 8, item 7): normal; read-only (reads and searches keep working, writes are refused, e.g.
-- while ransomware is suspected or a restore is being prepared); isolate (read-only, and only clients on the server's
-- own host are served). One row; every change is audited.
CREATE TABLE operating_mode (
    id      integer PRIMARY KEY CHECK (id = 1),
    mode    text NOT NULL CHECK (mode IN ('normal', 'read-only', 'isolate')),
    reason  text,
    set_by  text NOT NULL,
    set_at  timestamptz NOT NULL
);
INSERT INTO operating_mode (id, mode, reason, set_by, set_at) VALUES (1, 'normal', NULL, 'installation', now());
