-- Each message to a patient or to staff, written in the transaction that consumed the fact
-- (the inbox's), sent by the sender loop. The row's id is the message's Message-ID, so a send
-- repeated after a crash carries the same one.
--
-- No address is kept here: a patient's contact is asked of inquiries when the message is sent
-- (rpc.inquiries.contact.v1), the on-call address comes from the settings. `params` holds what
-- the template says (dates, a partner's company name, ids), never health or contact data.
CREATE TABLE notifications (
    id          uuid PRIMARY KEY,
    kind        text NOT NULL,
    audience    text NOT NULL CHECK (audience IN ('patient', 'staff')),
    inquiry_id  uuid,
    booking_id  uuid,
    params      jsonb NOT NULL DEFAULT '{}',
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    -- The one pending message of its kind a case may have (the offer reminder).
    key         text,
    -- When the sender may take it next: its schedule (a reminder), its retry, or the end of the
    -- lease of the replica sending it (a crash mid-send hands it on after the lease).
    send_after  timestamptz NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    channel     text,
    -- Why the last attempt did not succeed, as a code ("smtp 451 4.7.1"), never the address.
    last_error  text,
    -- The provider's whole answer, which may quote the address: sealed, erased with the case.
    sealed_reply bytea,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    sent_at     timestamptz
);
CREATE INDEX notifications_due ON notifications (send_after) WHERE status = 'pending';
CREATE INDEX notifications_case ON notifications (inquiry_id) WHERE inquiry_id IS NOT NULL;
CREATE UNIQUE INDEX notifications_pending_key ON notifications (key) WHERE status = 'pending';
