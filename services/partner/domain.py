"""What the reference partner answers and reports, decided without I/O: the process around it
(app.py) only receives, waits and publishes. A real partner replaces these rules with its own
dispatching; the shapes of the answers stay those of contracts/partners.py."""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from typing import Literal, assert_never, cast
from zoneinfo import ZoneInfo

from contracts.logistics import (
    BookingDetails,
    BookingKind,
    InterpreterDetails,
    ShipmentDetails,
    TransferDetails,
)
from contracts.partners import (
    INTERPRETER_PROGRESS,
    SHIPMENT_PROGRESS,
    TRANSFER_PROGRESS,
    Offer,
    OfferAccepted,
    OfferDeclined,
    Progress,
    StatusUpdate,
)

PROGRESS: dict[BookingKind, tuple[Progress, ...]] = {
    "transfer": cast(tuple[Progress, ...], TRANSFER_PROGRESS),
    "interpreter": cast(tuple[Progress, ...], INTERPRETER_PROGRESS),
    "shipment": cast(tuple[Progress, ...], SHIPMENT_PROGRESS),
}

# Fictional staff and fleet; the traveller's own data never appears in what we report.
_DRIVERS = ("Jonas Weber", "Elif Yilmaz", "Marek Nowak", "Sofia Lange")
_VEHICLES = ("Mercedes-Benz V-Class", "VW Multivan", "Ford Tourneo Custom")
_WHEELCHAIR_VEHICLES = ("VW Crafter with wheelchair lift", "Mercedes-Benz Sprinter, ramp")
_AMBULANCE = "Mercedes-Benz Sprinter patient transport ambulance"
_INTERPRETERS = ("Olena Kovalenko", "Dmitri Sokolov", "Layla Haddad", "Anna Schmidt")
_CARRIERS = ("DHL Medical Express", "UPS Healthcare", "World Courier")

# Reply ids are derived from what they answer, so an offer redelivered after a crash (replied,
# not yet acked) produces the same ids and JetStream's duplicate window drops the second copy.
_REPLY_IDS = uuid.UUID("5b0c1f4e-6a2d-4c4e-9a57-0d6f3e2b8c11")


def offer_roll(seed: int, offer_id: str) -> float:
    """A number in [0, 1) fixed per offer and seed: an offer delivered again gets the answer it
    got the first time."""
    return random.Random(f"{seed}:{offer_id}").random()  # noqa: S311 - a simulation


def decide(
    offer: Offer,
    *,
    kinds: tuple[BookingKind, ...],
    accept_rate: float,
    roll: float,
    now: datetime,
) -> OfferAccepted | OfferDeclined | None:
    """The answer to an offer, or None when answering is pointless: its deadline has passed
    and the booking has already gone to the next partner."""
    if offer.respond_by <= now:
        return None
    if offer.kind not in kinds:
        return OfferDeclined(offer_id=offer.offer_id, reason="not_qualified")
    if roll >= accept_rate:
        return OfferDeclined(
            offer_id=offer.offer_id,
            reason="no_capacity",
            note="no free capacity at the requested time",
        )
    return OfferAccepted(offer_id=offer.offer_id)


def reply_id(offer_id: str, step: int | None = None) -> str:
    """The `ce-id` of the answer to `offer_id` (step None) or of its n-th status update: the
    same reply always gets the same id."""
    key = "answer" if step is None else f"step-{step}"
    return str(uuid.uuid5(_REPLY_IDS, f"{offer_id}:{key}"))


def status_update(
    booking_id: str, details: BookingDetails, status: Progress, *, at: datetime
) -> StatusUpdate:
    """The report of one step, with what the patient needs (the driver, their phone, vehicle
    and meeting point; the interpreter and the first session's time; carrier and tracking
    number). Derived from the booking id, so the same booking always reports the same."""
    pick = random.Random(booking_id)  # noqa: S311 - a simulation, not cryptography
    match status, details:
        case "driver_assigned", TransferDetails():
            driver = pick.choice(_DRIVERS)
            vehicle = _vehicle(details, pick)
            return StatusUpdate(
                booking_id=booking_id,
                status=status,
                driver_name=driver,
                driver_phone=f"+49151{pick.randrange(10**7, 10**8)}",
                vehicle=vehicle,
                # Where the booking asked, or the arrivals hall of the airport.
                meeting_point=details.meeting_point or f"{details.airport} arrivals hall, exit A",
                note=f"{driver} will meet the traveller, {vehicle}",
                at=at,
            )
        case "interpreter_assigned", InterpreterDetails():
            interpreter = pick.choice(_INTERPRETERS)
            return StatusUpdate(
                booking_id=booking_id,
                status=status,
                interpreter_name=interpreter,
                session_at=_session_start(details),
                note=f"{interpreter}, {details.language_from}->{details.language_to}",
                at=at,
            )
        case "dispatched", ShipmentDetails():
            carrier = pick.choice(_CARRIERS)
            tracking = f"CB{pick.randrange(10**9, 10**10)}DE"
            return StatusUpdate(
                booking_id=booking_id,
                status=status,
                carrier=carrier,
                tracking_number=tracking,
                note="cold chain" if details.cold_chain else None,
                at=at,
            )
        case _:
            return StatusUpdate(booking_id=booking_id, status=status, at=at)


def _session_start(details: InterpreterDetails) -> datetime:
    # Sessions are in the clinic's local time (the clinics are in Germany).
    first = details.sessions[0]
    return datetime.combine(first.date, first.start, tzinfo=ZoneInfo("Europe/Berlin"))


def _vehicle(details: TransferDetails, pick: random.Random) -> str:
    mobility: Literal["none", "wheelchair", "stretcher"] = details.mobility
    match mobility:
        case "stretcher":
            return _AMBULANCE
        case "wheelchair":
            return pick.choice(_WHEELCHAIR_VEHICLES)
        case "none":
            return pick.choice(_VEHICLES)
        case _:
            assert_never(mobility)


def steps(offer: Offer) -> tuple[Progress, ...]:
    """What the partner reports after accepting, in order: the kind's progression, with one
    `session_done` per interpreter session."""
    progression = PROGRESS[offer.kind]
    match offer.details:
        case InterpreterDetails(sessions=sessions):
            done = progression.index("session_done")
            session_done: Progress = "session_done"
            each = (session_done,) * len(sessions)
            return (*progression[:done], *each, *progression[done + 1 :])
        case _:
            return progression
