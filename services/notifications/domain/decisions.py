"""Which message a fact brings, for whom, when, in which language; and what a failed attempt
leads to. Pure: given the fact and `now`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import assert_never

import msgspec

from contracts.inquiries import (
    AccessTokenReissued,
    BookingsReleased,
    ConsentWithdrawn,
    InquiryCancelled,
    InquiryConfirmed,
    InquiryDischarged,
    InquiryEvent,
    InquiryOfferSent,
    InquiryStatusChanged,
    InquirySubmitted,
    PersonalDataErased,
)
from contracts.logistics import (
    Arrangement,
    BookingCreated,
    BookingStatusChanged,
    InterpreterRequestAnswered,
    LogisticsEvent,
    OperatorAlert,
    PartnerSupportRequested,
)
from contracts.notifications import ContactChannel
from contracts.operations import DeadLetterRecorded
from contracts.support import CaseEscalated, CaseReplied, InterpreterRequested, SupportEvent
from services.notifications.domain.model import (
    Composed,
    Decision,
    Kind,
    Param,
    Pending,
    Planned,
    Recipient,
)

# The reminder before an offer's validity ends.
REMINDER_BEFORE = timedelta(hours=48)
# Languages every template is written in; any other falls back to English, as content does.
LANGUAGES = ("en", "de", "uk", "ru", "ar")
FALLBACK_LANGUAGE = "en"
RIGHT_TO_LEFT = frozenset({"ar"})
# Withdrawing this consent stops the case, and every message about it still pending.
STOPPING_CONSENT = "health_data_processing"
# Statuses after which an offer reminder has nothing left to remind of.
OFFER_SETTLED = frozenset(
    {"accepted", "confirmed", "declined", "cancelled", "expired", "completed"}
)


def offer_reminder_key(inquiry_id: str) -> str:
    return f"offer_expiring:{inquiry_id}"


def token_mail_key(inquiry_id: str) -> str:
    return f"access_token_reissued:{inquiry_id}"


# The one kind whose message carries a secret: the reissued access token, asked of inquiries
# with the contact at the moment of sending (by `reissue_id`), never kept here.
TOKEN_KIND = "access_token_reissued"  # noqa: S105 - a message kind, not a secret


def token_reissue_of(message: Pending) -> str | None:
    """The reissue whose token this message carries, for the contact request."""
    if message.kind != TOKEN_KIND:
        return None
    reissue = message.params.get("reissue_id")
    return reissue if isinstance(reissue, str) else None


def decide_inquiry_event(event: InquiryEvent, now: datetime) -> Decision:  # noqa: PLR0911, PLR0912 - one answer per fact
    match event:
        case InquirySubmitted():
            return _to_patient(event.inquiry_id, "inquiry_received", now)
        case InquiryStatusChanged():
            cancel = (
                (offer_reminder_key(event.inquiry_id),) if event.to_status in OFFER_SETTLED else ()
            )
            if event.to_status == "records_requested":
                return _to_patient(event.inquiry_id, "records_requested", now)
            return Decision(cancel_keys=cancel)
        case InquiryOfferSent():
            valid_until = event.valid_until.isoformat()
            planned = [
                Planned(
                    kind="offer_sent",
                    audience="patient",
                    inquiry_id=event.inquiry_id,
                    params={"valid_until": valid_until, "offer_version": event.offer_version},
                    send_after=now,
                )
            ]
            remind_at = event.valid_until - REMINDER_BEFORE
            if remind_at > now:
                planned.append(
                    Planned(
                        kind="offer_expiring",
                        audience="patient",
                        inquiry_id=event.inquiry_id,
                        params={"valid_until": valid_until, "offer_version": event.offer_version},
                        send_after=remind_at,
                        key=offer_reminder_key(event.inquiry_id),
                    )
                )
            # A newer offer replaces the reminder of the one it supersedes (same key).
            return Decision(
                planned=tuple(planned), cancel_keys=(offer_reminder_key(event.inquiry_id),)
            )
        case InquiryConfirmed():
            return _to_patient(event.inquiry_id, "inquiry_confirmed", now)
        case InquiryDischarged():
            return _to_patient(event.inquiry_id, "inquiry_discharged", now)
        case BookingsReleased():
            # Logistics' business: the patient hears of each booking once it is confirmed.
            return Decision()
        case InquiryCancelled():
            return Decision(cancel_case=event.inquiry_id)
        case ConsentWithdrawn():
            if event.purpose == STOPPING_CONSENT:
                return Decision(cancel_case=event.inquiry_id)
            return Decision()
        case PersonalDataErased():
            return Decision(cancel_case=event.inquiry_id, erase_case=True)
        case AccessTokenReissued():
            # A newer reissue replaces the pending mail of the one before: its token is dead.
            key = token_mail_key(event.inquiry_id)
            return Decision(
                planned=(
                    Planned(
                        kind="access_token_reissued",
                        audience="patient",
                        inquiry_id=event.inquiry_id,
                        params={"reissue_id": event.reissue_id},
                        send_after=now,
                        key=key,
                    ),
                ),
                cancel_keys=(key,),
            )
        case _:
            assert_never(event)


def decide_logistics_event(event: LogisticsEvent, now: datetime) -> Decision:
    match event:
        case BookingCreated():
            return Decision()
        case BookingStatusChanged():
            return _booking_step(event, now)
        case OperatorAlert():
            return Decision(planned=(_staff_alert(event, now),))
        case PartnerSupportRequested():
            return Decision()  # support opens a case; its escalations are what staff hear of
        case InterpreterRequestAnswered():
            return Decision()  # the support case's timeline says it; its agent reads it there
        case _:
            assert_never(event)


# The param naming the one staff member a message goes to, instead of the on-call address.
STAFF_EMAIL_PARAM = "staff_email"


# The param naming the language a support case is written in: its reply is announced in it.
CASE_LANGUAGE_PARAM = "case_language"


def decide_support_event(event: SupportEvent, now: datetime) -> Decision:
    """An escalated support case mails the person it now waits on, at their work address; an
    agent's reply in a case the patient follows tells the patient to read it (ids only)."""
    match event:
        case CaseReplied():
            return Decision(
                planned=(
                    Planned(
                        kind="support_replied",
                        audience="patient",
                        inquiry_id=event.inquiry_id,
                        params={"case_id": event.case_id, CASE_LANGUAGE_PARAM: event.language},
                        send_after=now,
                    ),
                )
            )
        case CaseEscalated():
            return Decision(
                planned=(
                    Planned(
                        kind="support_case_escalated",
                        audience="staff",
                        inquiry_id=event.inquiry_id,
                        booking_id=event.booking_id,
                        params={
                            "case_id": event.case_id,
                            "category": event.category,
                            "priority": event.priority,
                            "language": event.language,
                            "level": event.level,
                            "to_person": event.to_person,
                            "missed_deadline": event.missed_deadline.isoformat(),
                            "acknowledge_by": None
                            if event.acknowledge_by is None
                            else event.acknowledge_by.isoformat(),
                            STAFF_EMAIL_PARAM: event.to_email,
                        },
                        send_after=now,
                    ),
                )
            )
        case InterpreterRequested():
            return Decision()
        case _:
            assert_never(event)


