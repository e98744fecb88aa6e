-- A message dead-lettered again (its terminate was lost, or the process died after storing it)
-- updates the open dead letter instead of adding a second one.
CREATE UNIQUE INDEX dead_letters_open_event ON dead_letters (consumer, event_id)
    WHERE event_id IS NOT NULL AND replayed_at IS NULL;
