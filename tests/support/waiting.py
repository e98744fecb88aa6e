"""Waiting for a condition with a deadline: tests poll server state, never sleep blindly."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout: float = 10.0, interval: float = 0.05
) -> Any:
    """Poll `check` until it returns a truthy value (returned) or raises no AssertionError."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            result = await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
        else:
            if result:
                return result
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)
