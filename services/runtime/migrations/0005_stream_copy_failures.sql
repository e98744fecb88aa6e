-- Deleting a copy from its stream can keep failing (a NATS user without the delete grant, a
-- stream that refuses deletes): the relay goes on publishing and says so here, where an
-- operator lists what is still waiting and why (docs/operations/jetstream.md).
ALTER TABLE stream_copies
    ADD COLUMN erase_failures integer NOT NULL DEFAULT 0,
    ADD COLUMN last_erase_error text,
    ADD COLUMN last_erase_failed_at timestamptz;
ALTER TABLE stream_scans
    ADD COLUMN erase_failures integer NOT NULL DEFAULT 0,
    ADD COLUMN last_erase_error text,
    ADD COLUMN last_erase_failed_at timestamptz;
