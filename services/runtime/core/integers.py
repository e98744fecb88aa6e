"""Integers read from text that comes from outside (tokens, header fields): ASCII digits only,
and no larger than PostgreSQL's bigint, where every such number ends up. `str.isdigit()` takes
"²" and "٣", and `int()` takes any length, so neither is used on its own."""

from __future__ import annotations

import re

BIGINT_MAX = 2**63 - 1
# [0-9], not \d: \d matches every Unicode decimal digit.
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_bigint(text: str) -> int | None:
    """The non-negative integer `text` spells in ASCII digits, or None when it spells none or
    one past BIGINT_MAX."""
    if _DIGITS.fullmatch(text) is None:
        return None
    value = int(text)
    return value if value <= BIGINT_MAX else None