# The partner's step that brings what the patient needs, and the message that tells them.
ARRANGED: dict[str, tuple[str, Kind]] = {
    "transfer": ("driver_assigned", "transfer_arranged"),
    "interpreter": ("interpreter_assigned", "interpreter_arranged"),
    "shipment": ("dispatched", "shipment_dispatched"),
}


def _booking_step(event: BookingStatusChanged, now: datetime) -> Decision:
    """A confirmed booking tells the patient who serves it; the partner's step that reports the
    driver, the interpreter or the tracking number tells them those, with whatever the
    partner had reported by then."""
    if event.inquiry_id is None:
        return Decision()
    details = booking_details(event.arrangement)
    params: dict[str, Param] = {"booking_kind": event.kind, "partner_name": event.partner_name}
    step, arranged_kind = ARRANGED[event.kind]
    kind: Kind
    if event.to_status == "confirmed":
        kind = "booking_confirmed"
    elif event.progress == step and details:
        kind = arranged_kind
    else:
        return Decision()
    return Decision(
        planned=(
            Planned(
                kind=kind,
                audience="patient",
                inquiry_id=event.inquiry_id,
                booking_id=event.booking_id,
                params=params,
                details=details,
                send_after=now,
            ),
        )
    )


def booking_details(arrangement: Arrangement | None) -> dict[str, Param]:
    """The arrangement's reported fields, as a template shows them (times as ISO 8601)."""
    if arrangement is None:
        return {}
    shown = msgspec.to_builtins(arrangement)
    return {name: str(value) for name, value in shown.items() if value is not None}


# The consumers of notifications that read dead-letter announcements: a dead letter of one of
# them is not announced to on-call by mail (it would fail the same way, for ever); its count
# still shows in the service's metrics and `/admin/dead-letters`.
DEAD_LETTER_CONSUMER_PREFIX = "notifications-dead-letters-"


