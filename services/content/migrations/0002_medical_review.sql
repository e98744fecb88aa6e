-- Medical review: reviewer profiles (kept by admins, keyed by the staff person), sign-offs of
-- one revision each, and the sign-off a published revision carries.

CREATE TABLE reviewers (
    person              text PRIMARY KEY,
    name                text NOT NULL,
    qualification       text NOT NULL,
    registration_number text,
    active              boolean NOT NULL DEFAULT true,
    updated_at          timestamptz NOT NULL
);

-- Append-only: a new sign-off never rewrites an earlier one.
CREATE TABLE sign_offs (
    id              bigserial PRIMARY KEY,
    document_id     uuid NOT NULL REFERENCES documents (id),
    revision        integer NOT NULL,
    -- The reviewer as they were at the time (person, name, qualification, registration number).
    reviewer        jsonb NOT NULL,
    reviewed_at     timestamptz NOT NULL,
    next_review_due date NOT NULL,
    note            text,
    FOREIGN KEY (document_id, revision) REFERENCES revisions (document_id, number)
);
CREATE INDEX sign_offs_document ON sign_offs (document_id, id);

ALTER TABLE published ADD COLUMN review jsonb;
ALTER TABLE published ADD COLUMN next_review_due date;
CREATE INDEX published_review_due ON published (next_review_due) WHERE kind <> 'service';
