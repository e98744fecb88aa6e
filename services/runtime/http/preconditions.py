"""Optimistic concurrency over HTTP (RFC 9110 §13.1.1): a resource's version is its ETag, and a
write sends the version it was based on back in If-Match, so a stale write is refused with 412
instead of silently overwriting someone else's change."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter

from services.runtime.core.errors import (
    BadRequest,
    FieldProblem,
    PreconditionFailed,
    PreconditionRequired,
)
from services.runtime.core.integers import parse_bigint

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="if-match",
        description='The version the change is based on, as its ETag: "3". A stale one is a 412.',
    ),
]


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version named by If-Match, or None when the header is absent."""
    if if_match is None:
        return None
    tag = if_match.strip()
    if tag.startswith("W/"):
        # If-Match compares strongly (RFC 9110 §13.1.1): a weak tag never matches, whatever it
        # names, so the condition is false.
        raise PreconditionFailed(
            'a weak ETag (W/"3") never matches If-Match; send the strong one: If-Match: "3"'
        )
    version = parse_bigint(tag.strip('"'))
    if version is None:
        raise BadRequest([FieldProblem(field="If-Match", message='expected a version such as "3"')])
    return version


def required_version(if_match: str | None) -> int:
    """Like `expected_version`, for resources where a blind overwrite is never acceptable."""
    version = expected_version(if_match)
    if version is None:
        raise PreconditionRequired(
            'this change needs If-Match with the version it is based on, e.g. If-Match: "3"'
        )
    return version
