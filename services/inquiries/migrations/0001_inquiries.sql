-- Patient inquiries. Personal and health data live only in `personal`, encrypted with AES-GCM
-- (key id beside it, for rotation); the plain columns hold what coordinators filter on.

CREATE TABLE inquiries (
    id                 uuid PRIMARY KEY,
    status             text NOT NULL,
    version            integer NOT NULL CHECK (version >= 1),
    condition_slug     text NOT NULL,
    preferred_country  text NOT NULL,
    services           text[] NOT NULL,
    source             text NOT NULL,
    personal           bytea,
    key_id             text,
    access_token_hash  bytea NOT NULL UNIQUE,
    coordinator        text,
    submitted_at       timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    erased_at          timestamptz
);
CREATE INDEX inquiries_list ON inquiries (status, submitted_at, id);

-- A retried submission (same Idempotency-Key) answers what the first one answered, even when
-- the retries race: the key is unique, and the answer is stored encrypted.
CREATE TABLE idempotent_submissions (
    source        text NOT NULL,
    key           text NOT NULL,
    request_hash  bytea NOT NULL,
    inquiry_id    uuid NOT NULL REFERENCES inquiries (id),
    response      bytea NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (source, key)
);

-- Consent per purpose, append-only: a withdrawal is a new row, never an update.
CREATE TABLE consents (
    id          bigserial PRIMARY KEY,
    inquiry_id  uuid NOT NULL REFERENCES inquiries (id),
    purpose     text NOT NULL,
    granted     boolean NOT NULL,
    version     text NOT NULL,
    given_by    text NOT NULL,
    at          timestamptz NOT NULL
);

CREATE TABLE timeline (
    id          bigserial PRIMARY KEY,
    inquiry_id  uuid NOT NULL REFERENCES inquiries (id),
    at          timestamptz NOT NULL,
    kind        text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX timeline_inquiry ON timeline (inquiry_id, id);

-- Which condition pages exist, learned from content.* events (never by calling content).
CREATE TABLE known_conditions (
    slug      text PRIMARY KEY,
    revision  integer NOT NULL,
    locales   text[] NOT NULL
);
