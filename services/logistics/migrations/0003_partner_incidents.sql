-- Personal-data breaches partners report (GDPR Art. 33(2) obliges a processor to tell the
-- controller; Art. 33(5) obliges the controller to document every breach). The partner's own
-- account is free text and may, against the protocol's rules, name someone: it is sealed like
-- booking details (associated data `incident:<id>:description`). What it touches is kept by id.
CREATE TABLE partner_incidents (
    id                    uuid PRIMARY KEY,
    partner_id            text NOT NULL REFERENCES partners (id),
    -- The report's ce-id, which the partner's tool showed when it sent it.
    report_id             text NOT NULL,
    category              text NOT NULL,
    sealed_description    bytea NOT NULL,
    detected_at           timestamptz NOT NULL,
    occurred_at           timestamptz,
    all_data              boolean NOT NULL,
    reported_at           timestamptz NOT NULL
);
CREATE INDEX partner_incidents_newest ON partner_incidents (reported_at DESC, id DESC);

CREATE TABLE partner_incident_bookings (
    incident_id  uuid NOT NULL REFERENCES partner_incidents (id),
    booking_id   uuid NOT NULL REFERENCES bookings (id),
    -- The pseudonymous case the booking belongs to, if it came from an inquiry.
    inquiry_id   text,
    PRIMARY KEY (incident_id, booking_id)
);
