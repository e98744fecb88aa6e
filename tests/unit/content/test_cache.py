"""The document cache: bounded, emptied per document by invalidations, and never refilled by a
read that started before one."""

from __future__ import annotations

from services.content.cache import DocumentCache, Key
from services.content.representation import Encoded


def entry(body: bytes) -> Encoded:
    return Encoded(
        body=body,
        etag='"e"',
        raw_etag=b'"e"',
        headers=(),
        not_modified_headers=(),
        content_language="en",
        raw_ok=[],
        raw_not_modified=[],
    )


def key(slug: str, locale: str = "en") -> Key:
    return ("condition", slug, locale, "json")


def test_past_its_bound_the_entries_stored_longest_ago_go_first() -> None:
    cache = DocumentCache(max_entries=2)
    for slug in ("a", "b", "c"):
        cache.put(key(slug), entry(slug.encode()), generation=0)

    assert cache.get(key("a")) is None
    assert [cache.get(key(s)) for s in ("b", "c")] == [entry(b"b"), entry(b"c")]
    assert len(cache) == 2


def test_an_invalidation_drops_every_locale_of_the_document_and_no_other() -> None:
    cache = DocumentCache()
    cache.put(key("a", "en"), entry(b"en"), generation=0)
    cache.put(key("a", "de"), entry(b"de"), generation=0)
    cache.put(key("b"), entry(b"b"), generation=0)

    assert cache.invalidate("condition", {"a"}) == 2
    assert cache.get(key("a", "en")) is None
    assert cache.get(key("a", "de")) is None
    assert cache.get(key("b")) == entry(b"b")


def test_a_read_that_started_before_an_invalidation_is_not_cached() -> None:
    cache = DocumentCache()
    started = cache.generation("condition", "a")
    cache.invalidate("condition", {"a"})

    cache.put(key("a"), entry(b"stale"), generation=started)

    assert cache.get(key("a")) is None


def test_clear_empties_the_cache_and_outdates_reads_in_flight() -> None:
    cache = DocumentCache()
    cache.put(key("a"), entry(b"a"), generation=0)
    started = cache.generation("condition", "a")

    cache.clear()
    cache.put(key("a"), entry(b"late"), generation=started)

    assert len(cache) == 0
    assert cache.get(key("a")) is None
