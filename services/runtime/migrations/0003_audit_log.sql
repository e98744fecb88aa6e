-- Who changed what: every state-changing request made with a staff token, in every service.
-- Bodies are not kept (they can hold patient data); the route and its ids say what changed.

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    token_id    uuid NOT NULL,
    person      text NOT NULL,
    roles       text[] NOT NULL,
    method      text NOT NULL,
    route       text NOT NULL,
    target      jsonb NOT NULL DEFAULT '{}',
    status      integer NOT NULL,
    request_id  text
);
CREATE INDEX audit_log_person ON audit_log (person, id);
