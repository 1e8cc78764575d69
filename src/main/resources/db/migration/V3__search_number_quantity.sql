-- Number and quantity search parameters: the value as given, a quantity also with its system/code (UCUM) and unit.
-- eq/ne/ap use the precision of the searched value (value=100 matches 99.5 <= v < 100.5); gt/lt/ge/le compare values.

CREATE TABLE search_number (
    res_type    text NOT NULL,
    res_id      text NOT NULL,
    param       text NOT NULL,
    value       numeric NOT NULL,
    patient_key text
);
CREATE INDEX search_number_lookup ON search_number (res_type, param, value);
CREATE INDEX search_number_resource ON search_number (res_type, res_id);

CREATE TABLE search_quantity (
    res_type    text NOT NULL,
    res_id      text NOT NULL,
    param       text NOT NULL,
    value       numeric NOT NULL,
    system      text,
    code        text,
    unit        text,
    patient_key text
);
CREATE INDEX search_quantity_lookup ON search_quantity (res_type, param, code, value);
CREATE INDEX search_quantity_resource ON search_quantity (res_type, res_id);
