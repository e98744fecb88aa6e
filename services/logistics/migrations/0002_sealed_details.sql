-- A booking's details (the traveller's name, phone and language, addresses, medicines) are
-- sealed by the service with AES-256-GCM under LOGISTICS_ENCRYPTION_KEYS before they reach the
-- database, bound to their booking (associated data `booking:<id>:details`), with the id of the
-- sealing key beside them for rotation. Dispatch chooses partners in Python from the opened
-- details and listing filters only on kind and status, so no plain copy of any detail is kept.
--
-- The plain `details` column goes in the same step. SQL cannot seal (the keys never reach
-- PostgreSQL), and no release of this service exists, so no database should hold bookings yet;
-- one that does is refused, not silently emptied.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM bookings) THEN
        RAISE EXCEPTION 'logistics.bookings holds bookings with plain-text details, which this '
            'migration cannot seal: start from an empty logistics schema (a local stack: '
            'make reset)';
    END IF;
END $$;

ALTER TABLE bookings
    DROP COLUMN details,
    ADD COLUMN sealed_details bytea NOT NULL,
    ADD COLUMN key_id text NOT NULL;
