-- The patient's consent to partner_sharing that inquiries' booking requests were sent on
-- (purpose, notice version, when given), per inquiry, as the events carry it: every partner
-- offer's disclosure record names it. Ids and versions only, no personal data; the latest grant
-- wins. Bookings requested before this was carried have none, and their offers name none.
CREATE TABLE sharing_consents (
    inquiry_id      text PRIMARY KEY,
    purpose         text NOT NULL,
    notice_version  text NOT NULL,
    given_at        timestamptz NOT NULL
);
