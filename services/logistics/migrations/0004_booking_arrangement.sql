-- What the patient needs to meet each service, as its partner reported it (the driver's name
-- and phone, the vehicle, the meeting point; the interpreter and the session's time; the carrier
-- and tracking number): sealed like the booking's details (aad booking:<id>:arrangement), NULL
-- until reported and once the case is erased.
ALTER TABLE bookings ADD COLUMN sealed_arrangement bytea;
