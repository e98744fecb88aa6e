-- Applied in every service's schema: the transactional outbox, the idempotent inbox and the
-- dead-letter store (DESIGN.md rules 2 and 3).

CREATE TABLE outbox (
    seq        bigserial PRIMARY KEY,
    id         uuid NOT NULL UNIQUE,
    subject    text NOT NULL,
    headers    jsonb NOT NULL,
    payload    bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE inbox (
    consumer   text NOT NULL,
    event_id   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX inbox_applied_at ON inbox (applied_at);

CREATE TABLE dead_letters (
    id          bigserial PRIMARY KEY,
    consumer    text NOT NULL,
    subject     text NOT NULL,
    event_id    text,
    headers     jsonb NOT NULL,
    payload     bytea NOT NULL,
    error       text NOT NULL,
    attempts    integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    replayed_at timestamptz
);
CREATE INDEX dead_letters_open ON dead_letters (consumer, id) WHERE replayed_at IS NULL;
