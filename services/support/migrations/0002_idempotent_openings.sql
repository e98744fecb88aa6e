-- A retried opening (same Idempotency-Key from the same patient or coordinator) answers the
-- case the first one opened instead of opening another. `scope` is who sent it: the inquiry for
-- a patient, the staff person for a coordinator.
CREATE TABLE case_openings (
    scope       text NOT NULL,
    key         text NOT NULL,
    case_id     uuid NOT NULL REFERENCES cases (id),
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);
