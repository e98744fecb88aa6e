"""Integer path and query parameters, bounded once for every route of every service: a number
past PostgreSQL's bigint reached the database and came back as a 500. Routes declare their ids
and numbers with these types (or give `le=BIGINT_MAX` to a parameter of their own), so the
bound is in the OpenAPI document too; tests/unit/runtime/test_integer_parameters.py fails on an
integer parameter without one."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

from services.runtime.core.integers import BIGINT_MAX

# A row id or a version number: 1 and up, as PostgreSQL's sequences count.
PositiveBigint = Annotated[int, Parameter(ge=1, le=BIGINT_MAX)]

__all__ = ["BIGINT_MAX", "PositiveBigint"]
