"""What changed between two revisions of a document, field by field."""

from __future__ import annotations

from typing import Any

import msgspec


class Change(msgspec.Struct, frozen=True, kw_only=True):
    path: str
    before: Any = None
    after: Any = None


def diff(before: Any, after: Any, path: str = "") -> list[Change]:
    """Field-level differences between two JSON documents, with dotted paths."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[Change] = []
        for key in sorted(before.keys() | after.keys()):
            sub = f"{path}.{key}" if path else key
            changes += diff(before.get(key), after.get(key), sub)
        return changes
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        changes = []
        for index, (b, a) in enumerate(zip(before, after, strict=True)):
            changes += diff(b, a, f"{path}[{index}]")
        return changes
    return [] if before == after else [Change(path=path, before=before, after=after)]
