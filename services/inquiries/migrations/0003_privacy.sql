-- The bookings logistics made for an inquiry, as the patient's timeline shows them: one row per
-- booking holding its newest version, so a late, older event is recognised and changes nothing.
CREATE TABLE booking_progress (
    booking_id    text PRIMARY KEY,
    inquiry_id    uuid NOT NULL REFERENCES inquiries (id),
    kind          text NOT NULL,
    status        text NOT NULL,
    version       integer NOT NULL CHECK (version >= 1),
    partner_name  text,
    progress      text,
    changed_at    timestamptz NOT NULL
);
CREATE INDEX booking_progress_inquiry ON booking_progress (inquiry_id);

-- Retention finds closed cases whose personal data is still there.
CREATE INDEX inquiries_unerased ON inquiries (updated_at) WHERE erased_at IS NULL;
