-- An idempotent submission's answer (which holds the patient's access token) belongs to the
-- consumer whose API key submitted it, not to the `source` its body names: another consumer
-- naming the same source must neither read it back nor squat the key.
ALTER TABLE idempotent_submissions ADD COLUMN consumer_id uuid;
ALTER TABLE idempotent_submissions DROP CONSTRAINT idempotent_submissions_pkey;
-- Rows from before have no consumer and are never matched again (NULLs are distinct); they go
-- with their inquiry's erasure or retention like the others.
CREATE UNIQUE INDEX idempotent_submissions_by_consumer
    ON idempotent_submissions (consumer_id, key);
