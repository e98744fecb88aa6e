-- The coordinators' casework. Every column that can hold personal or health data is encrypted
-- by the service (AES-GCM, key id inside the value, aad bound to the row): note texts, offers
-- (procedures for one patient), confirmations (payer, travel plan) and discharges (medication,
-- home address). Plain columns hold only what the workflow filters and schedules on.

CREATE INDEX inquiries_newest ON inquiries (submitted_at DESC, id DESC);
CREATE INDEX inquiries_coordinator ON inquiries (coordinator, submitted_at DESC, id DESC);

-- Coordinators' notes: append-only, free text encrypted.
CREATE TABLE notes (
    id          uuid PRIMARY KEY,
    inquiry_id  uuid NOT NULL REFERENCES inquiries (id),
    author      text NOT NULL,
    body        bytea,
    at          timestamptz NOT NULL
);
CREATE INDEX notes_inquiry ON notes (inquiry_id, at);

-- Treatment offers (cost estimates), one row per version; a newer version supersedes the open
-- one. `valid_until` is the expiry deadline the scheduler claims, so it survives restarts.
CREATE TABLE offers (
    inquiry_id   uuid NOT NULL REFERENCES inquiries (id),
    version      integer NOT NULL CHECK (version >= 1),
    state        text NOT NULL
                 CHECK (state IN ('open', 'superseded', 'accepted', 'expired', 'withdrawn')),
    body         bytea,
    valid_until  timestamptz NOT NULL,
    sent_by      text NOT NULL,
    sent_at      timestamptz NOT NULL,
    accepted_by  text,
    closed_at    timestamptz,
    PRIMARY KEY (inquiry_id, version)
);
CREATE INDEX offers_due ON offers (valid_until) WHERE state = 'open';

-- What confirmed the trip (advance or guarantee, payer, travel plan) and what the discharge
-- arranged (fit to fly, medication, return flight, home address): one encrypted record each.
CREATE TABLE case_records (
    inquiry_id  uuid NOT NULL REFERENCES inquiries (id),
    kind        text NOT NULL CHECK (kind IN ('confirmation', 'discharge')),
    body        bytea,
    recorded_by text NOT NULL,
    at          timestamptz NOT NULL,
    PRIMARY KEY (inquiry_id, kind)
);

CREATE INDEX consents_inquiry ON consents (inquiry_id, purpose, id);
