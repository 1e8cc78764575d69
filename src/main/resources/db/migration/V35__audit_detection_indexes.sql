-- The detection rules (incidents.Detection) count audit events of one kind over windows of up to 24 hours, every
-- minute. With only the time index, each rule read every event of its window: on a log of 760,000 events (a few hours of
-- the search benchmark) the rules took ~8 s of PostgreSQL time per scan, most of it sequential scans of audit_log, and
-- the cost grew with the traffic (bench/RESULTS.md, 2026-12-07, "detection scans"). These indexes let each rule read
-- only the events it counts:
--   by action and outcome (logins, token refusals, break-glass, exports, backups, ledger and clock checks);
--   by the caller's kind and outcome (what persons read: mass-access, out-of-hours, vip-access);
--   refused requests (denied-burst), which are few.
-- On a large log these take a while to build during the upgrade (before the server serves).
CREATE INDEX IF NOT EXISTS audit_log_action ON audit_log (action, outcome, recorded);
CREATE INDEX IF NOT EXISTS audit_log_kind ON audit_log (agent_kind, outcome, recorded);
CREATE INDEX IF NOT EXISTS audit_log_denied ON audit_log (recorded) WHERE outcome = 'denied';