def decide_dead_letter(event: DeadLetterRecorded, now: datetime) -> Decision:
    """A new dead letter in any service tells on-call what to do about it."""
    if event.service == "notifications" and event.consumer.startswith(DEAD_LETTER_CONSUMER_PREFIX):
        return Decision()
    return Decision(
        planned=(
            Planned(
                kind="dead_letter_recorded",
                audience="staff",
                params={
                    "service": event.service,
                    "dead_letter_id": event.dead_letter_id,
                    "consumer": event.consumer,
                    "subject": event.subject,
                    "error_type": event.error_type,
                    "attempts": event.attempts,
                    "raised_at": event.recorded_at.isoformat(),
                },
                send_after=now,
            ),
        )
    )


def _staff_alert(alert: OperatorAlert, now: datetime) -> Planned:
    if alert.alert == "booking_unassigned":
        return Planned(
            kind="booking_unassigned",
            audience="staff",
            inquiry_id=alert.inquiry_id,
            booking_id=alert.booking_id,
            # Logistics writes the detail (which partners were tried), never the patient.
            params={"detail": alert.detail, "raised_at": alert.raised_at.isoformat()},
            send_after=now,
        )
    return Planned(
        kind="partner_incident",
        audience="staff",
        params={
            "partner_id": alert.partner_id,
            "incident_id": alert.incident_id,
            "affected_cases": len(alert.affected_inquiry_ids),
            "affected_bookings": len(alert.affected_booking_ids),
            "raised_at": alert.raised_at.isoformat(),
            # GDPR Art. 33: the authority must hear within 72 hours of detection.
            "report_by": (alert.raised_at + timedelta(hours=72)).isoformat(),
        },
        send_after=now,
    )


def _to_patient(inquiry_id: str, kind: str, now: datetime) -> Decision:
    return Decision(
        planned=(
            Planned(
                kind=kind,  # type: ignore[arg-type]  # the callers above pass Kind literals
                audience="patient",
                inquiry_id=inquiry_id,
                params={},
                send_after=now,
            ),
        )
    )


def language_for(preferred: str | None) -> str:
    """The patient's language when a template speaks it, English otherwise."""
    return preferred if preferred in LANGUAGES else FALLBACK_LANGUAGE


def message_language(message: Pending, recipient: Recipient) -> str:
    """A support reply speaks the case's language (the one the patient wrote in) when a
    template does; every other message, and a case in another language, the patient's."""
    case_language = message.params.get(CASE_LANGUAGE_PARAM)
    if isinstance(case_language, str) and case_language in LANGUAGES:
        return case_language
    return language_for(recipient.language)


# Messages that go by email only: the access token is a secret an SMS (often shown on a locked
# screen) must not carry; staff are reached at the on-call address.
EMAIL_ONLY: frozenset[str] = frozenset({TOKEN_KIND})


def compose(
    message: Pending, recipient: Recipient, details: dict[str, Param] | None = None
) -> tuple[Composed, ...]:
    """The message once per channel the recipient agreed to (and it may go by) that has not
    taken it yet; empty when there is none. `details` are the message's opened
    `Planned.details`."""
    params = (
        message.params
        | (details or {})
        | ({"booking_id": message.booking_id} if message.booking_id else {})
        | ({"access_token": recipient.access_token} if recipient.access_token else {})
    )
    addresses: dict[ContactChannel, str | None] = {
        "email": recipient.address,
        "sms": None if message.kind in EMAIL_ONLY else recipient.phone,
    }
    return tuple(
        Composed(
            notification_id=message.id,
            kind=message.kind,
            channel=channel,
            to=to,
            language=message_language(message, recipient),
            inquiry_id=message.inquiry_id,
            params=params,
        )
        for channel in recipient.channels
        if (to := addresses.get(channel)) and channel not in message.delivered
    )


def failure_alert(message: Pending, reason: str, now: datetime) -> Planned | None:
    """A message that failed for good tells on-call, unless it was itself such an alert (an
    on-call address that refuses mail must not alert itself for ever)."""
    if message.kind == "notification_failed":
        return None
    return Planned(
        kind="notification_failed",
        audience="staff",
        inquiry_id=message.inquiry_id,
        booking_id=message.booking_id,
        params={
            "failed_kind": message.kind,
            "notification_id": message.id,
            "audience": message.audience,
            "reason": reason[:300],
        },
        send_after=now,
    )


def retry_delay(attempts: int, *, base: float, cap: float) -> timedelta:
    """Exponential backoff after the `attempts`-th failed attempt: base, 2 base, 4 base … cap."""
    return timedelta(seconds=min(cap, base * 2 ** max(attempts - 1, 0)))
