-- Token recovery: the patient asks for a new access token with the email on file.
-- The new token, sealed with the case's keys, waits here until notifications asks for it (its
-- contact request names `reissue_id`) and is forgotten once it is no longer fresh or the case is
-- erased; a newer recovery replaces it. Only the hash opens the case.
ALTER TABLE inquiries
    ADD COLUMN reissued_token bytea,
    ADD COLUMN reissue_id     uuid,
    ADD COLUMN reissued_at    timestamptz;

-- Every recovery request per inquiry id, matched or not (and for ids that do not exist, so
-- the limit says nothing about which exist): the rate limit counts them here, so replicas agree.
CREATE TABLE token_recovery_requests (
    inquiry_id    uuid NOT NULL,
    requested_at  timestamptz NOT NULL
);
CREATE INDEX token_recovery_requests_recent ON token_recovery_requests (inquiry_id, requested_at);
