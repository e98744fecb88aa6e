"""The trace and correlation a case was submitted under (migration 0008); written with the
inquiry (`intake.insert_inquiry`)."""

from __future__ import annotations

import uuid

import msgspec

from services.runtime.core.db import Connection
from services.runtime.core.tracing import TraceContext


class CaseTrace(msgspec.Struct, frozen=True, kw_only=True):
    correlation_id: str
    trace: TraceContext


async def of_case(conn: Connection, inquiry_id: uuid.UUID) -> CaseTrace | None:
    """None for a case submitted before traces were kept."""
    row = await conn.fetchrow(
        "SELECT correlation_id, traceparent, tracestate FROM case_traces WHERE inquiry_id = $1",
        inquiry_id,
    )
    if row is None:
        return None
    return CaseTrace(
        correlation_id=row["correlation_id"],
        trace=TraceContext.of(row["traceparent"], row["tracestate"]),
    )
