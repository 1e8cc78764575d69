-- The detection rules (incidents.Detection) count audit events of one kind over windows of up to 24 hours, every
-- minute. With only the time index, each rule read every event of its window: on a log of 760,000 events (a few hours of
-- the search benchmark) a scan took ~8 s of PostgreSQL time, most of it sequential scans of audit_log, and the cost grew
-- with the traffic (bench/RESULTS.md, 2026-12-07, "detection scans"). These partial indexes hold only what the rules
-- count, so that the FHIR reads and writes that make up nearly all of the log add nothing to them:
--   events other than FHIR reads and writes (logins, token refusals, break-glass, exports and prints, backups, ledger
--   and clock checks), by action and outcome;
--   what persons were given (mass-access, out-of-hours, vip-access);
--   refused requests (denied-burst).
-- On a large log these take a while to build during the upgrade (before the server serves).
CREATE INDEX IF NOT EXISTS audit_log_rare ON audit_log (action, outcome, recorded)
    WHERE action NOT IN ('read', 'vread', 'search', 'history', 'create', 'update', 'patch', 'delete', 'transaction',
                         'batch');
CREATE INDEX IF NOT EXISTS audit_log_persons ON audit_log (recorded) WHERE agent_kind = 'user' AND outcome = 'success';
CREATE INDEX IF NOT EXISTS audit_log_denied ON audit_log (recorded) WHERE outcome = 'denied';
