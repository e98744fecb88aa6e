"""How a use case reports a business outcome (a booking dispatched, a notification sent) to the
service's metrics without knowing them: the metrics live with the HTTP shell, above the use
cases, which see only this."""

from __future__ import annotations

from typing import Protocol


class Outcomes(Protocol):
    def outcome(self, what: str, outcome: str, seconds: float | None = None) -> None:
        """`what` ended as `outcome`, `seconds` after it began (when known)."""


class Uncounted:
    """Outcomes nobody counts: use cases run outside a service (tools, tests)."""

    def outcome(self, what: str, outcome: str, seconds: float | None = None) -> None:
        pass


UNCOUNTED = Uncounted()
