"""Token recovery: whether a recovery request may be heard, whether its email is the one on
file, and what a match changes. Pure: given the request, what the case holds and `now`."""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime, timedelta

from contracts.inquiries import AccessTokenReissued
from contracts.registry import INQUIRY_TOKEN_REISSUED
from services.inquiries.domain.model import Announcement, Change, PersonalData, TimelineEntry

# Requests heard per inquiry in the window, matched or not: enough for a typo or two, too few
# to try addresses.
RECOVERY_LIMIT = 3
RECOVERY_WINDOW = timedelta(hours=1)
# How long the new token waits, sealed, for notifications to send it: long enough for the
# sender's retries through a mail outage, short enough that the copy does not linger.
TOKEN_MAIL_FRESH = timedelta(hours=24)


def recovery_heard(recent_requests: int) -> bool:
    """Whether one more request may be heard, given those already recorded in the window."""
    return recent_requests < RECOVERY_LIMIT


def normalised_email(address: str) -> bytes:
    # Addresses are compared as people type them: surrounding spaces and case do not matter.
    return address.strip().casefold().encode()


def email_matches(given: str, personal: PersonalData | None) -> bool:
    """Whether `given` is the email on file: compared in constant time, so the time taken
    says nothing about how much of it matched. An erased case matches nothing."""
    on_file = "" if personal is None else str(personal.patient.get("email") or "")
    # compare_digest takes the same time for equal-length inputs; comparing fixed-length
    # HMACs of both keeps the length of the address on file out of it too.
    key = b"token-recovery"
    return bool(on_file) and hmac.compare_digest(
        hmac.digest(key, normalised_email(given), "sha256"),
        hmac.digest(key, normalised_email(on_file), "sha256"),
    )


def reissue(inquiry_id: uuid.UUID, reissue_id: uuid.UUID, now: datetime) -> Change:
    """A match: the timeline says so (not with which address) and the announcement asks for the
    new token to be sent, naming only the case and the reissue."""
    return Change(
        at=now,
        timeline=(TimelineEntry(at=now, kind="access_token_reissued"),),
        announcements=(
            Announcement(
                subject=INQUIRY_TOKEN_REISSUED.subject(),
                event=AccessTokenReissued(
                    inquiry_id=str(inquiry_id), reissue_id=str(reissue_id), reissued_at=now
                ),
            ),
        ),
    )


def token_mail_fresh(reissued_at: datetime | None, now: datetime) -> bool:
    return reissued_at is not None and now - reissued_at <= TOKEN_MAIL_FRESH
