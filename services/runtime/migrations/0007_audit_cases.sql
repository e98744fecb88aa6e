-- Staff reads of decrypted personal or health data are audited too, and each row names the
-- cases it concerns, so an auditor (and the patient's export) finds who read one case and when.
-- Rows from before name none.

ALTER TABLE audit_log ADD COLUMN cases text[] NOT NULL DEFAULT '{}';
CREATE INDEX audit_log_cases ON audit_log USING gin (cases);
