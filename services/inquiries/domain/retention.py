"""Retention per data class (the table is in usecases/privacy/retention.py): how long each class
is kept, what a run purged, and which cases are due given `now`."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from services.inquiries.domain.lifecycle import TERMINAL

CLOSED: list[str] = sorted(TERMINAL)


class Periods(msgspec.Struct, frozen=True, kw_only=True):
    """How long each class of data is kept, as configured."""

    personal_data_days: int
    free_text_days: int
    billing_years: int


class Report(msgspec.Struct, frozen=True, kw_only=True):
    """What one run purged, per data class: cases erased, cases whose free text was wiped,
    billing stubs deleted."""

    case_personal_data: int = 0
    case_free_text: int = 0
    billing_stubs: int = 0

    def counts(self) -> dict[str, int]:
        return msgspec.structs.asdict(self)


def cutoff(now: datetime, retention_days: int) -> datetime:
    """Cases closed before this moment are due."""
    return now - timedelta(days=retention_days)
