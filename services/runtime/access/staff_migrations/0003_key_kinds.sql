-- Two kinds of API key. A publishable key (cb_pk_) lives in a site's pages: it is public, so it
-- is bound to the site's origins and refused without one of them. A secret key (cb_sk_) lives on
-- a server and is refused when a browser's Origin comes with it. Keys issued before are secret.
ALTER TABLE api_keys
    ADD COLUMN kind text NOT NULL DEFAULT 'secret' CHECK (kind IN ('publishable', 'secret'));
-- Two active keys of a kind per consumer, so a key rotates without a gap: issue the second,
-- deploy it, revoke the first.
ALTER TABLE api_keys ADD COLUMN slot smallint NOT NULL DEFAULT 1 CHECK (slot IN (1, 2));
DROP INDEX api_keys_active_name;
CREATE UNIQUE INDEX api_keys_active_slot ON api_keys (name, kind, slot) WHERE revoked_at IS NULL;
-- The page of the consumer's site that shows a content document: JSON-LD `url` and links name it.
-- `{collection}`, `{slug}` and `{locale}` are filled in; NULL: the API's own path.
ALTER TABLE api_keys ADD COLUMN site_url_template text;
