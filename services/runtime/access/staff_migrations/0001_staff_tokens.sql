-- Staff identities are platform infrastructure shared by every service (like an identity
-- provider), so they live in their own schema rather than in any one service's.

CREATE TABLE staff_tokens (
    id           uuid PRIMARY KEY,
    person       text NOT NULL,
    roles        text[] NOT NULL CHECK (cardinality(roles) > 0),
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
