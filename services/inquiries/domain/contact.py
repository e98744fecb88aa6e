"""Who notifications may write to about a case, and where: the answer to its contact request.

Decided here rather than by the caller, so erasure and consent stop every pending message the
moment they happen: notifications asks at each send, and holds no address of its own."""

from __future__ import annotations

from contracts.notifications import Contact, ContactChannel, ContactReply, ContactUnavailable
from services.inquiries.domain.model import PersonalData

# Without this consent the case is not processed at all (the submission requires it), so no
# message about it goes out either.
REQUIRED_CONSENT = "health_data_processing"


def contact_answer(
    inquiry_id: str,
    personal: PersonalData | None,
    *,
    exists: bool,
    consents: dict[str, bool],
    access_token: str | None = None,
) -> ContactReply:
    if not exists:
        return ContactUnavailable(inquiry_id=inquiry_id, reason="unknown")
    if personal is None:
        return ContactUnavailable(inquiry_id=inquiry_id, reason="erased")
    if not consents.get(REQUIRED_CONSENT, False):
        return ContactUnavailable(inquiry_id=inquiry_id, reason="withdrawn")
    patient = personal.patient
    phone = patient.get("phone")
    channels = agreed_channels(patient.get("channels"), has_phone=bool(phone))
    return Contact(
        inquiry_id=inquiry_id,
        email=str(patient["email"]),
        phone=str(phone) if phone else None,
        language=str(patient.get("language") or "en"),
        channels=channels,
        access_token=access_token,
    )


def agreed_channels(given: object, *, has_phone: bool) -> tuple[ContactChannel, ...]:
    """The channels the patient agreed to at submission; email for a case submitted before
    the form asked (email was the only way then). SMS only with a phone to send it to."""
    if not isinstance(given, list | tuple):
        return ("email",)
    known: dict[object, ContactChannel] = {"email": "email", "sms": "sms"}
    return tuple(known[c] for c in given if c == "email" or (c == "sms" and has_phone))
