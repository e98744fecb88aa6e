-- What the patient needs to meet each booked service, as logistics carries it from the partner
-- (the driver's name and phone, vehicle, meeting point; the interpreter and when; carrier and
-- tracking number): sealed (aad inquiry:<id>:booking:<booking id>:arrangement), shown on the
-- patient's view, wiped with the rest of the case's personal data.
ALTER TABLE booking_progress ADD COLUMN arrangement bytea;
