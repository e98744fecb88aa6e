"""A served worker's heap is set aside from the collector once the app has started
(services/runtime/service/heap.py): what existed then is frozen, garbage made while starting is
freed first, and what is made afterwards is collected as before."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from services.runtime.service.heap import set_aside_after_startup


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


@pytest.fixture
def unfrozen() -> Iterator[None]:
    # This test process outlives the app: what the test froze goes back to the collector.
    gc.unfreeze()
    yield
    gc.unfreeze()


def _collectable(thing: object) -> bool:
    """Whether `thing` is in a generation the collector visits (the frozen are in none)."""
    return any(o is thing for o in gc.get_objects())


@get("/", sync_to_thread=False)
def index() -> str:
    return "ok"


async def test_the_heap_is_frozen_once_started_and_later_garbage_is_collected(
    unfrozen: None,
) -> None:
    garbage = weakref.ref(_Node())  # unreachable before the start: freed, not frozen
    kept = _Node()
    app = set_aside_after_startup(Litestar(route_handlers=[index]))
    assert gc.get_freeze_count() == 0
    assert _collectable(kept)

    async with AsyncTestClient(app) as client:
        assert (await client.get("/")).text == "ok"
        frozen = gc.get_freeze_count()
        assert garbage() is None
        assert not _collectable(kept)  # alive, and frozen
        later = weakref.ref(_Node())
        gc.collect()
        assert later() is None

    assert frozen > 10_000  # the modules, the app: all that existed
