-- Consent is given per purpose against a published notice (services/inquiries/domain/consent.py),
-- and each processing step refuses unless its purpose was given. The consent log keeps its shape:
-- rows written before keep what they said (at submission, only health_data_processing), and a
-- purpose with no row counts as not given. The latest word per purpose is read by this index.
CREATE INDEX consents_latest ON consents (inquiry_id, purpose, id DESC);

-- Booking requests of a confirmation or discharge held back because the patient had not given
-- consent to partner_sharing; sent (released_at) once they give it. The requests name the
-- traveller: sealed (aad inquiry:<id>:held:<id>), wiped with the case's personal data.
CREATE TABLE held_requests (
    id           bigserial PRIMARY KEY,
    inquiry_id   uuid NOT NULL REFERENCES inquiries (id),
    step         text NOT NULL,
    purpose      text NOT NULL,
    body         bytea,
    held_at      timestamptz NOT NULL,
    released_at  timestamptz
);
CREATE INDEX held_requests_waiting ON held_requests (inquiry_id) WHERE released_at IS NULL;
