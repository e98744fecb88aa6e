"""The settings block of a service that seals personal data at rest: one key ring of its own.

Each service keeps its own variables (`INQUIRIES_ENCRYPTION_KEYS`, `LOGISTICS_ENCRYPTION_KEYS`),
so one service's key never opens another's data; the fields, their checks and the ring built
from them are written once, here."""

from __future__ import annotations

from typing import Any

import msgspec

from services.runtime.core.settings import ServiceSettings
from services.runtime.privacy.crypto import KeyRing, key_ring_setting


class _Fields(msgspec.Struct, frozen=True):
    keys: Any
    active: Any


def sealing_fields(service: str) -> _Fields:
    """The key-ring fields of `service`, read from `<SERVICE>_ENCRYPTION_KEYS` (required) and
    `<SERVICE>_ACTIVE_KEY` (empty: the last key listed). msgspec names inherited fields by the
    class that declared them, so each service redeclares the two with its own names."""
    prefix = service.upper()
    return _Fields(
        keys=msgspec.field(name=f"{prefix}_ENCRYPTION_KEYS"),
        active=msgspec.field(default="", name=f"{prefix}_ACTIVE_KEY"),
    )


class SealingSettings(ServiceSettings, frozen=True, kw_only=True):
    """Settings with a key ring. A subclass names the ring's variables after its service,
    redeclaring the two fields with `sealing_fields`:

        encryption_keys: str = sealing_fields("inquiries").keys
        active_key: str = sealing_fields("inquiries").active
    """

    # "k1:<base64url 32 bytes>,k2:…": every key still needed to read old rows; the active one
    # (the last, unless named) seals new ones. Never logged.
    encryption_keys: str
    active_key: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        # A bad ring stops the start, naming the variable, rather than the first sealed write.
        self.key_ring()

    def outbox_keys(self) -> KeyRing:
        return self.key_ring()

    @classmethod
    def keys_variable(cls) -> str:
        """The variable this service reads its ring from, e.g. `INQUIRIES_ENCRYPTION_KEYS`."""
        return next(
            f.encode_name for f in msgspec.structs.fields(cls) if f.name == "encryption_keys"
        )

    def key_ring(self) -> KeyRing:
        return key_ring_setting(self.keys_variable(), self.encryption_keys, self.active_key)
