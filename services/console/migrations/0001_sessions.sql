-- Staff sessions of the console: its only state. A row is keyed by the SHA-256 of the random
-- session id the cookie carries (a read of this table opens no session); the person's staff
-- token is sealed with the console's key ring, its AAD the id hash, so a row copied onto
-- another id does not open.
CREATE TABLE sessions (
    id_hash       bytea PRIMARY KEY,
    sealed_token  bytea NOT NULL,
    roles         text[] NOT NULL,
    locale        text NOT NULL,
    csrf          text NOT NULL,
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL
);

-- The sweep of expired sessions reads by age.
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);
