"""Notifications commands: facts turned into messages (in the inbox's transaction), the sender
that delivers them, the staff's view of their delivery."""

from services.notifications.usecases.bounces import record_bounce
from services.notifications.usecases.collaborators import ContactLookup, Notifying, Retries, Send
from services.notifications.usecases.facts import (
    apply_dead_letter,
    apply_inquiry_event,
    apply_logistics_event,
    apply_support_event,
)
from services.notifications.usecases.listing import notifications_listed
from services.notifications.usecases.sending import send_due, send_one

__all__ = [
    "ContactLookup",
    "Notifying",
    "Retries",
    "Send",
    "apply_dead_letter",
    "apply_inquiry_event",
    "apply_logistics_event",
    "apply_support_event",
    "notifications_listed",
    "record_bounce",
    "send_due",
    "send_one",
]
