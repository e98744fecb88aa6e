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
class BookingCollaborators:
    """The pool a command opens its transaction on (doors that already hold one, the consumers,
    pass their connection instead), the outbox its events go through, the key ring that seals
    and opens booking details, and how long a partner has to answer an offer."""

    pool: Pool
    outbox: Outbox
    keys: KeyRing
    offer_timeout: timedelta
    # Dispatch and offer outcomes, for the service's metrics.
    outcomes: Outcomes = UNCOUNTED
