-- Copies of personal data outside a service's own tables (GDPR Art. 17, DESIGN.md rule 6).
-- An event emitted with an erasure key (the inquiry whose person it names) is remembered by its
-- stream and sequence once published, so erasing that person deletes it from the stream rather
-- than leaving it there until the stream's max age; before publishing, its outbox row goes.
ALTER TABLE outbox ADD COLUMN erasure_key text;
-- Such an event's payload is sealed with the service's key ring until the relay publishes it.
ALTER TABLE outbox ADD COLUMN sealed boolean NOT NULL DEFAULT false;
CREATE INDEX outbox_erasure_key ON outbox (erasure_key) WHERE erasure_key IS NOT NULL;

CREATE TABLE stream_copies (
    stream             text NOT NULL,
    seq                bigint NOT NULL,
    erasure_key        text NOT NULL,
    published_at       timestamptz NOT NULL DEFAULT now(),
    erase_requested_at timestamptz,
    PRIMARY KEY (stream, seq)
);
CREATE INDEX stream_copies_key ON stream_copies (erasure_key);
CREATE INDEX stream_copies_requested ON stream_copies (erase_requested_at)
    WHERE erase_requested_at IS NOT NULL;

-- Messages others published that may mention the person (a partner's note on a booking): on
-- erasure, the relay reads `subject` in `stream` and deletes those holding one of `needles`.
CREATE TABLE stream_scans (
    id           bigserial PRIMARY KEY,
    stream       text NOT NULL,
    subject      text NOT NULL,
    needles      text[] NOT NULL,
    -- Where the next round reads on: a long scan is read a step at a time.
    next_seq     bigint NOT NULL DEFAULT 1,
    requested_at timestamptz NOT NULL DEFAULT now()
);

-- A dead letter's message can name a patient: erasing the patient empties it (and says when).
ALTER TABLE dead_letters ADD COLUMN payload_erased_at timestamptz;
