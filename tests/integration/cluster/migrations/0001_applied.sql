-- What the consumer under test does with an event: one row per application, deliberately without
-- a unique key, so an event applied twice shows up as two rows.
CREATE TABLE applied (
    event_id   text NOT NULL,
    slug       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
