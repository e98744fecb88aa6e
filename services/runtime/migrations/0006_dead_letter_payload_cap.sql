-- A dead letter keeps at most DEAD_LETTER_MAX_PAYLOAD bytes of its message (a partner could
-- otherwise fill the table with megabyte messages), with the size and SHA-256 of the whole
-- message, so an operator can still tell what arrived and match it against the sender's copy.
ALTER TABLE dead_letters
    ADD COLUMN payload_size bigint,
    ADD COLUMN payload_sha256 bytea,
    ADD COLUMN payload_truncated boolean NOT NULL DEFAULT false;
