"""Booking commands, each inside one transaction: lock the booking, let the domain decide, save,
and announce through the outbox. Reached alike from HTTP, from consumers and from the deadline
loop; every change of a booking happens under its row lock, so they never act on it twice."""

from services.logistics.usecases.cancellation import cancel_booking, cancel_inquiry
from services.logistics.usecases.copies import erase_copies
from services.logistics.usecases.dispatch import (
    Dispatch,
    create_booking,
    dispatch_again,
    expire_due_offers,
)
from services.logistics.usecases.erasure import erase_inquiry
from services.logistics.usecases.incidents import incident, record_incident
from services.logistics.usecases.registry import (
    booking_with_history,
    partner,
    put_partner,
    register_partner,
    set_partner_active,
)
from services.logistics.usecases.replies import apply_reply

__all__ = [
    "Dispatch",
    "apply_reply",
    "booking_with_history",
    "cancel_booking",
    "cancel_inquiry",
    "create_booking",
    "dispatch_again",
    "erase_copies",
    "erase_inquiry",
    "expire_due_offers",
    "incident",
    "partner",
    "put_partner",
    "record_incident",
    "register_partner",
    "set_partner_active",
]
