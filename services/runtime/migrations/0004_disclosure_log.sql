-- Every time personal data of a case leaves a service: to whom, which fields (names, never
-- values), when and on what legal basis (GDPR Art. 30 and 15(1)(c)). Applied in every service's
-- schema, as the audit log is; a service that discloses nothing keeps it empty.
-- It names no person beyond the recipient, so it stays after an erasure: it is the record that
-- the data went where it went.

CREATE TABLE disclosure_log (
    id              bigserial PRIMARY KEY,
    inquiry_id      text,
    kind            text NOT NULL,
    recipient_type  text NOT NULL,
    recipient       text NOT NULL,
    fields          text[] NOT NULL,
    legal_basis     text NOT NULL,
    reference       text,
    disclosed_at    timestamptz NOT NULL
);
CREATE INDEX disclosure_log_inquiry ON disclosure_log (inquiry_id, id);
