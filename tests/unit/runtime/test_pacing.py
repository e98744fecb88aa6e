"""`unless_stopped`: a consumer's long poll gives way to a shutdown."""

from __future__ import annotations

import asyncio

import pytest

from services.runtime.core.pacing import unless_stopped


class EndlessPoll:
    """A poll that would outlast any test, telling when it started and when it was cancelled."""

    def __init__(self) -> None:
        self.started, self.cancelled = asyncio.Event(), asyncio.Event()

    async def run(self) -> str:
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return "never"


async def test_the_result_comes_back_when_the_work_ends_first() -> None:
    stop = asyncio.Event()

    async def work() -> str:
        return "messages"

    assert await unless_stopped(work(), stop) == "messages"


async def test_a_stop_cancels_the_work_and_answers_none() -> None:
    stop = asyncio.Event()
    poll = EndlessPoll()

    waiting = asyncio.create_task(unless_stopped(poll.run(), stop))
    await poll.started.wait()
    stop.set()
    assert await waiting is None
    assert poll.cancelled.is_set()


async def test_once_stopped_the_work_is_not_started() -> None:
    stop = asyncio.Event()
    stop.set()
    ran = False

    async def work() -> str:
        nonlocal ran
        ran = True
        return "messages"

    pending = work()
    assert await unless_stopped(pending, stop) is None
    assert ran is False
    # Closed, so no "coroutine was never awaited" warning: awaiting it now is refused.
    with pytest.raises(RuntimeError, match="cannot reuse already awaited coroutine"):
        await pending


async def test_an_error_of_the_work_reaches_the_caller() -> None:
    stop = asyncio.Event()

    async def work() -> None:
        raise TimeoutError

    with pytest.raises(TimeoutError):
        await unless_stopped(work(), stop)


async def test_cancelling_the_caller_cancels_the_work() -> None:
    stop = asyncio.Event()
    poll = EndlessPoll()

    waiting = asyncio.create_task(unless_stopped(poll.run(), stop))
    await poll.started.wait()
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    await asyncio.sleep(0)  # the work's own cancellation runs on the next turn
    assert poll.cancelled.is_set()
