-- What erasure leaves for the books: one pseudonymous stub per erased case that was priced,
-- paid or booked, kept for the accounting period (HGB §257, AO §147) and then deleted by
-- retention. It names no one: the case id, dates, services, amounts and bookings by id.
CREATE TABLE billing_stubs (
    inquiry_id    uuid PRIMARY KEY REFERENCES inquiries (id),
    stub          jsonb NOT NULL,
    retain_until  date NOT NULL
);
CREATE INDEX billing_stubs_due ON billing_stubs (retain_until);

-- The retention job's state, so its schedule survives restarts and replicas share it: a run is
-- due an interval (as configured now) after the last one began, and is claimed by whichever
-- replica first finds it due; each run's report is kept.
CREATE TABLE retention_schedule (
    job          text PRIMARY KEY,
    last_run_at  timestamptz NOT NULL
);

CREATE TABLE retention_runs (
    id           bigserial PRIMARY KEY,
    trigger      text NOT NULL CHECK (trigger IN ('schedule', 'command')),
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    -- What was purged, per data class: {"case_personal_data": 2, ...}.
    purged       jsonb NOT NULL
);
CREATE INDEX retention_runs_newest ON retention_runs (started_at DESC, id DESC);
