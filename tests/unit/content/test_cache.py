"""The delivery cache: bounded by bytes, least recently read first out, emptied per document,
collection, search and sync by invalidations through an index, and never refilled by a read
that started before one."""

from __future__ import annotations

import random

from services.content.cache import (
    SEARCH,
    SYNC,
    DocumentCache,
    Key,
    Tag,
    collection_tag,
    document_tag,
)
from services.content.representation import Encoded, represent


def entry(body: bytes) -> Encoded:
    return represent(body, media_type="application/json", cache_control="x", vary="y", codings=())


def key(slug: str, locale: str = "en") -> Key:
    return ("condition", slug, locale, "json")


def put(cache: DocumentCache, k: Key, e: Encoded, tag: Tag | None = None) -> None:
    tag = tag or document_tag(k[0], k[1])
    cache.put(k, e, tag, cache.generation(tag))


def test_past_its_byte_bound_the_entries_read_longest_ago_go_first() -> None:
    size = entry(b"a").size
    cache = DocumentCache(max_bytes=2 * size)
    put(cache, key("a"), entry(b"a"))
    put(cache, key("b"), entry(b"b"))
    assert cache.get(key("a")) == entry(b"a")  # read: now b is the least recent

    put(cache, key("c"), entry(b"c"))

    assert cache.get(key("b")) is None
    assert [cache.get(key(s)) for s in ("a", "c")] == [entry(b"a"), entry(b"c")]
    assert cache.bytes == 2 * size


def test_the_bytes_held_never_exceed_the_bound_under_a_stream_of_inserts() -> None:
    rng = random.Random(7)  # noqa: S311 - sizes for a test, not secrets
    bound = 200_000
    cache = DocumentCache(max_bytes=bound)
    for n in range(2_000):
        body = rng.randbytes(rng.randint(10, 40_000))
        put(cache, key(f"doc-{n % 300}", rng.choice(["en", "de"])), entry(body))
        held = sum(e.size for e, _, _ in cache._entries.values())
        assert held == cache.bytes <= bound
    assert len(cache) > 1


def test_an_entry_larger_than_the_bound_is_not_stored() -> None:
    cache = DocumentCache(max_bytes=2_000)
    put(cache, key("big"), entry(b"x" * 5_000))

    assert cache.get(key("big")) is None
    assert cache.bytes == 0


def test_an_invalidation_drops_the_document_its_collection_search_and_sync_and_no_other() -> None:
    cache = DocumentCache()
    put(cache, key("a", "en"), entry(b"en"))
    put(cache, key("a", "de"), entry(b"de"))
    put(cache, key("b"), entry(b"b"))
    put(cache, ("page", "/v1/conditions", "", "en"), entry(b"list"), collection_tag("condition"))
    put(cache, ("page", "/v1/treatments", "", "en"), entry(b"other"), collection_tag("treatment"))
    put(cache, ("page", "/v1/search", "q=x", "en"), entry(b"hits"), SEARCH)
    put(cache, ("page", "/v1/sync", "", ""), entry(b"sync"), SYNC)

    assert cache.invalidate("condition", {"a"}) == 5
    assert cache.get(key("b")) == entry(b"b")
    assert cache.get(("page", "/v1/treatments", "", "en")) == entry(b"other")
    assert len(cache) == 2
    assert cache.bytes == entry(b"b").size + entry(b"other").size


def test_a_read_that_started_before_an_invalidation_is_not_cached() -> None:
    cache = DocumentCache()
    tag = document_tag("condition", "a")
    started = cache.generation(tag)
    cache.invalidate("condition", {"a"})

    cache.put(key("a"), entry(b"stale"), tag, started)

    assert cache.get(key("a")) is None


def test_clear_empties_the_cache_and_outdates_reads_in_flight() -> None:
    cache = DocumentCache()
    tag = document_tag("condition", "a")
    put(cache, key("a"), entry(b"a"))
    started = cache.generation(tag)

    cache.clear()
    cache.put(key("a"), entry(b"late"), tag, started)

    assert len(cache) == 0
    assert cache.bytes == 0
    assert cache.get(key("a")) is None


def test_the_cache_says_which_answers_it_could_keep_at_all() -> None:
    cache = DocumentCache(max_bytes=10_000)

    assert cache.admits(5_000)
    assert not cache.admits(10_000)


def test_a_bulk_answer_is_not_kept_and_pushes_out_nothing() -> None:
    cache = DocumentCache(max_bytes=1_000_000, largest=20_000)
    put(cache, key("a"), entry(b"a" * 5_000))
    put(cache, key("bulk"), entry(b"x" * 30_000))

    assert not cache.admits(30_000)
    assert cache.get(key("bulk")) is None
    assert cache.get(key("a")) is not None
    assert cache.bytes == entry(b"a" * 5_000).size


def test_an_entry_that_falls_due_is_dropped_when_read_at_or_after_that_moment() -> None:
    now = [1_000.0]
    cache = DocumentCache(clock=lambda: now[0])
    tag = document_tag("condition", "a")
    cache.put(key("a"), entry(b"reviewed"), tag, cache.generation(tag), expires=1_060.0)
    put(cache, key("b"), entry(b"never due"))

    assert cache.get(key("a")) == entry(b"reviewed")
    now[0] = 1_060.0
    assert cache.get(key("a")) is None
    assert cache.get(key("b")) == entry(b"never due")
    assert len(cache) == 1
    assert cache.bytes == entry(b"never due").size
