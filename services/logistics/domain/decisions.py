"""The booking decisions: each is given the booking's state as loaded, the command and `now`,
and returns the `Change` to save (the new state, the offers opened and closed, the timeline
entries and the events), or raises a DomainError and nothing is saved. Ids of new rows come in
as arguments too, so a decision is a function of its inputs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from contracts.envelope import Event
from contracts.inquiries import ConsentBasis
from contracts.logistics import (
    Arrangement,
    BookingCreated,
    BookingDetails,
    BookingStatus,
    BookingStatusChanged,
    OperatorAlert,
)
from contracts.partners import (
    DataErasureRequested,
    Offer,
    OfferDeclined,
    OfferWithdrawn,
    StatusUpdate,
)
from contracts.registry import (
    BOOKING_CREATED,
    BOOKING_STATUS_CHANGED,
    OPERATOR_ALERT,
    PARTNER_OFFERS,
)
from contracts.support import InterpreterRequested
from services.logistics import need_to_know
from services.logistics.domain import interpreter_requests
from services.logistics.domain.model import (
    Booking,
    BookingState,
    Change,
    Message,
    OfferRow,
    Partner,
    TimelineEntry,
)
from services.logistics.domain.rules import (
    TERMINAL,
    check_cancellable,
    check_transition,
    erased,
    kind_of,
    next_partner,
    parse_id,
    progress_target,
)
from services.runtime.core.errors import Conflict, NotYet

# What a partner is told when a booking it was offered or holds is called off: never why, as a
# coordinator's reason is free text that may name the traveller or the illness.
CANCELLED = "booking cancelled"
EXPIRED = "no answer by the deadline"


@dataclass(frozen=True)
class Offering:
    """What a decision that may offer the booking to the next partner is given: the active
    partners of its kind, how long a partner has to answer, and the id of the offer it makes."""

    partners: tuple[Partner, ...]
    timeout: timedelta
    offer_id: uuid.UUID


# --- commands ----------------------------------------------------------------------------------


def create(
    booking_id: uuid.UUID,
    details: BookingDetails,
    *,
    inquiry_id: str | None,
    offering: Offering,
    now: datetime,
    support_case_id: str | None = None,
) -> Change:
    """A new booking, announced, and offered at once to the best suitable partner (or
    `unassigned`, with an operator alert, when there is none)."""
    kind = kind_of(details)
    booking = Booking(
        id=booking_id,
        inquiry_id=inquiry_id,
        kind=kind,
        status="requested",
        version=1,
        details=details,
        partner_id=None,
        progress=None,
        created_at=now,
        updated_at=now,
        erased_at=None,
        support_case_id=support_case_id,
    )
    draft = _Draft(BookingState(booking=booking), now, new=True)
    draft.note("created")
    draft.announce(
        BOOKING_CREATED.subject(),
        BookingCreated(
            booking_id=str(booking_id), inquiry_id=inquiry_id, kind=kind, created_at=now
        ),
    )
    draft.offer_to_next_partner(offering)
    return draft.change()


def book_for_case(
    request: InterpreterRequested,
    *,
    consent: ConsentBasis | None,
    booking_id: uuid.UUID,
    offering: Offering,
    now: datetime,
) -> Change | Message:
    """The support desk's request for an interpreter by phone: a booking for the case, offered
    at once like any other, or the refusal to announce when there is no inquiry to book it for
    (a partner's case) or no consent to share it with a partner."""
    if request.inquiry_id is None:
        return interpreter_requests.refusal(request, "no_inquiry", now)
    if consent is None or consent.purpose != "partner_sharing":
        return interpreter_requests.refusal(request, "no_consent", now)
    return create(
        booking_id,
        interpreter_requests.phone_session(request.language, now),
        inquiry_id=request.inquiry_id,
        offering=offering,
        now=now,
        support_case_id=request.case_id,
    )


def dispatch_again(state: BookingState, offering: Offering, *, now: datetime) -> Change:
    """Offer an unassigned booking again; partners that declined or let the deadline pass are
    still not asked again, so with none left the command is refused."""
    check_transition(state.booking.status, "offered")
    draft = _Draft(state, now)
    partner = draft.next_partner(offering)
    if partner is None:
        raise Conflict(
            f"still no suitable active {state.booking.kind} partner that was not asked before "
            f"({len(state.offers)} asked)"
        )
    draft.offer(partner, offering)
    return draft.change()


def expire(
    state: BookingState, offer_id: uuid.UUID, offering: Offering, *, now: datetime
) -> Change | None:
    """An offer not answered by its deadline is withdrawn and the booking goes to the next
    partner. None when the offer was answered meanwhile (between the scan and the lock)."""
    offer = _offer_of(state, offer_id)
    if offer is None or offer.state != "open":
        return None
    draft = _Draft(state, now)
    draft.close(offer, "expired", EXPIRED)
    draft.withdraw(offer, f"{EXPIRED}: offered to another partner")
    draft.note("offer_expired", partner=offer.partner_id, detail={"offer_id": str(offer.id)})
    draft.offer_to_next_partner(offering)
    return draft.change()


def accept(state: BookingState | None, offer_id: str, sender: str, *, now: datetime) -> Change:
    """Partner `sender` takes the booking it was offered: confirmed, held by it."""
    state, offer = _open_offer(state, offer_id, sender)
    draft = _Draft(state, now)
    draft.close(offer, "accepted", None)
    draft.hold(sender)
    draft.move("confirmed", entry="offer_accepted", detail={"offer_id": str(offer.id)})
    return draft.change()


def decline(
    state: BookingState | None,
    reply: OfferDeclined,
    sender: str,
    offering: Offering,
    *,
    now: datetime,
) -> Change:
    """Partner `sender` turns the offer down: the booking goes to the next partner."""
    state, offer = _open_offer(state, reply.offer_id, sender)
    draft = _Draft(state, now)
    draft.close(offer, "declined", reply.reason)
    draft.note(
        "offer_declined",
        partner=sender,
        detail=_without_none(
            {"offer_id": str(offer.id), "reason": reply.reason, "note": reply.note}
        ),
    )
    draft.offer_to_next_partner(offering)
    return draft.change()


def report_progress(
    state: BookingState | None, update: StatusUpdate, sender: str, *, now: datetime
) -> Change | None:
    """A step of the booking that partner `sender` holds. Raises NotYet while the sender's
    acceptance is still to be applied (it was sent first, so it comes: retry later), Conflict
    for a booking the sender does not hold; None when the booking has passed that step already
    (a late redelivery changes nothing)."""
    if state is not None and awaits_acceptance(state, sender):
        raise NotYet(f"partner {sender}'s acceptance of {update.booking_id} is not in")
    if state is None or state.booking.partner_id != sender:
        raise Conflict(f"partner {sender} holds no booking {update.booking_id}")
    booking = state.booking
    target = progress_target(booking.kind, booking.status, booking.progress, update.status)
    if target is None:
        return None
    draft = _Draft(state, now)
    draft.reach(update.status)
    arrangement, reported = arranged(booking.arrangement, update)
    draft.arrange(arrangement)
    # The timeline says which details came (their values are sealed with the booking).
    detail: dict[str, Any] = _without_none(
        {"note": update.note, "at": update.at.isoformat() if update.at else None}
    )
    if reported:
        detail["reported"] = reported
    draft.move(target, entry=update.status, detail=detail)
    return draft.change()


ARRANGEMENT_FIELDS = tuple(msgspec.structs.fields(Arrangement))


def arranged(
    current: Arrangement | None, update: StatusUpdate
) -> tuple[Arrangement | None, list[str]]:
    """The booking's arrangement with what `update` reports (a field it leaves out keeps the
    earlier value), and the names of the fields it reported."""
    reported = {
        f.name: getattr(update, f.name)
        for f in ARRANGEMENT_FIELDS
        if getattr(update, f.name, None) is not None
    }
    if not reported:
        return current, []
    base = current if current is not None else Arrangement()
    return msgspec.structs.replace(base, **reported), sorted(reported)


def awaits_acceptance(state: BookingState, sender: str) -> bool:
    """The "not yet" rule: the booking is held by no one while the sender's offer is open, so
    the sender's acceptance, published before any progress, is still on its way. Partner
    replies are applied concurrently; progress that overtakes its acceptance waits for it."""
    return state.booking.partner_id is None and any(
        o.partner_id == sender and o.state == "open" for o in state.offers
    )


def cancel(state: BookingState, *, reason: str, now: datetime) -> Change:
    """A coordinator calls the booking off: the partner asked and the partner that took it both
    learn it is off. A shipment on its way cannot be cancelled (IllegalTransition)."""
    booking = state.booking
    check_cancellable(booking.kind, booking.status, booking.progress)
    draft = _Draft(state, now)
    for offer in state.offers:
        if offer.state == "open":
            draft.close(offer, "withdrawn", reason)
            draft.withdraw(offer, CANCELLED)
        elif offer.state == "accepted":
            draft.withdraw(offer, CANCELLED)
    draft.move("cancelled", entry="cancelled", detail={"reason": reason})
    return draft.change()


def cancel_with_inquiry(state: BookingState, *, reason: str, now: datetime) -> Change | None:
    """The inquiry was cancelled: an open booking is cancelled; one that can no longer be (a
    shipment on its way, left to arrive) gets the refusal on its timeline; a closed one stays
    as it is (None)."""
    booking = state.booking
    if booking.status in TERMINAL:
        return None
    try:
        return cancel(state, reason=reason, now=now)
    except Conflict as exc:
        draft = _Draft(state, now)
        draft.note(
            "cancellation_refused", partner=booking.partner_id, detail={"reason": exc.detail}
        )
        return draft.change()


def erase(state: BookingState, *, now: datetime) -> Change | None:
    """Wipe the traveller from the booking; the anonymous booking stays. Each offer carried the
    traveller to its partner, whatever the partner answered, so each partner offered it is
    asked to erase it (GDPR Art. 19). None when it was erased before."""
    booking = state.booking
    if booking.erased_at is not None:
        return None
    draft = _Draft(state, now)
    draft.booking = msgspec.structs.replace(
        booking, details=erased(booking.details), arrangement=None, erased_at=now, updated_at=now
    )
    draft.erased = True
    draft.note("personal_data_erased", detail=None)
    for offer in state.offers:
        draft.announce(
            PARTNER_OFFERS.subject(partner_id=offer.partner_id, kind=booking.kind),
            DataErasureRequested(offer_id=str(offer.id), booking_id=str(booking.id), erased_at=now),
        )
        draft.note(
            "partner_asked_to_erase", partner=offer.partner_id, detail={"offer_id": str(offer.id)}
        )
    return draft.change()


def offer_message(booking: Booking, offer: OfferRow) -> Offer:
    """The offer as the partner is sent it (and shown it again on the reply API): only what
    its job needs of the booking."""
    return Offer(
        offer_id=str(offer.id),
        booking_id=str(booking.id),
        kind=booking.kind,
        respond_by=offer.respond_by,
        details=need_to_know.for_partner(booking.details),
    )


# --- how a decision is put together --------------------------------------------------------------


def _offer_of(state: BookingState, offer_id: uuid.UUID) -> OfferRow | None:
    return next((o for o in state.offers if o.id == offer_id), None)


def _open_offer(
    state: BookingState | None, offer_id: str, sender: str
) -> tuple[BookingState, OfferRow]:
    """The sender's offer, still open: a reply about an offer the sender was not made is
    refused, and so is a stale one (a deadline or another reply closed it first)."""
    offer = None if state is None else _offer_of(state, parse_id(offer_id, "offer_id"))
    if state is None or offer is None or offer.partner_id != sender:
        raise Conflict(f"partner {sender} holds no offer {offer_id}")
    if offer.state != "open":
        raise Conflict(f"offer {offer_id} is {offer.state} already: the reply is stale")
    return state, offer


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class _Draft:
    """A change being decided: the steps of one decision add to it, in order."""

    def __init__(self, state: BookingState, now: datetime, *, new: bool = False) -> None:
        self.state = state
        self.now = now
        self.before = None if new else state.booking
        self.booking = state.booking
        self.holder: str | None = state.booking.partner_id
        self.erased = False
        self.closed: list[OfferRow] = []
        self.opened: OfferRow | None = None
        self.timeline: list[TimelineEntry] = []
        self.messages: list[Message] = []

    def change(self) -> Change:
        return Change(
            at=self.now,
            before=self.before,
            booking=self.booking,
            erased=self.erased,
            closed=tuple(self.closed),
            opened=self.opened,
            timeline=tuple(self.timeline),
            messages=tuple(self.messages),
        )

    def announce(self, subject: str, event: Event, *, erasure_key: str | None = None) -> None:
        self.messages.append(Message(subject=subject, event=event, erasure_key=erasure_key))

    def note(
        self, entry: str, *, partner: str | None = None, detail: dict[str, Any] | None = None
    ) -> None:
        """A timeline entry at the booking's current status, not a change of state."""
        self.timeline.append(
            TimelineEntry(
                at=self.now,
                entry=entry,
                status=self.booking.status,
                partner_id=partner,
                detail=detail or {},
            )
        )

    def hold(self, partner_id: str) -> None:
        """The booking's partner from the next move on."""
        self.booking = msgspec.structs.replace(self.booking, partner_id=partner_id)

    def arrange(self, arrangement: Arrangement | None) -> None:
        """The patient's details of the booking, announced with the next move."""
        self.booking = msgspec.structs.replace(self.booking, arrangement=arrangement)

    def reach(self, step: str) -> None:
        """The partner's latest step, set with the next move."""
        self.booking = msgspec.structs.replace(self.booking, progress=step)

    def move(
        self,
        target: BookingStatus,
        *,
        entry: str,
        partner: str | None = None,
        detail: dict[str, Any],
    ) -> None:
        """A change of state: a new version, on the timeline and announced with the name of
        the booking's partner. `partner` is who the entry concerns when that is not (yet) the
        booking's partner."""
        current = self.booking
        check_transition(current.status, target)
        moved = msgspec.structs.replace(
            current, status=target, version=current.version + 1, updated_at=self.now
        )
        self.booking = moved
        self.note(entry, partner=partner or moved.partner_id, detail=detail)
        holder = moved.partner_id
        self.announce(
            BOOKING_STATUS_CHANGED.subject(),
            # With the arrangement it names people and the trip: sealed in the outbox and
            # deleted from the stream when the case is erased.
            erasure_key=moved.inquiry_id if moved.arrangement is not None else None,
            event=BookingStatusChanged(
                booking_id=str(moved.id),
                inquiry_id=moved.inquiry_id,
                kind=moved.kind,
                from_status=current.status,
                to_status=target,
                version=moved.version,
                partner_id=holder,
                partner_name=self.state.partner_names.get(holder) if holder else None,
                progress=moved.progress,
                changed_at=self.now,
                arrangement=moved.arrangement,
            ),
        )
        # A support case's booking: the desk hears how its dispatch ended.
        answered = interpreter_requests.answer(
            moved, self.state.partner_names.get(holder) if holder else None, self.now
        )
        if answered is not None:
            self.messages.append(answered)

    def close(self, offer: OfferRow, state: str, reason: str | None) -> None:
        self.closed.append(
            msgspec.structs.replace(offer, state=state, reason=reason, answered_at=self.now)
        )

    def withdraw(self, offer: OfferRow, reason: str) -> None:
        booking = self.booking
        self.announce(
            PARTNER_OFFERS.subject(partner_id=offer.partner_id, kind=booking.kind),
            OfferWithdrawn(offer_id=str(offer.id), booking_id=str(booking.id), reason=reason),
        )

    def next_partner(self, offering: Offering) -> Partner | None:
        """Partners asked before (declined, or let the deadline pass) are never asked again."""
        asked = [o.partner_id for o in self.state.offers]
        return next_partner(self.booking.details, offering.partners, asked)

    def offer_to_next_partner(self, offering: Offering) -> None:
        partner = self.next_partner(offering)
        if partner is not None:
            self.offer(partner, offering)
            return
        booking = self.booking
        self.move("unassigned", entry="unassigned", detail={})
        self.announce(
            OPERATOR_ALERT.subject(),
            OperatorAlert(
                alert="booking_unassigned",
                booking_id=str(booking.id),
                inquiry_id=booking.inquiry_id,
                detail=(
                    f"no suitable active {booking.kind} partner is left for this booking "
                    f"({len(self.state.offers)} asked); register or activate one, then "
                    "dispatch it again"
                ),
                raised_at=self.now,
            ),
        )

    def offer(self, partner: Partner, offering: Offering) -> None:
        booking = self.booking
        respond_by = self.now + offering.timeout
        self.opened = OfferRow(
            id=offering.offer_id,
            booking_id=booking.id,
            partner_id=partner.id,
            sent_at=self.now,
            respond_by=respond_by,
            state="open",
            answered_at=None,
            reason=None,
        )
        self.announce(
            PARTNER_OFFERS.subject(partner_id=partner.id, kind=booking.kind),
            offer_message(booking, self.opened),
            # The offer names the traveller: erasing the inquiry deletes it from the stream.
            erasure_key=booking.inquiry_id,
        )
        detail = {"offer_id": str(offering.offer_id), "respond_by": respond_by.isoformat()}
        if booking.status == "offered":
            # Still offered, now to the next partner: a timeline entry, not a change of state.
            self.note("offered", partner=partner.id, detail=detail)
            return
        self.move("offered", entry="offered", partner=partner.id, detail=detail)
