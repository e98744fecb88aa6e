"""What a notifications command needs beside the fact itself, built once in `create_app`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from contracts.notifications import ContactChannel, ContactReply
from services.notifications.domain.model import Composed
from services.notifications.rendering import Rendered, Templates
from services.runtime.core.db import Pool
from services.runtime.core.outcomes import UNCOUNTED, Outcomes
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing

# Asks inquiries for a case's contact (request/reply), and for a reissued access token when the
# second argument names the reissue; raises NoAnswer when nobody answers.
ContactLookup = Callable[[str, str | None], Awaitable[ContactReply]]
# Hands a message to its channel; raises DeliveryFailed when the provider does not take it.
Send = Callable[[Composed, Rendered], Awaitable[None]]


@dataclass(frozen=True)
class Retries:
    """Backoff between attempts (base, doubling to cap), attempts before a message fails for
    good, and how long a replica holds a message it is sending before another may take it."""

    base: timedelta
    cap: timedelta
    max_attempts: int
    lease: timedelta


@dataclass(frozen=True)
class Notifying:
    pool: Pool
    outbox: Outbox
    keys: KeyRing
    templates: Templates
    contact: ContactLookup
    # The channels this process sends by: email always, SMS when configured.
    senders: Mapping[ContactChannel, Send]
    oncall_email: str
    staff_language: str
    retries: Retries
    # Messages sent, failed and cancelled, for the service's metrics.
    outcomes: Outcomes = UNCOUNTED
