-- A booking made for a support case (an interpreter by phone, asked for when nobody on call
-- speaks the patient's language) names the case, so the outcome of its dispatch (a partner
-- took it, or none is left) is answered to the desk. An id, no personal data.
ALTER TABLE bookings ADD COLUMN support_case_id text;
