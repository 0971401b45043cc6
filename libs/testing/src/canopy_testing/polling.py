"""Waiting in tests for something another task or process makes true, with a bounded time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 30.0


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    what: str,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    interval_s: float = 0.1,
) -> T:
    """Call ``probe`` until it returns something truthy and return that; fail after a while."""
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                if result := await probe():
                    return result
                await asyncio.sleep(interval_s)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}") from None
