-- The consent record a disclosure relied on (purpose, the notice version the patient was shown,
-- when they gave it), when its legal basis is consent. Rows written before have none: their
-- basis text says what they assumed.
ALTER TABLE disclosure_log
    ADD COLUMN consent_purpose   text,
    ADD COLUMN consent_version   text,
    ADD COLUMN consent_given_at  timestamptz;
