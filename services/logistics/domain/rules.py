"""Booking rules, pure and synchronous: which state may follow which, which partner is offered a
booking next, how a partner's progress moves it, and what erasure leaves of it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import get_args

import msgspec

from contracts.logistics import (
    Address,
    BookingDetails,
    BookingKind,
    BookingStatus,
    InterpreterDetails,
    InterpreterSession,
    ShipmentDetails,
    TransferDetails,
    Traveller,
)
from contracts.partners import INTERPRETER_PROGRESS, SHIPMENT_PROGRESS, TRANSFER_PROGRESS
from contracts.registry import RESERVED_PARTNER_IDS
from services.logistics.domain.model import Capability, Partner
from services.runtime.core.errors import Conflict, IllegalTransition, Invalid

STATUSES: tuple[BookingStatus, ...] = get_args(BookingStatus)
KINDS: tuple[BookingKind, ...] = get_args(BookingKind)

TRANSITIONS: dict[BookingStatus, tuple[BookingStatus, ...]] = {
    "requested": ("offered", "unassigned", "cancelled"),
    "offered": ("confirmed", "unassigned", "cancelled"),
    # A partner may report the end straight away (a short transfer it did not narrate).
    "confirmed": ("in_progress", "completed", "cancelled", "failed"),
    # Each further step the partner reports is announced as in_progress -> in_progress.
    "in_progress": ("in_progress", "completed", "cancelled", "failed"),
    # A coordinator dispatches it again once a suitable partner is registered or activated.
    "unassigned": ("offered", "cancelled"),
    "completed": (),
    "cancelled": (),
    "failed": (),
}
TERMINAL: frozenset[BookingStatus] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)

PROGRESS: dict[BookingKind, tuple[str, ...]] = {
    "transfer": TRANSFER_PROGRESS,
    "interpreter": INTERPRETER_PROGRESS,
    "shipment": SHIPMENT_PROGRESS,
}
# The last step of each kind completes the booking.
FINAL_PROGRESS: dict[BookingKind, str] = {kind: steps[-1] for kind, steps in PROGRESS.items()}
# Steps a partner may report more than once: an interpreter attends several sessions.
REPEATABLE_PROGRESS = frozenset({"session_done"})
# From this step on the goods have left and a shipment can no longer be cancelled.
SHIPMENT_POINT_OF_NO_RETURN = "dispatched"

ERASED = "[erased]"


def check_partner_id(partner_id: str) -> None:
    """A partner's id is its NATS user and account name (deploy/nats_auth.py): one a service
    or the admin has would make NATS refuse the whole configuration."""
    if partner_id in RESERVED_PARTNER_IDS:
        raise Invalid.single("id", f"{partner_id!r} is reserved for Carebridge's own use")


def check_transition(current: BookingStatus, target: BookingStatus) -> None:
    """Raise IllegalTransition naming the allowed next states if `target` may not follow."""
    allowed = TRANSITIONS[current]
    if target not in allowed:
        detail = (
            f"a booking that is {current} cannot become {target}"
            if allowed
            else f"a booking that is {current} is closed"
        )
        raise IllegalTransition(detail, allowed=allowed)


def kind_of(details: BookingDetails) -> BookingKind:
    kind: BookingKind = details.__struct_config__.tag  # type: ignore[assignment]
    return kind


# --- dispatch --------------------------------------------------------------------------------


def required_capabilities(details: BookingDetails) -> frozenset[Capability]:
    needed: set[Capability] = set()
    match details:
        case TransferDetails():
            if details.mobility == "stretcher":
                needed.add("ambulance")
        case InterpreterDetails():
            if any(s.purpose == "informed_consent" for s in details.sessions):
                needed.add("informed_consent")
        case ShipmentDetails():
            if details.cold_chain:
                needed.add("cold_chain")
    return frozenset(needed)


def serves(partner: Partner, details: BookingDetails) -> bool:
    """The partner is active, serves this kind where (or in the languages) it is needed, and can
    do what the booking needs."""
    if not partner.active or kind_of(details) not in partner.kinds:
        return False
    if not required_capabilities(details) <= set(partner.capabilities):
        return False
    match details:
        case TransferDetails():
            return details.airport in partner.coverage.airports
        case InterpreterDetails():
            return {details.language_from, details.language_to} <= set(partner.languages)
        case ShipmentDetails():
            return (
                details.destination.country in partner.coverage.countries
                or details.destination.city in partner.coverage.cities
            )


def next_partner(
    details: BookingDetails, partners: Iterable[Partner], already_offered: Iterable[str]
) -> Partner | None:
    """The suitable partner with the highest priority that was not offered this booking before
    (one that declined or let the deadline pass is never asked again); ties by id."""
    asked = set(already_offered)
    candidates = [p for p in partners if p.id not in asked and serves(p, details)]
    candidates.sort(key=lambda p: (-p.priority, p.id))
    return candidates[0] if candidates else None


# --- progress reported by the partner ----------------------------------------------------------


def progress_target(
    kind: BookingKind, status: BookingStatus, current: str | None, reported: str
) -> BookingStatus | None:
    """The state a booking moves to when its partner reports `reported`, or None when the
    booking has already reached that step or a later one: a report delivered late (messages
    are redelivered out of order after a crash) is superseded and changes nothing. Refuses a
    step of another kind (Invalid) and progress of a booking not being served (Conflict)."""
    steps = PROGRESS[kind]
    if reported not in steps:
        raise Invalid.single(
            "status", f"{reported!r} is not a step of a {kind} ({', '.join(steps)})"
        )
    position = steps.index(reported)
    reached = -1 if current is None else steps.index(current)
    repeat = position == reached and reported in REPEATABLE_PROGRESS
    if status in ("in_progress", "completed") and position <= reached and not repeat:
        return None
    if status not in ("confirmed", "in_progress"):
        raise Conflict(f"a booking that is {status} takes no progress updates")
    target: BookingStatus = "completed" if reported == FINAL_PROGRESS[kind] else "in_progress"
    check_transition(status, target)
    return target


def check_cancellable(kind: BookingKind, status: BookingStatus, progress: str | None) -> None:
    if (
        kind == "shipment"
        and progress is not None
        and PROGRESS["shipment"].index(progress)
        >= PROGRESS["shipment"].index(SHIPMENT_POINT_OF_NO_RETURN)
    ):
        raise IllegalTransition(
            "a shipment cannot be cancelled once dispatched", allowed=("completed",)
        )
    check_transition(status, "cancelled")


# --- erasure ---------------------------------------------------------------------------------


def erased(details: BookingDetails) -> BookingDetails:
    """The booking without the traveller: names, phones and addresses replaced by a marker;
    what stays (kind, airport, dates, languages, medicines) identifies no one."""
    patient = Traveller(full_name=ERASED, phone=None, language=details.patient.language)
    match details:
        case TransferDetails():
            return msgspec.structs.replace(
                details,
                patient=patient,
                pickup=ERASED,
                dropoff=ERASED,
                meeting_point=None,
            )
        case InterpreterDetails():
            return msgspec.structs.replace(
                details, patient=patient, sessions=_sessions_erased(details.sessions)
            )
        case ShipmentDetails():
            return msgspec.structs.replace(
                details,
                patient=patient,
                destination=Address(
                    recipient=ERASED,
                    street=ERASED,
                    postal_code=ERASED,
                    city=ERASED,
                    country=details.destination.country,
                ),
                items=tuple(
                    msgspec.structs.replace(i, prescription_reference=None) for i in details.items
                ),
            )


def _sessions_erased(
    sessions: Sequence[InterpreterSession],
) -> tuple[InterpreterSession, ...]:
    return tuple(msgspec.structs.replace(s, place=ERASED) for s in sessions)


def parse_id(value: str, field: str) -> uuid.UUID:
    """An id a partner sent, as the UUID it must be (Invalid otherwise)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid.single(field, "is not a UUID") from None
