"""Waiting and retrying for the background loops (outbox relay, consumers, schedulers)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


class Backoff:
    """Exponential delays from `first` up to `cap`, restarted by `reset` after a success."""

    def __init__(self, first: float = 0.1, cap: float = 5.0) -> None:
        self.first, self.cap, self.current = first, cap, 0.0

    def next(self) -> float:
        self.current = min(self.cap, self.current * 2 if self.current else self.first)
        return self.current

    def reset(self) -> None:
        self.current = 0.0


def redelivery_delay(attempt: int, *, first: float = 0.5, cap: float = 30.0) -> float:
    """Delay before delivery `attempt + 1` of a message that failed `attempt` times."""
    return float(min(cap, first * 2 ** max(0, attempt - 1)))


async def wait_any(*events: asyncio.Event, timeout: float) -> None:
    """Return when any event is set or `timeout` seconds have passed."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


async def unless_stopped(awaitable: Awaitable[T], stop: asyncio.Event) -> T | None:
    """The awaitable's result, or None when `stop` is set first; the awaitable is then
    cancelled. A consumer's long poll (a second on a quiet stream) would otherwise hold every
    shutdown, and every test's app teardown, for as long. What the poll had in hand when
    cancelled is never acknowledged, so JetStream delivers it again (to another replica).
    The caller unsubscribes the poll's subscription next: JetStream drops a pull whose inbox
    has no interest, while a pull left subscribed would take the next message for its
    remaining time and hold it until its ack_wait."""
    if stop.is_set():
        if inspect.iscoroutine(awaitable):
            awaitable.close()  # never started: closed, not left to be warned about
        return None
    work = asyncio.ensure_future(awaitable)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        done, _ = await asyncio.wait({work, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not work.done():
            work.cancel()
    if work in done:  # done with both: what came is handled, the stop seen next
        return work.result()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await work
    return None
