"""What a support command needs beside its input, built once in `create_app`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from services.runtime.core.db import Pool
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing

# Whether a patient's access token opens an inquiry, asked of inquiries (request/reply); raises
# Unavailable when inquiries cannot answer now.
TokenCheck = Callable[[str, str], Awaitable[bool]]


@dataclass(frozen=True)
class Desk:
    pool: Pool
    outbox: Outbox
    keys: KeyRing
    check_token: TokenCheck
    # What the first answer to a medical case tells the patient to call.
    emergency_number: str
    clinic_phone: str | None
