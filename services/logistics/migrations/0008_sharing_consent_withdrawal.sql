-- When the patient withdrew their consent to partner sharing (inquiries' consent_withdrawn
-- event): a request that books on the consent (a support case's interpreter) is refused from
-- then on. The grant stays, as the record the disclosures made before relied on; a later grant
-- puts the consent in force again.
ALTER TABLE sharing_consents ADD COLUMN withdrawn_at timestamptz;
