-- What the patient needs to meet a booked service (the driver's name and phone, vehicle, meeting
-- point; the interpreter and when; carrier and tracking number), kept for the message that tells
-- them: sealed (aad notification:<id>:details), emptied with the case on erasure.
ALTER TABLE notifications ADD COLUMN sealed_details bytea;
