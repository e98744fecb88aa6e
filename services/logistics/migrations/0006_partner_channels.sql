-- How a partner's messages reach it: NATS (the default) or signed webhooks to a URL, and the
-- credentials of the webhook channel: the signing secret (sealed with the key ring, as it must
-- be read to sign) and the token of the reply API (a SHA-256 hash only). A rotation gives the
-- old pair an end (`expires_at`) and adds a new one; both work until then.
ALTER TABLE partners
    ADD COLUMN channel text NOT NULL DEFAULT 'nats' CHECK (channel IN ('nats', 'webhook')),
    ADD COLUMN webhook_url text,
    ADD CONSTRAINT partners_webhook_url CHECK ((channel = 'webhook') = (webhook_url IS NOT NULL));

CREATE TABLE partner_credentials (
    id             uuid PRIMARY KEY,
    partner_id     text NOT NULL REFERENCES partners (id),
    token_hash     bytea NOT NULL UNIQUE,
    signing_secret bytea NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz
);
CREATE INDEX partner_credentials_partner ON partner_credentials (partner_id, created_at DESC);
