-- Staff tokens expire: a lost or forgotten token stops working on its own. Tokens issued before
-- this migration get the default lifetime counted from their creation.
-- A rotated token names its replacement and keeps working only until its grace period ends
-- (its expires_at is brought forward to then).

ALTER TABLE staff_tokens ADD COLUMN expires_at timestamptz;
UPDATE staff_tokens SET expires_at = created_at + interval '90 days';
ALTER TABLE staff_tokens ALTER COLUMN expires_at SET NOT NULL;
ALTER TABLE staff_tokens ADD COLUMN replaced_by uuid REFERENCES staff_tokens (id);
