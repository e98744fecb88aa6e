"""Booking commands, each inside one transaction: load (and lock) what the decision needs, let
the domain decide, save the change and announce it through the outbox. Reached alike from HTTP,
from consumers and from the deadline loop; every change of a booking happens under its row
lock, so they never act on it twice."""

from services.logistics.usecases.cancellation import cancel_booking, cancel_inquiry
from services.logistics.usecases.collaborators import BookingCollaborators
from services.logistics.usecases.copies import erase_copies
from services.logistics.usecases.credentials import Credentials, partner_of_token
from services.logistics.usecases.credentials import rotate as rotate_credentials
from services.logistics.usecases.dispatch import (
    create_booking,
    dispatch_again,
    expire_due_offers,
    remember_sharing_consent,
    request_booking,
    withdraw_sharing_consent,
)
from services.logistics.usecases.erasure import erase_inquiry
from services.logistics.usecases.export import export_case
from services.logistics.usecases.incidents import incident, incidents_reported, record_incident
from services.logistics.usecases.interpreter_requests import book_interpreter_for_case
from services.logistics.usecases.partner_webhooks import open_offers
from services.logistics.usecases.registry import (
    booking_with_history,
    bookings_listed,
    partner,
    partners_listed,
    put_partner,
    register_partner,
    set_partner_active,
)
from services.logistics.usecases.replies import answer_over_http, answer_partner, apply_reply
from services.logistics.usecases.support_requests import forward_support_request

__all__ = [
    "BookingCollaborators",
    "Credentials",
    "answer_over_http",
    "answer_partner",
    "apply_reply",
    "book_interpreter_for_case",
    "booking_with_history",
    "bookings_listed",
    "cancel_booking",
    "cancel_inquiry",
    "create_booking",
    "dispatch_again",
    "erase_copies",
    "erase_inquiry",
    "expire_due_offers",
    "export_case",
    "forward_support_request",
    "incident",
    "incidents_reported",
    "open_offers",
    "partner",
    "partner_of_token",
    "partners_listed",
    "put_partner",
    "record_incident",
    "register_partner",
    "remember_sharing_consent",
    "request_booking",
    "rotate_credentials",
    "set_partner_active",
    "withdraw_sharing_consent",
]
