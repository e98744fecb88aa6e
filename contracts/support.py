"""Support: the facts the support desk announces (a case escalated to a person, an interpreter
asked for), and its question to inquiries whether a patient's access token opens a case.

The token check travels on a core-NATS request/reply subject (`rpc.inquiries.token_check.v1`)
and carries the token's SHA-256 digest, never the token: inquiries keeps only that digest, so
it compares it as it is, and the token itself never leaves the process the patient sent it
to."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from contracts.envelope import AwareDatetime, Event
from contracts.inquiries import InquiryId

CaseId = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f-]{36}$")]
Priority = Literal["urgent", "normal"]
Category = Literal["transfer", "interpreter", "medicine", "medical", "billing", "other"]
# A staff member's work address: where an escalation is mailed. Not a patient's data.
StaffEmail = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


# The shape of a patient's access token as inquiries issues it (`cbp_` and 32 random bytes,
# base64url): a token of another shape opens nothing, and is refused before a request is asked.
PATIENT_TOKEN_PATTERN = r"^cbp_[A-Za-z0-9_-]{43}$"  # noqa: S105 - a shape, not a secret


class TokenCheckRequest(Event, frozen=True, kw_only=True, tag="token_check_request"):
    """Support asks inquiries whether the access token whose SHA-256 digest (hex) this is opens
    the inquiry."""

    inquiry_id: InquiryId
    token_sha256: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


class TokenChecked(Event, frozen=True, kw_only=True, tag="token_checked"):
    """The answer: whether the token opens the inquiry (False also for an unknown inquiry:
    nothing to enumerate)."""

    inquiry_id: InquiryId
    valid: bool


class TokenCheckFailed(Event, frozen=True, kw_only=True, tag="token_check_failed"):
    """Inquiries could not answer (a malformed request, its database down): ask again later."""

    reason: Annotated[str, msgspec.Meta(max_length=500)]


TokenCheckReply = TokenChecked | TokenCheckFailed
token_check_request_decoder = msgspec.json.Decoder(TokenCheckRequest)
token_check_reply_decoder = msgspec.json.Decoder(TokenCheckReply)


class CaseEscalated(Event, frozen=True, kw_only=True, tag="case_escalated"):
    """A support case was not acknowledged within its priority's target: it now waits on
    `to_person` (the next agent on call, or the lead), who is mailed at `to_email`. Ids, the
    case's category and language only: the thread never leaves the support service."""

    case_id: CaseId
    inquiry_id: str | None = None
    booking_id: str | None = None
    category: Category
    priority: Priority
    language: Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}$")]
    level: Literal["agent", "lead"]
    to_person: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    to_email: StaffEmail
    # The deadline that was missed, and when the new assignee must acknowledge by.
    missed_deadline: AwareDatetime
    acknowledge_by: AwareDatetime | None = None
    escalated_at: AwareDatetime


class InterpreterRequested(Event, frozen=True, kw_only=True, tag="interpreter_requested"):
    """Nobody on call speaks the patient's language: the desk asks for an interpreter to join
    by phone, as soon as one can."""

    case_id: CaseId
    inquiry_id: str | None = None
    language: Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}$")]
    requested_at: AwareDatetime


class CaseReplied(Event, frozen=True, kw_only=True, tag="case_replied"):
    """An agent replied in a case the patient follows with their access token (one they opened,
    or one a coordinator opened for them): notifications tells the patient, in the case's
    language, to read the reply where their token opens it. Ids and the language only: the
    reply itself never leaves the support service (email and SMS are not confidential)."""

    case_id: CaseId
    inquiry_id: InquiryId
    language: Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}$")]


SupportEvent = CaseEscalated | InterpreterRequested | CaseReplied
support_event_decoder = msgspec.json.Decoder(SupportEvent)
