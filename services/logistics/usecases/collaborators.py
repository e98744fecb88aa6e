"""What a booking command needs beside the command itself, built once per service in
`create_app` and handed to every door: HTTP handlers, consumers and the deadline loop alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.runtime.core.db import Pool
from services.runtime.core.outcomes import UNCOUNTED, Outcomes
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing


@dataclass(frozen=True)
class WebhookPolicy:
    """The partners' webhook channel: whether URLs may name private addresses (the local stack,
    tests), how long old credentials stay valid after a rotation, and how long a withdrawal or
    erasure notice is tried (an offer is tried until its own deadline)."""

    allow_private: bool = False
    credential_overlap: timedelta = timedelta(days=1)
    notice_window: timedelta = timedelta(days=1)


@dataclass(frozen=True)
class BookingCollaborators:
    """The pool a command opens its transaction on (doors that already hold one, the consumers,
    pass their connection instead), the outbox its events go through, the key ring that seals
    and opens booking details, how long a partner has to answer an offer, and the rules of the
    partners' webhook channel."""

    pool: Pool
    outbox: Outbox
    keys: KeyRing
    offer_timeout: timedelta
    # Dispatch and offer outcomes, for the service's metrics.
    outcomes: Outcomes = UNCOUNTED
    webhooks: WebhookPolicy = WebhookPolicy()
