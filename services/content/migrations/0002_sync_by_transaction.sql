-- Gap-free sync: each change records the transaction that wrote it. A sync page holds only the
-- changes of transactions below its snapshot's xmin (every one of them has ended, so each that
-- committed is visible), and its token is that xmin. A change whose transaction took a low seq
-- but committed after a reader's snapshot is therefore delivered on a later page, never skipped:
-- ordering by seq alone lost it for ever (docs/services/content.md, "Sync").
ALTER TABLE changes ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX changes_by_xid ON changes (xid);
