"""Pre-encoded published documents per (kind, slug, locale, representation), in process.

Every replica drops entries when a `content.*` event names their document, and drops everything
when it may have missed one (a NATS reconnect), so a stale page outlives a publish by at most
the time the event takes to arrive."""

from __future__ import annotations

from collections.abc import Callable

from services.content.representation import Encoded

Key = tuple[str, str, str, str]


class DocumentCache:
    """Bounded: past `max_entries`, the entries stored longest ago go first. A hit does not
    reorder entries: keeping recency would cost every cached read more than an occasional miss
    costs, and a replica holds a whole catalogue of normal size well within the bound."""

    get: Callable[[Key], Encoded | None]

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: dict[Key, Encoded] = {}
        # The dict's own lookup: a cached read calls it without a method of ours in between.
        self.get = self._entries.get
        # Bumped by every invalidation: a read that started before one must not cache its result.
        self._generations: dict[tuple[str, str], int] = {}

    def generation(self, kind: str, slug: str) -> int:
        return self._generations.get((kind, slug), 0)

    def put(self, key: Key, entry: Encoded, generation: int) -> None:
        """Store `entry` unless its document was invalidated since `generation` was read."""
        if self.generation(key[0], key[1]) != generation:
            return
        self._entries[key] = entry
        while len(self._entries) > self.max_entries:
            del self._entries[next(iter(self._entries))]

    def invalidate(self, kind: str, slugs: set[str]) -> int:
        for slug in slugs:
            self._generations[kind, slug] = self.generation(kind, slug) + 1
        stale = [k for k in self._entries if k[0] == kind and k[1] in slugs]
        for key in stale:
            del self._entries[key]
        return len(stale)

    def clear(self) -> None:
        for kind, slug, _, _ in self._entries:
            self._generations[kind, slug] = self.generation(kind, slug) + 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
