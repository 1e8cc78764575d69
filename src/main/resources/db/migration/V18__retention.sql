-- Retention (issue 7, PRES-01): how long each information category is kept after the patient's last entry in it, as
-- data. The legal minimum (requirement catalog §5) is fixed; an administrator may keep records longer, never shorter.
CREATE TABLE retention_rule (
    category      text PRIMARY KEY REFERENCES access_category (code),
    years         integer NOT NULL,
    legal_minimum integer NOT NULL,
    basis         text NOT NULL,
    CHECK (years >= legal_minimum)
);
INSERT INTO retention_rule (category, years, legal_minimum, basis) VALUES
    ('demographics', 5, 5, '診療録の一部 (医師法24条2項)'),
    ('encounters',   5, 5, '診療録の一部 (医師法24条2項; 療養担当規則9条: 完結の日から5年)'),
    ('clinical',     5, 5, '診療録 (医師法24条2項, 歯科医師法23条)'),
    ('sensitive',    5, 5, '診療録 (医師法24条2項)'),
    ('undisclosed',  5, 5, '診療録 (医師法24条2項)'),
    ('orders',       3, 3, '処方箋・調剤録 (薬剤師法27条・28条; 療養担当規則9条: 3年)'),
    ('results',      3, 3, '検査所見記録・エックス線写真 (医療法施行規則20条: 2年; 療養担当規則9条: 3年)'),
    ('nursing',      2, 2, '看護記録 (医療法21条, 医療法施行規則20条)'),
    ('billing',      3, 3, '療養の給付に関する帳簿・書類 (療養担当規則9条)');

-- A legal hold (訴訟等) keeps a patient's records past retention until it is released.
CREATE TABLE legal_hold (
    patient_key text PRIMARY KEY,
    reason      text NOT NULL,
    placed_by   text NOT NULL,
    placed_at   timestamptz NOT NULL
);
