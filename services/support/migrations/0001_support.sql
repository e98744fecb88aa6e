-- The support desk: agents and their shifts (the on-call rota), response targets per priority,
-- and cases with their timeline and their thread.
--
-- The thread (case_messages.sealed_body) is personal and often health data: sealed with the
-- service's key ring, erased with the case. Timeline entries say what happened in ids, kinds and
-- staff names, never what a patient wrote.

-- Staff with the role support_agent, as the desk knows them: where an escalation is mailed, the
-- languages they speak, their time zone. `lead` marks who an escalation reaches when every agent
-- on call was tried.
CREATE TABLE agents (
    person      text PRIMARY KEY,
    email       text NOT NULL,
    languages   text[] NOT NULL DEFAULT '{}',
    time_zone   text NOT NULL DEFAULT 'UTC',
    lead        boolean NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL
);

-- Who is on call when. `position` orders the people on call at one moment: the first takes new
-- cases, the next is escalated to. A handover is one shift ending where the next begins.
CREATE TABLE shifts (
    id          uuid PRIMARY KEY,
    person      text NOT NULL REFERENCES agents (person),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
    position    integer NOT NULL DEFAULT 0
);
CREATE INDEX shifts_when ON shifts (starts_at, ends_at);

CREATE TABLE policies (
    priority                    text PRIMARY KEY CHECK (priority IN ('urgent', 'normal')),
    acknowledge_within_seconds  integer NOT NULL CHECK (acknowledge_within_seconds > 0),
    resolve_within_seconds      integer NOT NULL CHECK (resolve_within_seconds > 0),
    updated_at                  timestamptz NOT NULL
);
INSERT INTO policies VALUES
    ('urgent', 900, 86400, now()),
    ('normal', 3600, 259200, now());

CREATE TABLE cases (
    id              uuid PRIMARY KEY,
    origin          text NOT NULL CHECK (origin IN ('patient', 'coordinator', 'partner', 'system')),
    inquiry_id      uuid,
    booking_id      uuid,
    partner_id      text,
    category        text NOT NULL,
    priority        text NOT NULL CHECK (priority IN ('urgent', 'normal')),
    language        text NOT NULL,
    status          text NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'acknowledged', 'resolved')),
    assignee        text,
    -- Everyone the case was put to so far, in order: an escalation goes to the next one.
    notified        text[] NOT NULL DEFAULT '{}',
    -- When the escalation loop takes the case: the acknowledge deadline of whoever holds it;
    -- NULL once acknowledged, or when nobody is left to escalate to.
    escalate_at     timestamptz,
    resolve_by      timestamptz NOT NULL,
    opened_at       timestamptz NOT NULL,
    acknowledged_at timestamptz,
    resolved_at     timestamptz,
    acknowledge_breached boolean NOT NULL DEFAULT false,
    resolve_breached     boolean NOT NULL DEFAULT false,
    erased_at       timestamptz
);
CREATE INDEX cases_escalate ON cases (escalate_at) WHERE escalate_at IS NOT NULL;
CREATE INDEX cases_inquiry ON cases (inquiry_id) WHERE inquiry_id IS NOT NULL;
CREATE INDEX cases_open ON cases (opened_at) WHERE status <> 'resolved';

CREATE TABLE case_timeline (
    id          bigserial PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES cases (id),
    at          timestamptz NOT NULL,
    kind        text NOT NULL,
    person      text,
    detail      text NOT NULL DEFAULT ''
);
CREATE INDEX case_timeline_case ON case_timeline (case_id, id);

CREATE TABLE case_messages (
    id          uuid PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES cases (id),
    at          timestamptz NOT NULL,
    author      text NOT NULL CHECK (author IN ('patient', 'agent', 'partner', 'system')),
    -- The agent's name, or the partner's id; NULL for the patient and the desk itself.
    author_name text,
    sealed_body bytea NOT NULL
);
CREATE INDEX case_messages_case ON case_messages (case_id, at);
