-- Retention per facility type (issue 7, item 4): a facility (the id records and accounts carry) may be given its kind
-- of institution, and a retention rule may be set for one kind: e.g. a pharmacy keeping dispensing records longer.
-- The rules of facility_type '*' apply wherever no rule of the facility's type exists. A type's rule never goes below
-- the category's legal minimum.
CREATE TABLE facility (
    id     text PRIMARY KEY,
    name   text,
    type   text NOT NULL CHECK (type IN ('hospital', 'clinic', 'dental-clinic', 'pharmacy', 'home-nursing', 'midwifery')),
    set_by text NOT NULL,
    set_at timestamptz NOT NULL
);

ALTER TABLE retention_rule ADD COLUMN facility_type text NOT NULL DEFAULT '*';
ALTER TABLE retention_rule DROP CONSTRAINT retention_rule_pkey;
ALTER TABLE retention_rule ADD PRIMARY KEY (facility_type, category);
