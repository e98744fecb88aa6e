"""Encoded answers of the delivery API, in process: documents per (kind, slug, locale,
representation), and list, search and sync pages per request.

Every entry is stored under one tag that names what it was made from: a document, a collection,
all of search, all of sync. A `content.*` event about a document drops the entries of the tags
it touches (the document, its collection's lists, search and sync pages) through an index, never
by scanning the cache. Every replica does this, and drops everything when it may have missed an
event (a NATS reconnect), so a stale answer outlives a publish by at most the time the event
takes to arrive.

An entry may also carry the moment it stops being true with no event (a medical sign-off turning
overdue, services/content/domain/reviews.py): read at or after it, it is dropped, and the read
builds a new one. Only such entries consult the clock."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from services.content.representation import OVERHEAD, Encoded

# A document: (kind, slug, locale, representation). A page: ("page", path, query, locale).
Key = tuple[str, ...]
Tag = tuple[str, ...]
SEARCH: Tag = ("search",)
SYNC: Tag = ("sync",)
DEFAULT_BYTES = 256 * 1024 * 1024
# The largest answer kept. A document is tens of kilobytes, a list or search page less than a
# hundred; past a megabyte it is a bulk answer (a page of a full sync pass, megabytes) read once
# by one mirror, and keeping it would push out hundreds of documents every reader asks for
# (a 20,000-document pass through a 256 MiB cache took 24 s and left the replica at 742 MB).
LARGEST = 1024 * 1024


def document_tag(kind: str, slug: str) -> Tag:
    return ("document", kind, slug)


def collection_tag(kind: str) -> Tag:
    return ("collection", kind)


class DocumentCache:
    """Bounded by the bytes it holds (`max_bytes`, bodies in every coding plus a fixed overhead
    per variant): past it, the entries read longest ago go first."""

    def __init__(
        self,
        max_bytes: int = DEFAULT_BYTES,
        clock: Callable[[], float] = time.time,
        largest: int = LARGEST,
    ) -> None:
        self.max_bytes = max_bytes
        self.largest = min(largest, max_bytes)
        self.bytes = 0
        # Unix time, for the entries that expire; tests pass their own.
        self._clock = clock
        self._entries: OrderedDict[Key, tuple[Encoded, Tag, float | None]] = OrderedDict()
        self._by_tag: dict[Tag, set[Key]] = {}
        # Bumped by every invalidation: a read that started before one must not cache its result.
        self._generations: dict[Hashable, int] = {}
        self._cleared = 0

    def admits(self, body_bytes: int) -> bool:
        """Whether an answer of this size is kept at all (compressed or not): one that is not
        is compressed only in the coding it is sent in."""
        return body_bytes + OVERHEAD <= self.largest

    def get(self, key: Key) -> Encoded | None:
        found = self._entries.get(key)
        if found is None:
            return None
        expires = found[2]
        if expires is not None and self._clock() >= expires:
            self._drop(key)
            return None
        # Recency kept in C (OrderedDict): a small share of a cached read's microseconds.
        self._entries.move_to_end(key)
        return found[0]

    def generation(self, tag: Tag) -> tuple[int, int]:
        return self._cleared, self._generations.get(tag, 0)

    def put(
        self,
        key: Key,
        entry: Encoded,
        tag: Tag,
        generation: tuple[int, int],
        expires: float | None = None,
    ) -> None:
        """Store `entry` unless `tag` was invalidated since `generation` was read, or the entry
        alone is larger than the bound or its body than `largest`; until `expires` (Unix
        time) if given."""
        if (
            self.generation(tag) != generation
            or entry.size > self.max_bytes
            or not self.admits(len(entry.body))
        ):
            return
        self._drop(key)
        self._entries[key] = (entry, tag, expires)
        self._by_tag.setdefault(tag, set()).add(key)
        self.bytes += entry.size
        while self.bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def invalidate(self, kind: str, slugs: set[str]) -> int:
        """Drop what a change to the documents `slugs` of `kind` outdates: their own entries,
        their collection's lists, search pages and sync pages. Returns how many went."""
        tags = [document_tag(kind, slug) for slug in slugs]
        tags += [collection_tag(kind), SEARCH, SYNC]
        dropped = 0
        for tag in tags:
            self._generations[tag] = self._generations.get(tag, 0) + 1
            for key in self._by_tag.pop(tag, set()):
                dropped += self._drop(key)
        return dropped

    def clear(self) -> None:
        self._cleared += 1
        self._entries.clear()
        self._by_tag.clear()
        self.bytes = 0

    def _drop(self, key: Key) -> int:
        found = self._entries.pop(key, None)
        if found is None:
            return 0
        entry, tag, _ = found
        self.bytes -= entry.size
        keys = self._by_tag.get(tag)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_tag[tag]
        return 1

    def __len__(self) -> int:
        return len(self._entries)
