-- Bookings, their timeline, the partner registry and the offers made to partners.
-- Personal data (the traveller's name, phone, addresses) lives only inside `details`; erasure
-- rewrites it there and stamps `erased_at`, keeping the anonymous booking. Logs never see it.

CREATE TABLE partners (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    kinds         text[] NOT NULL,
    airports      text[] NOT NULL DEFAULT '{}',
    cities        text[] NOT NULL DEFAULT '{}',
    countries     text[] NOT NULL DEFAULT '{}',
    languages     text[] NOT NULL DEFAULT '{}',
    capabilities  text[] NOT NULL DEFAULT '{}',
    priority      integer NOT NULL,
    active        boolean NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE TABLE bookings (
    id          uuid PRIMARY KEY,
    inquiry_id  text,
    -- Which event requested it ('confirmed', 'discharged') and its place in that event's list:
    -- an event re-sent under a new id still books each service once.
    origin      text,
    position    integer,
    kind        text NOT NULL,
    status      text NOT NULL,
    version     integer NOT NULL CHECK (version >= 1),
    details     jsonb NOT NULL,
    partner_id  text REFERENCES partners (id),
    progress    text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    erased_at   timestamptz,
    UNIQUE (inquiry_id, origin, position)
);
CREATE INDEX bookings_list ON bookings (created_at, id);
CREATE INDEX bookings_inquiry ON bookings (inquiry_id);

CREATE TABLE booking_timeline (
    id          bigserial PRIMARY KEY,
    booking_id  uuid NOT NULL REFERENCES bookings (id),
    at          timestamptz NOT NULL,
    entry       text NOT NULL,
    status      text NOT NULL,
    partner_id  text,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX booking_timeline_booking ON booking_timeline (booking_id, id);

CREATE TABLE offers (
    id           uuid PRIMARY KEY,
    booking_id   uuid NOT NULL REFERENCES bookings (id),
    partner_id   text NOT NULL REFERENCES partners (id),
    sent_at      timestamptz NOT NULL,
    respond_by   timestamptz NOT NULL,
    state        text NOT NULL,
    answered_at  timestamptz,
    reason       text
);
-- At most one offer of a booking is open at a time.
CREATE UNIQUE INDEX offers_one_open ON offers (booking_id) WHERE state = 'open';
-- What the deadline loop scans.
CREATE INDEX offers_due ON offers (respond_by) WHERE state = 'open';
