-- Browser submissions (made with a publishable key) carry a solved ALTCHA challenge. A solved
-- challenge is spent here, by its signature, so it cannot be replayed; it is kept until it
-- expires (a replay after that is refused as expired). The visitor (a hash of the key's id and
-- the client address, never the address itself) lets a limit count one visitor's submissions.
CREATE TABLE spent_challenges (
    signature   text PRIMARY KEY,
    visitor     bytea NOT NULL,
    spent_at    timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX spent_challenges_by_visitor ON spent_challenges (visitor, spent_at);
CREATE INDEX spent_challenges_expiry ON spent_challenges (expires_at);
