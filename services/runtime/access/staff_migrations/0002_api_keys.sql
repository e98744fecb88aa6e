-- Third-party sites and apps identify themselves with an API key: which origins may use it from
-- a browser, and how many requests a minute it may make. Keys are stored as SHA-256 hashes.

CREATE TABLE api_keys (
    id               uuid PRIMARY KEY,
    name             text NOT NULL,
    key_hash         bytea NOT NULL UNIQUE,
    allowed_origins  text[] NOT NULL DEFAULT '{}',
    rate_per_minute  integer NOT NULL CHECK (rate_per_minute > 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    revoked_at       timestamptz
);
-- A name stays free for a new key once the old one is revoked.
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;
