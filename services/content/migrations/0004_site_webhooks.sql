-- Sites' webhooks: a site (an API key's consumer name, the key's own table untouched) asks to
-- be told when content is published or unpublished, to purge its CDN. The signing secret is
-- sealed with CONTENT_ENCRYPTION_KEYS, as it must be read to sign.
CREATE TABLE site_webhooks (
    consumer       text PRIMARY KEY,
    url            text NOT NULL,
    events         text[] NOT NULL,
    signing_secret bytea NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
