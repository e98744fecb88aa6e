"""The time the content service reads by: what a document's review status says, when a cached
answer expires, and what editorial commands record. One per app; tests pass their own seconds
to see a review fall due without waiting for it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime


class Clock:
    def __init__(self, seconds: Callable[[], float] = time.time) -> None:
        self.seconds = seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.seconds(), UTC)
