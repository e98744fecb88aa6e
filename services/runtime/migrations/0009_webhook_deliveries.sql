-- Webhooks waiting to be delivered (partners' offers and notices, sites' content events): a row
-- per message and endpoint, written in the transaction of the change it announces (like the
-- outbox), deleted once the endpoint answered 2xx or the message's deadline passed. The body is
-- sealed when it names a person; the endpoint's answer is never stored.
CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY,
    endpoint        text NOT NULL,
    message_id      text NOT NULL,
    payload         bytea NOT NULL,
    sealed          boolean NOT NULL DEFAULT false,
    erasure_key     text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    deliver_by      timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at);
CREATE INDEX webhook_deliveries_erasure ON webhook_deliveries (erasure_key)
    WHERE erasure_key IS NOT NULL;
