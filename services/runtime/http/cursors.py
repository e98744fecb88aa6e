"""Opaque keyset cursors for every paged list: the sort key of the last item seen, as
base64url JSON. A client passes it back untouched; anything else is a 400 naming `cursor`,
never a silently restarted list."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec

from services.runtime.core.errors import BadRequest, FieldProblem

T = TypeVar("T")
# A sort key's instant: a cursor without a zone is not one we issued.
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]

NOT_OURS = "is not a cursor this API issued"


def encode_cursor(*key: Any) -> str:
    """The cursor after an item whose sort key is `key` (datetimes, ids, strings, numbers)."""
    raw = msgspec.json.encode(key)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, key_type: type[T]) -> T:
    """The key `cursor` holds, as `key_type` (a tuple type, typically with tz-aware
    datetimes: `Annotated[datetime, msgspec.Meta(tz=True)]`), or BadRequest."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return msgspec.json.decode(raw, type=key_type)
    except (binascii.Error, ValueError, RecursionError, msgspec.DecodeError):
        # msgspec.ValidationError is a DecodeError; ValueError covers non-ASCII input.
        raise BadRequest([FieldProblem(field="cursor", message=NOT_OURS)]) from None
